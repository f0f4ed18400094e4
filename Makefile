# servicecircle — `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
OUT    ?= maps/demo

.PHONY: demo test lint bench system-deps venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

venv: $(PY)

# Re-install only when pyproject.toml or the compiled kernel (setup.py builds it) changes.
$(VENV)/.installed-base: pyproject.toml setup.py geo/coverage/_fieldc.c geo/network/_oplc.c geo/network/_oplc_lines.c geo/network/_oplc_values.c geo/network/_oplc.h | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml setup.py geo/coverage/_fieldc.c geo/network/_oplc.c geo/network/_oplc_lines.c geo/network/_oplc_values.c geo/network/_oplc.h | $(PY)
	$(PIP) install -e ".[dev]"
	touch $@ $(VENV)/.installed-base

system-deps:
	bash scripts/system-deps.sh

demo: $(VENV)/.installed-base
	$(PY) -m geo demo --out $(OUT)

test: lint system-deps
	$(PY) -m pytest -q

# ruff (style, complexity C901 <= 12, statements per function PLR0915 <= 50) and mypy
# (lenient on geo/, strict on geo.coverage.core, geo.schema and geo.config): see pyproject.toml
lint: $(VENV)/.installed-dev
	$(PY) -m ruff check geo tests benchmarks scripts
	$(PY) -m ruff format --check geo tests benchmarks scripts
	$(PY) -m mypy

bench: $(VENV)/.installed-dev system-deps
	mkdir -p benchmarks/out
	$(PY) benchmarks/coverage.py --network ../shared/data/wuhan/roads_central/WHroad.shp --sites 300 --json > benchmarks/out/coverage_wuhan.json
	$(PY) benchmarks/coverage.py --nodes 1000000 --sites 2000 --ego-sample 200 --pandana-timeout 600 --json > benchmarks/out/coverage_1m.json
	$(PY) benchmarks/optimize.py --json > benchmarks/out/optimize.json
	$(PY) benchmarks/networks.py --json > benchmarks/out/networks.json
	$(PY) benchmarks/maps.py --json > benchmarks/out/maps.json
	$(PY) benchmarks/engine_speed.py --json > benchmarks/out/engine_speed.json
	$(PY) benchmarks/endtoend.py --network "$$($(PY) -c 'from geo.demo import demo_pbf; print(demo_pbf())')" --sites 200 --communities 3014 --json > benchmarks/out/endtoend.json
	$(PY) benchmarks/report.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis maps/demo tests/artifacts
