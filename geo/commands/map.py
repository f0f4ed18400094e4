"""``servicecircle map``: one interactive HTML map of coverage (and ``--png``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..coverage import compute_coverage
from ..io import write_csv
from ..maps import make_map, save_map, save_png
from ..network import background_for
from ._inputs import config, load
from ._views import views


def cmd_map(a: argparse.Namespace) -> int:
    cfg = config(a)
    net, sites, comms, rejects, boundary = load(a, cfg)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    res, demand, _ = views(a, res, boundary, rejects)
    offline = not a.online  # --offline is the default (the flag is kept for old scripts)
    basemap = a.basemap or ("osm" if a.online else "none")
    rej = Path(a.out).with_name("rejects.csv")
    write_csv(rejects, rej)
    m = make_map(
        res,
        lang=a.lang,
        basemap=basemap,
        offline=offline,
        boundaries=boundary,
        background=background_for(net, a.background),
        tianditu_key=a.tianditu_key,
        views=demand,
        scenario=a.scenario,
        input_crs=sites.input_crs,
    )
    t0 = time.perf_counter()
    info = save_map(m, a.out, offline=offline)
    _print_map(info, time.perf_counter() - t0, offline, basemap, len(rejects), rej, a.lang)
    if a.png:
        p = save_png(res, a.png, tiles=not offline, **m._sc_png)
        print(f"png: {p['path']} ({'tiles' if p['tiles'] else 'plain background'})")
    return 0


def _print_map(info: dict, secs: float, offline: bool, basemap: str, rejected: int, rej: Path,
               lang: str) -> None:  # fmt: skip
    if lang == "zh":
        print(
            f"地图：{info['path']}（{info['size_bytes'] / 1e6:.2f} MB，"
            f"{'离线' if offline else '在线'}，底图 {basemap}，写入用时 {secs:.1f} 秒）"
        )
        print(f"未使用的行：{rejected} 行（见 {rej}）")
    else:
        print(
            f"map: {info['path']} ({info['size_bytes'] / 1e6:.2f} MB, "
            f"{'offline' if offline else 'online'}, basemap {basemap}, {secs:.1f} s to write)"
        )
        print(f"rejected rows: {rejected} (see {rej})")
