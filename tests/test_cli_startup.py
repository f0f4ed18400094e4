"""Start-up of the command line (issue 9/13): answers that need no data (``--help``, argument
errors) load no geopandas, folium or matplotlib; a command loads only what it uses (no folium
for ``coverage --no-map``); every command's lazily named function exists."""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pandas as pd
from conftest import ROOT
from helpers import grid_network

from geo.cli import Command, build_parser
from geo.network import save_graphml

HEAVY = ("geopandas", "folium", "matplotlib")


def _imported(*args: str) -> tuple[int, set[str], str]:
    """Exit code, the heavy packages ``python -m geo ARGS`` imported, and its stderr."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "geo", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    names = {ln.rsplit("|", 1)[-1].strip() for ln in r.stderr.splitlines() if "|" in ln}
    return r.returncode, names & set(HEAVY), r.stderr


def _commands() -> dict[str, object]:
    sub = build_parser()._subparsers._group_actions[0].choices
    return {name: p.get_default("func") for name, p in sub.items()}


def test_help_and_argument_errors_load_nothing_heavy(tmp_path):
    cases = [
        ["--help"],
        *[[name, "--help"] for name in _commands()],
        ["coverage", "--sites", "x.csv"],  # argparse: required options missing
        ["coverage", "--network", "n.osm", "--sites", "s.csv", "--communities", "c.csv",
         "--speed-kmh", "0", "--out", str(tmp_path / "o")],  # geo._checks: exit 2 before work
    ]  # fmt: skip
    for args in cases:
        code, heavy, err = _imported(*args)
        assert code == (0 if "--help" in args else 2), (args, err[-800:])
        assert not heavy, f"{args} imported {sorted(heavy)}"


def test_the_import_check_sees_heavy_packages():
    """The check above can fail: importing a command module does pull in geopandas."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import geo.commands.map"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    names = {ln.rsplit("|", 1)[-1].strip() for ln in r.stderr.splitlines() if "|" in ln}
    assert {"geopandas", "folium"} <= names


def test_every_command_function_exists():
    funcs = _commands()
    assert set(funcs) == {"demo", "network", "coverage", "gaps", "audit", "map", "compare"}
    for name, func in funcs.items():
        assert isinstance(func, Command), name
        mod = importlib.import_module(f"geo.commands.{func.module}")
        assert callable(getattr(mod, func.name)), name


def test_coverage_without_map_loads_no_folium(tmp_path):
    net = grid_network(6, spacing=120.0)
    save_graphml(net, tmp_path / "g.graphml")
    rng = np.random.default_rng(0)
    lon, lat = net.lon, net.lat
    pick = rng.choice(lon.size, 12, replace=False)
    pd.DataFrame({"name": [f"站{i}" for i in range(3)], "kind": "爱心驿站",
                  "lon": lon[pick[:3]], "lat": lat[pick[:3]]}).to_csv(
        tmp_path / "s.csv", index=False)  # fmt: skip
    pd.DataFrame({"name": [f"社区{i}" for i in range(9)], "population": 1000,
                  "lon": lon[pick[3:]] + 0.0003, "lat": lat[pick[3:]]}).to_csv(
        tmp_path / "c.csv", index=False)  # fmt: skip
    out = tmp_path / "out"
    args = ["coverage", "--network", str(tmp_path / "g.graphml"), "--sites",
            str(tmp_path / "s.csv"), "--communities", str(tmp_path / "c.csv"), "--no-cache",
            "--crs", "wgs84", "--out", str(out)]  # fmt: skip
    code, heavy, err = _imported(*args, "--no-map", "--no-isochrones")
    assert code == 0, err[-2000:]
    assert (out / "communities.csv").stat().st_size > 0
    assert "geopandas" in heavy and "folium" not in heavy and "matplotlib" not in heavy
