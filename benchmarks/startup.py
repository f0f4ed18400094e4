"""Start-up of the command line: wall time of ``python -m geo`` for ``--help``, an argument
error and a whole ``coverage`` run on the bundled demo data, and whether the answers that
need no data load geopandas, folium or matplotlib.

``--baseline DIR`` also times another checkout of the repository (e.g. a ``git worktree`` of an
older commit) in the same run, alternating old and new, so machine load hits both alike::

    git worktree add /tmp/base <commit>
    python benchmarks/startup.py --baseline /tmp/base --repeat 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("geopandas", "folium", "matplotlib")


def _cases(inputs: dict[str, Path], tmp: Path) -> dict[str, list[str]]:
    data = ["--network", str(inputs["network"]), "--sites", str(inputs["sites"])]
    data += ["--communities", str(inputs["communities"])]
    return {
        "help": ["--help"],
        "coverage_help": ["coverage", "--help"],
        "missing_argument": ["coverage", "--sites", "x.csv"],
        "bad_value": ["coverage", *data, "--speed-kmh", "0", "--out", str(tmp / "bad")],
        "coverage_no_map": ["coverage", *data, "--no-map", "--no-isochrones", "--out"],
        "coverage": ["coverage", *data, "--out"],
    }


def _run(cwd: Path, args: list[str], out: Path | None) -> tuple[float, int, set[str], float]:
    """Wall seconds, exit code, the heavy packages imported and the seconds spent importing
    (the top-level entries of -X importtime, which include their sub-imports)."""
    cmd = [sys.executable, "-X", "importtime", "-m", "geo", *args]
    if out is not None:
        cmd.append(str(out))
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    rows = [ln.split("|") for ln in r.stderr.splitlines() if ln.startswith("import time:")]
    names = {row[-1].strip() for row in rows}
    top = [row for row in rows[1:] if not row[-1].startswith("  ")]  # rows[0]: the header
    imports_s = sum(int(row[1]) for row in top) / 1e6
    return dt, r.returncode, {h for h in HEAVY if h in names}, imports_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout to compare")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from geo.demo import demo_pbf, write_inputs

    trees = {"new": ROOT} | ({"old": a.baseline.resolve()} if a.baseline else {})
    res: dict = {"repeat": a.repeat, "load_1min": os.getloadavg()[0], "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        inputs = {**write_inputs(tmp_p / "demo"), "network": demo_pbf()}
        for name, args in _cases(inputs, tmp_p).items():
            row: dict = {}
            for i in range(a.repeat):
                for tree, cwd in trees.items():  # alternate: load hits old and new alike
                    out = tmp_p / f"{name}_{tree}_{i}" if args[-1] == "--out" else None
                    dt, code, heavy, imp = _run(cwd, args, out)
                    row.setdefault(tree, {"s": [], "imports_s": [], "exit": code,
                                          "heavy": sorted(heavy)})  # fmt: skip
                    row[tree]["s"].append(round(dt, 3))
                    row[tree]["imports_s"].append(round(imp, 3))
            for r in row.values():
                r["median_s"] = round(statistics.median(r["s"]), 3)
                r["median_imports_s"] = round(statistics.median(r["imports_s"]), 3)
            res["cases"][name] = row
    res["load_1min_end"] = os.getloadavg()[0]
    if a.json:
        print(json.dumps(res, indent=1))
        return
    for name, row in res["cases"].items():
        cells = [f"{t} {r['median_s']:.2f} s, imports {r['median_imports_s']:.2f} s "
                 f"(exit {r['exit']}, {r['heavy'] or 'light'})" for t, r in row.items()]  # fmt: skip
        print(f"{name:18} " + " | ".join(cells))


if __name__ == "__main__":
    main()
