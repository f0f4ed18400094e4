"""``servicecircle network``: build a walking network and write it as GraphML (or .npz)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..config import Config
from ..io import atomic_path
from ..network import build_network, save_graphml
from ._inputs import boundary_of


def cmd_network(a: argparse.Namespace) -> int:
    cfg = Config(
        use_cache=not a.no_cache,
        **({"cache_dir": a.cache_dir} if a.cache_dir else {}),
        **({"boundary_buffer_m": a.buffer_m} if a.buffer_m is not None else {}),
    )
    boundary = boundary_of(a.boundary, crs=a.boundary_crs) if a.boundary else None
    t0 = time.perf_counter()
    net = build_network(
        a.source,
        config=cfg,
        boundary=boundary,
        crs=a.network_crs,
        noding=a.noding,
        largest_component=a.largest_component,
        keep_islands=a.keep_islands,
    )
    out = Path(a.out)
    if out.suffix.lower() == ".npz":
        with atomic_path(out) as tmp:
            net.save_npz(tmp)
    else:
        save_graphml(net, out)
    s = net.summary()
    print(
        f"{s['nodes']:,} nodes, {s['edges']:,} edges, {s['length_km']:,.1f} km, "
        f"{s['components']} connected piece(s); metric CRS {s['metric_crs']}; "
        f"{time.perf_counter() - t0:.2f} s -> {out}"
    )
    return 0
