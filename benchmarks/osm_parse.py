"""OSM parsing, ``network --boundary`` and GraphML export, one figure per process.

The same script measures the code it imports, so an old checkout is measured by running it with
``PYTHONPATH=<checkout>`` (the figures in ``RESULTS.md`` compare 31ef520 with main this way)::

    python benchmarks/osm_parse.py parse PBF
    python benchmarks/osm_parse.py county PBF BOUNDARIES ROW     # build_network(boundary=row)
    python benchmarks/osm_parse.py graphml PBF OUT.graphml        # parse, then save_graphml (timed)

Prints one JSON object: wall and CPU seconds, peak RSS, network size and the load average.
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["parse", "county", "graphml"])
    ap.add_argument("pbf")
    ap.add_argument("extra", nargs="*", help="county: BOUNDARIES ROW; graphml: OUT.graphml")
    a = ap.parse_args()

    import geo
    from geo.config import Config
    from geo.network import build_network, save_graphml

    cfg = Config(use_cache=False)
    t0, c0 = time.perf_counter(), time.process_time()
    if a.what == "county":
        import geopandas as gpd

        row = gpd.read_file(a.extra[0]).iloc[[int(a.extra[1])]]
        net = build_network(a.pbf, config=cfg, boundary=row)
    else:
        net = build_network(a.pbf, config=cfg)
    if a.what == "graphml":
        t0, c0 = time.perf_counter(), time.process_time()
        save_graphml(net, a.extra[0])
    print(
        json.dumps(
            {
                "what": a.what,
                "geo": geo.__file__,
                "wall_s": round(time.perf_counter() - t0, 2),
                "cpu_s": round(time.process_time() - c0, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "nodes": int(net.n_nodes),
                "edges": int(net.n_edges),
                "load": open("/proc/loadavg").read().split()[:3],
            }
        )
    )


if __name__ == "__main__":
    main()
