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

# Re-install only when pyproject.toml changes.
$(VENV)/.installed-base: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e ".[dev]"
	touch $@ $(VENV)/.installed-base

system-deps:
	bash scripts/system-deps.sh

demo: $(VENV)/.installed-base
	$(PY) -m geo demo --out $(OUT)

test: $(VENV)/.installed-dev system-deps
	$(PY) -m pytest -q

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check geo tests benchmarks scripts
	$(PY) -m ruff format --check geo tests benchmarks scripts

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/coverage.py --nodes 1000000 --sites 2000 --json
	$(PY) benchmarks/optimize.py --json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis maps/demo tests/artifacts
