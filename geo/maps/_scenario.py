"""Scenario mode ("what-if" in the meeting room) for the offline HTML map.

The map embeds the walking network compactly and a small JavaScript engine
(``geo/maps/scenario.js``) that runs the same walk model as :mod:`geo.coverage.core`:
points sit on edges with straight access legs, a multi-source Dijkstra (binary heap, bounded
by the longest walk limit) gives every node its distance to the nearest open site, and a
community's distance is the shorter way round its edge (or straight along it when a site
shares the edge). The planner adds, moves, closes and reopens sites; the page recolours the
communities, redraws the edited site's walking area and updates the summary.

Encoding (all little-endian, base64):

* edge geometry: WGS84 degrees quantised to 1e-7 (about 1 cm), delta-encoded over the flat
  coordinate array, zig-zag varints; per-edge point counts as varints;
* edge ends ``u`` (delta over edges) and ``v - u``: zig-zag varints;
* edge lengths, community/site offsets ``t`` and access legs: float64, so the browser adds
  the very same numbers the Python engine adds;
* community edges: varints of ``edge + 1`` (0: no edge).

Data goes into the page only as JSON inside ``<script type="application/json">`` (with ``<``
escaped), and the page sets every piece of user text with ``textContent``.
"""

from __future__ import annotations

import base64
import json
import logging
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from .. import crs as _crs
from .. import schema
from ..coverage.core import EPS_M
from ..io import BUILTIN_KINDS
from ..network import ZERO_LENGTH_M
from ._labels import KIND_COLOURS, kind_colour, label
from ._payload import RawHTML

if TYPE_CHECKING:
    import folium

    from ..coverage import CoverageResult

logger = logging.getLogger(__name__)

#: Size budget of a map with scenario mode on (bytes), checked before embedding.
SCENARIO_BUDGET_BYTES = 8_000_000
#: Coordinate quantum of the embedded geometry, in degrees (1e-7 deg ~ 1.1 cm).
QUANTUM_DEG = 1e-7
DATA_ID = "sc-scenario-data"


# -- compact encodings ------------------------------------------------------------------------
def zigzag(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.int64)
    return ((a << 1) ^ (a >> 63)).astype(np.uint64)


def varint_bytes(vals: np.ndarray) -> bytes:
    """LEB128 varints of non-negative integers (vectorised)."""
    v = np.asarray(vals, np.uint64)
    if v.size == 0:
        return b""
    nb = np.ones(v.size, np.int64)
    for k in range(1, 10):
        nb += v >= np.uint64(1) << np.uint64(7 * k)
    start = np.r_[0, np.cumsum(nb)[:-1]]
    out = np.zeros(int(nb.sum()), np.uint8)
    for k in range(int(nb.max())):
        sel = nb > k
        byte = (v[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (nb[sel] > k + 1).astype(np.uint64) << np.uint64(7)
        out[start[sel] + k] = (byte | more).astype(np.uint8)
    return out.tobytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _f64(a: np.ndarray) -> str:
    return b64(np.ascontiguousarray(a, dtype="<f8").tobytes())


def _delta_varint(q: np.ndarray) -> str:
    q = np.asarray(q, np.int64)
    return b64(varint_bytes(zigzag(np.diff(q, prepend=0))))


def encode_network(net) -> dict[str, Any]:
    """The network's edges, lengths and geometry in the compact form the page decodes."""
    qlon = np.round(net.geom_lon / QUANTUM_DEG).astype(np.int64)
    qlat = np.round(net.geom_lat / QUANTUM_DEG).astype(np.int64)
    u = net.edge_u.astype(np.int64)
    v = net.edge_v.astype(np.int64)
    return {
        "n_nodes": net.n_nodes,
        "n_edges": net.n_edges,
        "quantum_deg": QUANTUM_DEG,
        "edge_u": _delta_varint(u),
        "edge_dv": b64(varint_bytes(zigzag(v - u))),
        "length": _f64(net.length),
        "geom_count": b64(varint_bytes(np.diff(net.geom_offsets).astype(np.uint64))),
        "geom_lon": _delta_varint(qlon),
        "geom_lat": _delta_varint(qlat),
    }


def estimate_bytes(net, n_communities: int, n_sites: int) -> int:
    """A quick upper estimate of what scenario mode adds to the page (bytes)."""
    pts = int(net.geom_lon.size)
    raw = 6 * pts + 8 * net.n_edges + 6 * net.n_edges + 2 * net.n_edges
    return int(raw * 4 / 3) + 160 * n_communities + 220 * n_sites + 40_000


def _input_coords(sites, crs_name: str) -> tuple[np.ndarray, np.ndarray]:
    if "src_x" in sites.columns and crs_name != "wgs84":
        return sites["src_x"].to_numpy(float), sites["src_y"].to_numpy(float)
    g = sites.geometry.to_crs(4326).to_numpy()
    lon, lat = shapely.get_x(g), shapely.get_y(g)
    if crs_name == "wgs84":
        return lon, lat
    return _crs.from_wgs84(lon, lat, crs_name)


def _crs_name(input_crs: object) -> str:
    if input_crs is None:
        return "wgs84"
    parsed = _crs.parse_crs(input_crs)
    if isinstance(parsed, str):
        return parsed
    return "wgs84" if parsed.equals(4326) else "other"


def _walk_levels(cfg) -> list[dict[str, float]]:
    return [
        {"level": k, "limit_m": float(v), "minutes": float(v / cfg.metres_per_minute)}
        for k, v in cfg.levels.items()
    ]


def _settings(res: CoverageResult, lang: str, gcj: bool, crs_name: str) -> dict[str, Any]:
    """The walk model's settings and the map's colour classes."""
    from . import CLASS_COLOURS, UNREACHABLE, walk_classes

    net, cfg = res.network, res.config
    levels = _walk_levels(cfg)
    classes = walk_classes(sorted(x["minutes"] for x in levels))
    return {
        "version": 1,
        "lang": lang,
        "gcj": bool(gcj),
        "input_crs": crs_name,
        "utm_zone": int(net.metric_crs.to_epsg() % 100),
        "utm_south": bool(net.metric_crs.to_epsg() // 100 == 327),
        "levels": levels,
        "main_level": cfg.main_level,
        "limit_m": float(cfg.limit_m),
        "max_snap_m": float(cfg.max_snap_m),
        "metres_per_minute": float(cfg.metres_per_minute),
        "eps_m": EPS_M,
        "zero_m": ZERO_LENGTH_M,
        "classes": [[m if np.isfinite(m) else None, c] for m, c in classes],
        "class_colours": CLASS_COLOURS,
        "unreachable_colour": UNREACHABLE,
    }


def _communities(res: CoverageResult, lang: str) -> dict[str, Any]:
    """Community points (WGS84), their snap onto the network and their popup extras."""
    comm, cs = res.communities, res.community_snap
    pts = np.asarray(comm.geometry.to_numpy())
    if len(pts):
        pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
    clon, clat = shapely.get_x(pts), shapely.get_y(pts)
    return {
        "id": comm["community_id"].astype(str).tolist(),
        "name": comm["name"].astype(str).tolist(),
        "population": _f64(comm["population"].to_numpy(float)),
        "lon": np.round(clon, 6).tolist(),
        "lat": np.round(clat, 6).tolist(),
        "edge": b64(varint_bytes((cs.edge + 1).astype(np.uint64))),
        "t": _f64(np.nan_to_num(cs.t, nan=0.0)),
        "leg": _f64(np.nan_to_num(cs.leg, nan=np.inf)),
        "off": comm["off_network"].astype(bool).astype(int).tolist(),
        # registered metrics (geo.schema): label + preformatted text per community
        "extra": [
            {
                "label": schema.header(n, lang),
                "values": [schema.format_value(n, v, lang) for v in comm[n]],
            }
            for n in schema.popup_extra("communities", comm.columns)
        ],
    }


def _site_kinds(sites) -> list[str]:
    n_s = len(sites)
    return (
        sites["kind"].astype(str).to_numpy() if "kind" in sites else np.full(n_s, "station")
    ).tolist()


def _sites(res: CoverageResult, crs_name: str) -> dict[str, Any]:
    """Sites in WGS84 and in the input's system, their snap and whether they are usable."""
    sites, ss = res.sites, res.site_snap
    n_s = len(sites)
    sg = sites.geometry.to_crs(4326).to_numpy() if n_s else np.zeros(0, object)
    slon, slat = shapely.get_x(sg), shapely.get_y(sg)
    sx, sy = _input_coords(sites, crs_name if crs_name != "other" else "wgs84") if n_s else ((), ())
    usable = np.zeros(n_s, bool)
    usable[res.usable_sites] = True
    return {
        "id": (sites["site_id"] if "site_id" in sites else sites.index).astype(str).tolist(),
        "name": (sites["name"] if "name" in sites else sites.index).astype(str).tolist(),
        "kind": _site_kinds(sites),
        "lon": np.asarray(slon, float).tolist(),
        "lat": np.asarray(slat, float).tolist(),
        "src_lon": np.asarray(sx, float).tolist(),
        "src_lat": np.asarray(sy, float).tolist(),
        "edge": (ss.edge.astype(np.int64)).tolist(),
        "t": _f64(np.nan_to_num(ss.t, nan=0.0)),
        "leg": _f64(np.nan_to_num(ss.leg, nan=np.inf)),
        "usable": usable.astype(int).tolist(),
    }


def _kinds(kinds: list[str], lang: str) -> list[dict[str, str]]:
    """The four built-in kinds first, then the others in name order, with label and colour."""
    all_kinds = list(BUILTIN_KINDS) + sorted(set(kinds) - set(BUILTIN_KINDS))
    return [
        {"kind": k, "label": label(lang, k), "colour": kind_colour(k, all_kinds)} for k in all_kinds
    ]


def scenario_payload(
    res: CoverageResult, *, lang: str = "zh", gcj: bool = False, input_crs: object = None
) -> dict[str, Any]:
    """Everything the page's engine needs, as a JSON-ready dict."""
    crs_name = _crs_name(input_crs)
    sites = _sites(res, crs_name)
    return {
        **_settings(res, lang, gcj, crs_name),
        "network": encode_network(res.network),
        "communities": _communities(res, lang),
        "sites": sites,
        "kinds": _kinds(sites["kind"], lang),
        "text": _texts(lang),
        "kind_colours": KIND_COLOURS,
    }


#: The panel's texts (a table of strings, kept as data rather than in a function).
_TEXTS_ZH = {
    "panel": "方案推演",
    "add": "点击地图添加",
    "adding": "在地图上点击放置新站点…",
    "undo": "撤销",
    "reset": "重置",
    "export": "导出方案",
    "edits": "调整记录",
    "none": "尚无调整：选择类型后点“点击地图添加”，拖动站点可移动，点击站点可关闭/恢复。",
    "added": "新增",
    "moved": "移动",
    "closed": "关闭",
    "reopened": "恢复",
    "sites_unit": "处",
    "coverage": "覆盖率",
    "communities": "覆盖社区",
    "population": "覆盖人口",
    "level": "步行",
    "minutes": "分钟",
    "baseline": "现状",
    "now": "方案",
    "off_network": "离道路过远，未计入",
    "new_site": "新站点",
    "close": "关闭此站点",
    "reopen": "恢复此站点",
    "ms": "计算用时",
    "beyond": "超出步行范围",
    "kind": "类型",
    "crs_note": "导出坐标系",
    "iso_note": "粗线：各站点步行可达的街道（主级别），随调整即时更新",
}

_TEXTS_EN = {
    "panel": "What-if scenario",
    "add": "Click map to add",
    "adding": "Click on the map to place the new site…",
    "undo": "Undo",
    "reset": "Reset",
    "export": "Export scenario",
    "edits": "Edits",
    "none": "No edits yet: choose a kind and click 'Click map to add'; drag a site to "
    "move it; click a site to close or reopen it.",
    "added": "added",
    "moved": "moved",
    "closed": "closed",
    "reopened": "reopened",
    "sites_unit": "sites",
    "coverage": "coverage",
    "communities": "communities covered",
    "population": "population covered",
    "level": "walk",
    "minutes": "min",
    "baseline": "baseline",
    "now": "scenario",
    "off_network": "too far from any street, not counted",
    "new_site": "New site",
    "close": "Close this site",
    "reopen": "Reopen this site",
    "ms": "computed in",
    "beyond": "beyond walking range",
    "kind": "Kind",
    "crs_note": "export coordinates",
    "iso_note": "Thick lines: streets each site reaches on foot (main level), live",
}


def _texts(lang: str) -> dict[str, str]:
    return dict(_TEXTS_ZH if lang == "zh" else _TEXTS_EN)


def engine_source() -> str:
    """The page's JavaScript (the engine and the panel), from the package data."""
    src = resources.files("geo.maps").joinpath("scenario.js").read_text(encoding="utf-8")
    if "</script" in src.lower():  # pragma: no cover - guards the inlining below
        raise RuntimeError("scenario.js must not contain a closing script tag")
    return src


def json_for_html(obj: Any) -> str:
    """JSON safe to place inside a ``<script type="application/json">`` element."""
    s = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _off_notice(lang: str, size_mb: float, budget_mb: float) -> str:
    if lang == "zh":
        return (
            f"方案推演未开启：加入路网后地图约 {size_mb:.1f} MB，超过 {budget_mb:.0f} MB 上限。"
            "如需开启，请在命令中加上 --scenario（强制开启，文件会较大）。"
        )
    return (
        f"Scenario mode is off: with the network the map would be about {size_mb:.1f} MB, "
        f"over the {budget_mb:.0f} MB budget. Add --scenario to the command to turn it on "
        "anyway (larger file)."
    )


def json_bytes(obj: Any) -> int:
    """Size of ``obj`` as JSON (bytes), for the size estimate."""
    return len(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8"))


def wants(
    m: folium.Map,
    res: CoverageResult,
    mode: bool | None,
    budget_bytes: int = 0,
    extra_bytes: int = 0,
) -> bool:
    """Whether scenario mode goes in: always when ``mode`` is True; when None, only if the map
    (as drawn so far, plus ``extra_bytes`` of layers still to come, plus the embedded network)
    stays within the budget."""
    if mode is True:
        return True
    if mode is False:
        return False
    budget = budget_bytes or SCENARIO_BUDGET_BYTES
    from ._offline import inline_assets

    base = len(inline_assets(m.get_root().render()).encode("utf-8")) + extra_bytes
    est = base + estimate_bytes(res.network, len(res.communities), len(res.sites))
    m.__dict__["_sc_estimate"] = est
    return est <= budget


def add_scenario(
    m: folium.Map,
    res: CoverageResult,
    *,
    on: bool,
    lang: str = "zh",
    gcj: bool = False,
    input_crs: object = None,
    budget_bytes: int = 0,
) -> bool:
    """Embed scenario mode into ``m`` (``on``), or a notice saying it is off and how to turn
    it on (when the size budget ruled it out). Returns ``on``."""
    if not on:
        est = m.__dict__.get("_sc_estimate", 0)
        note = _off_notice(lang, est / 1e6, (budget_bytes or SCENARIO_BUDGET_BYTES) / 1e6)
        logger.warning(note)
        data: dict[str, Any] = {"notice": note}
    else:
        data = scenario_payload(res, lang=lang, gcj=gcj, input_crs=input_crs)
        data["map"] = m.get_name()
    m.get_root().html.add_child(
        RawHTML(f"<script type='application/json' id='{DATA_ID}'>{json_for_html(data)}</script>")
    )
    m.get_root().html.add_child(RawHTML(f"<script>{engine_source()}</script>"))
    return on


class InlineMap:
    """A map that shows inline in Jupyter as the offline page itself (Leaflet inlined, in a
    sandboxed ``iframe srcdoc``), so it works with no internet, like the saved file."""

    def __init__(self, m: folium.Map, height: int = 620) -> None:
        self.map = m
        self.height = int(height)

    def html(self) -> str:
        from ._offline import inline_assets

        return inline_assets(self.map.get_root().render())

    def _repr_html_(self) -> str:
        import html as _html

        return (
            f'<iframe srcdoc="{_html.escape(self.html(), quote=True)}" '
            f'style="width:100%;height:{self.height}px;border:1px solid #ddd" '
            'sandbox="allow-scripts allow-downloads"></iframe>'
        )

    def save(self, path) -> dict[str, Any]:
        from . import save_map

        return save_map(self.map, path)


def scenario(res: CoverageResult, **kwargs: Any) -> InlineMap:
    """The interactive what-if map of a coverage run, shown inline in a notebook.

    Keyword arguments go to :func:`geo.maps.make_map` (``lang``, ``title``, ``input_crs``...).
    """
    from . import make_map

    kwargs.setdefault("basemap", "none")
    kwargs.setdefault("offline", True)
    kwargs.setdefault("scenario", True)
    return InlineMap(make_map(res, **kwargs))


def inline(m: folium.Map, height: int = 620) -> InlineMap:
    """Show any map inline in a notebook, offline (Leaflet inlined)."""
    return InlineMap(m, height)
