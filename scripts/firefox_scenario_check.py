"""Check the scenario editor in Firefox: scripted edits against the Python engine.

Not part of ``make test``: Debian has Firefox ESR but no geckodriver, so this drives Firefox over
its own Marionette protocol. Run it by hand::

    apt-get install firefox-esr && .venv/bin/pip install marionette_driver
    .venv/bin/python scripts/firefox_scenario_check.py [--network ../shared/data/wuhan/optics_valley.osm]

It builds an offline scenario map of a real network, applies 24 scripted edits (add, move,
close, reopen) through ``window.servicecircle`` in headless Firefox, and after every edit compares
each community's walk distance (within 1 m) and covered flag with ``compute_coverage`` on the same
site list (the same check as ``tests/test_scenario_browser.py`` does in Chromium).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from scenario_util import (  # noqa: E402
    apply,
    compare_with_python,
    near_streets,
    page_sites,
    scripted_edits,
)

from geo.config import Config  # noqa: E402
from geo.coverage import compute_coverage  # noqa: E402
from geo.maps import make_map, save_map  # noqa: E402
from geo.network import build_network  # noqa: E402


class _Driver:
    """The two calls scenario_util needs, on a Marionette session."""

    def __init__(self, marionette) -> None:
        self.m = marionette

    def execute_script(self, script: str, *args):
        return self.m.execute_script(script, script_args=list(args), sandbox=None)


def _scenario_map(network: Path, out: Path):
    cfg = Config(cache_dir=out / "cache")
    net = build_network(network, config=cfg)
    rng = np.random.default_rng(14)
    comms = near_streets(net, 400, rng)
    comms["community_id"] = [f"C{i}" for i in range(len(comms))]
    comms["name"] = [f"社区{i}" for i in range(len(comms))]
    comms["population"] = rng.integers(200, 5000, len(comms)).astype(float)
    n_s = max(8, net.n_edges // 300 // 2 * 2)
    sites = near_streets(net, n_s, rng)
    sites["site_id"] = [f"S{i}" for i in range(len(sites))]
    sites["name"] = [f"驿站{i}" for i in range(len(sites))]
    sites["kind"] = ["station", "integrated"] * (n_s // 2)
    res = compute_coverage(net, sites, comms, config=cfg)
    path = out / "map.html"
    save_map(make_map(res, basemap="none", offline=True, scenario=True), path)
    return path, net, comms, cfg


def main() -> int:
    from marionette_driver.marionette import Marionette

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default=str(ROOT.parent / "shared/data/wuhan/optics_valley.osm"))
    ap.add_argument("--edits", type=int, default=24)
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="sc-firefox-"))
    path, net, comms, cfg = _scenario_map(Path(a.network), out)
    (out / "profile").mkdir()
    ff = subprocess.Popen(
        [
            "firefox-esr",
            "--headless",
            "--marionette",
            "--no-remote",
            "--profile",
            str(out / "profile"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(4)
        mm = Marionette(host="127.0.0.1", port=2828)
        mm.start_session()
        caps = mm.session_capabilities
        print(f"browser: {caps['browserName']} {caps['browserVersion']}")
        mm.navigate(path.as_uri())
        d = _Driver(mm)
        for _ in range(50):
            if d.execute_script("return !!window.servicecircle"):
                break
            time.sleep(0.2)
        first = compare_with_python(d, net, comms, cfg)
        ids = [s["id"] for s in page_sites(d)]
        ops = scripted_edits(np.random.default_rng(7), net, a.edits, ids)
        errs = []
        for op in ops:
            apply(d, op)
            errs.append(compare_with_python(d, net, comms, cfg)["max_err_m"])
        print(
            f"{len(errs)} edits ({', '.join(sorted({o[0] for o in ops}))}); "
            f"{first['compared']} communities within the limit at the start; "
            f"largest difference from Python {max(errs):.2e} m; covered flags equal after every edit"
        )
        print("summary:", d.execute_script("return window.servicecircle.summary()")["text"])
        mm.delete_session()
    finally:
        ff.terminate()
        ff.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
