"""OSM parsing, ``network --boundary`` and GraphML export, one figure per process.

The same script measures the code it imports, so an old checkout is measured by running it with
``PYTHONPATH=<checkout>`` (the figures in ``RESULTS.md`` compare 31ef520 with main this way)::

    python benchmarks/osm_parse.py parse PBF
    python benchmarks/osm_parse.py county PBF BOUNDARIES ROW     # build_network(boundary=row)
    python benchmarks/osm_parse.py graphml PBF OUT.graphml        # parse, then save_graphml (timed)
    python benchmarks/osm_parse.py opl OPL                         # _ways_from_opl on an OPL dump

``--numpy`` forces the NumPy OPL path where the compiled parser (geo/network/_oplc.c) is built;
``--threads N`` sets the compiled parser's threads (default: 2 where there are 2 cores).
An OPL dump is libosmium's text for a PBF (``geo.network._osm._opl_text``), read with
``Path.read_bytes()`` before the clock starts.

Prints one JSON object: wall and CPU seconds, peak RSS, network size and the load average.
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["parse", "county", "graphml", "opl"])
    ap.add_argument("pbf", help="the PBF (opl: an OPL dump)")
    ap.add_argument("extra", nargs="*", help="county: BOUNDARIES ROW; graphml: OUT.graphml")
    ap.add_argument("--numpy", action="store_true", help="force the NumPy OPL path")
    ap.add_argument("--threads", type=int, help="threads of the compiled OPL parser")
    a = ap.parse_args()

    import geo
    from geo.config import Config
    from geo.network import build_network, save_graphml

    parser = "numpy"
    try:
        from geo.network import _opl

        if a.numpy:
            _opl.PARSER = None
        if a.threads:
            _opl.OPL_THREADS = a.threads
        parser = "numpy" if _opl.PARSER is None else "compiled"
    except ImportError:  # a checkout from before the compiled parser
        pass
    if a.what == "opl":
        _opl_only(a.pbf, parser + (f", {a.threads} threads" if a.threads else ""))
        return
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
                "opl_parser": parser,
                "wall_s": round(time.perf_counter() - t0, 2),
                "cpu_s": round(time.process_time() - c0, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "nodes": int(net.n_nodes),
                "edges": int(net.n_edges),
                "load": open("/proc/loadavg").read().split()[:3],
            }
        )
    )


def _opl_only(path: str, parser: str) -> None:
    from pathlib import Path

    import geo
    from geo.network._osm import _ways_from_opl

    data = Path(path).read_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    ways = _ways_from_opl(data)
    print(
        json.dumps(
            {
                "what": "opl",
                "geo": geo.__file__,
                "opl_parser": parser,
                "wall_s": round(time.perf_counter() - t0, 3),
                "cpu_s": round(time.process_time() - c0, 3),
                "opl_mb": round(len(data) / 2**20),
                "ways": int(ways.osmid.size),
                "vertices": int(ways.ref.size),
                "load": open("/proc/loadavg").read().split()[:3],
            }
        )
    )


if __name__ == "__main__":
    main()
