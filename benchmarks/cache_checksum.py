"""What the cache checksum costs (issue 11.4): median load time of a cached network with and
without verification, for the road files in ../shared/data.

    python benchmarks/cache_checksum.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from geo.config import Config
from geo.network import Network, _cache, build_network

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT.parent / "shared" / "data" / "wuhan" / "roads_central" / "WHroad.shp",
    ROOT.parent / "shared" / "data" / "wuhan" / "roads_main" / "osmWHmainRoad.shp",
    ROOT.parent / "shared" / "data" / "shanghai" / "shanghai_center.osm",
]


def median_ms(fn, n: int = 30) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    print(
        "| source | nodes | entry MB | load_npz, no check (ms) | verified load (ms) | "
        "build_network from cache (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for src in SOURCES:
        if not src.exists():
            continue
        with tempfile.TemporaryDirectory() as d:
            cfg = Config(cache_dir=Path(d))
            net = build_network(src, config=cfg)
            entry = next(Path(d).glob("*.npz"))
            raw = median_ms(lambda e=entry: Network.load_npz(e))
            checked = median_ms(lambda e=entry: _cache.load(e))
            whole = median_ms(lambda s=src, c=cfg: build_network(s, config=c))
            print(
                f"| {src.name} | {net.n_nodes:,} | {entry.stat().st_size / 1e6:.1f} | "
                f"{raw:.1f} | {checked:.1f} | {whole:.1f} |"
            )


if __name__ == "__main__":
    main()
