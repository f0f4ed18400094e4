"""Interactive HTML maps for meetings (folium/Leaflet), offline by default.

:func:`make_map` draws a coverage run: one layer per site kind, isochrones per level,
communities coloured by walk time, proposed gap sites, county boundaries, a vector background
(water, parks, railways, streets and their names), a legend, a layer control, a metric scale,
a title and a summary box.

Data never becomes page source: every layer travels as JSON in one
``<script type="application/json">`` element and the page's own script (``sc_map.js``) builds
markers, popups, tooltips, labels and panels with ``textContent``.
:func:`save_map` writes it, with Leaflet inlined (``offline=True``) so it opens with no network.

Hook for add-ons (e.g. a scenario editor): pass ``plugins=[fn]`` to :func:`make_map`; each
``fn(map, payload)`` may append layer texts to ``payload["layers"]`` or keys to
``payload["meta"]`` before the page is built, and in the browser ``window.scMap``
(``{map, data, layers}``) and the ``sc:ready`` document event give access to the drawn map.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from ..io import atomic_path
from . import _layers, _scenario
from ._labels import kind_colour, label
from ._offline import inline_assets
from ._payload import MAX_COMMUNITY_POINTS, RawHTML, payload_script
from ._scenario import inline as inline_map  # notebooks: any map inline, offline
from ._scenario import scenario as scenario_map  # notebooks: the what-if editor inline
from ._text import run_title, text

if TYPE_CHECKING:
    from ..coverage import CoverageResult

logger = logging.getLogger(__name__)

__all__ = [
    "BASEMAPS",
    "MAX_COMMUNITY_POINTS",
    "inline_map",
    "make_map",
    "robust_bounds",
    "run_title",
    "save_map",
    "save_png",
    "scenario_map",
    "walk_time_colour",
]

#: Above this many sites, isochrones are drawn unioned per kind instead of one per site, so a
#: county map with thousands of sites stays small (a few MB) and quick to open.
MAX_SITE_ISOCHRONES = 300

Basemap = Literal["osm", "amap", "tianditu", "none"]
BASEMAPS: dict[str, dict[str, Any]] = {
    "osm": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": "© OpenStreetMap contributors",
        "gcj02": False,
    },
    "amap": {
        "tiles": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
        "&style=8&x={x}&y={y}&z={z}",
        "attr": "© 高德地图 AutoNavi",
        "subdomains": "1234",
        "gcj02": True,
    },
    "tianditu": {
        "tiles": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "labels": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "attr": "© 天地图 Tianditu",
        "subdomains": "01234567",
        "gcj02": False,
    },
}
#: Colours of the walk-time classes, nearest first; the last is "beyond every level".
CLASS_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
UNREACHABLE = "#7f7f7f"


def walk_classes(level_minutes: list[float]) -> list[tuple[float, str]]:
    """(upper bound in minutes, colour) for communities, from the run's levels."""
    mins = sorted(level_minutes)[: len(CLASS_COLOURS) - 1]
    cols = CLASS_COLOURS[: len(mins)] + [CLASS_COLOURS[-1]]
    return list(zip([*mins, np.inf], cols, strict=True))


def walk_time_colour(
    minutes: float, classes: list[tuple[float, str]], off_network: bool = False
) -> str:
    if off_network or not np.isfinite(minutes):
        return UNREACHABLE
    return next(c for lim, c in classes if minutes <= lim + 1e-9)


def _classes(res):
    cfg = res.config
    return walk_classes([lim / cfg.metres_per_minute for lim in cfg.levels.values()])


def main_minutes(res) -> float:
    """The run's main walking time in minutes (e.g. 15, or 5 for the demo)."""
    cfg = res.config
    return float(cfg.limit_m / cfg.metres_per_minute)


def robust_bounds(res, boundaries: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """``[minlon, minlat, maxlon, maxlat]`` to show: the data's extent without outliers
    (communities and sites, padded), so one mistyped point (Beijing in a Wuhan file) never
    shrinks the study area to a dot, kept within the county boundary's box; the boundary's box
    when there is no data inside it."""
    box = None
    if boundaries is not None and len(boundaries):
        box = np.asarray(boundaries.to_crs(4326).total_bounds, float)
    pts = []
    for g in (res.communities, res.sites):
        if g is not None and len(g):
            p = np.asarray(g.geometry.to_numpy())
            p = np.where(shapely.get_type_id(p) == 0, p, shapely.point_on_surface(p))
            pts.append(shapely.get_coordinates(p))
    if not pts:
        if box is not None:
            return box
        net = res.network
        return np.array([net.lon.min(), net.lat.min(), net.lon.max(), net.lat.max()], float)
    xy = np.concatenate(pts)
    xy = xy[np.isfinite(xy).all(axis=1)]
    # drop outliers: points farther from the median than 3x the 90th-percentile distance
    # (and at least ~2 km), so a mistyped point (Beijing in a Wuhan file) cannot blank the map
    med = np.median(xy, axis=0)
    d = np.abs(xy - med)
    keep = (d <= np.maximum(3 * np.percentile(d, 90, axis=0), 0.02)).all(axis=1)
    xy = xy[keep] if keep.any() else xy
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((hi - lo) * 0.05, 0.002)
    lo, hi = lo - pad, hi + pad
    if box is not None:
        lo, hi = np.maximum(lo, box[:2]), np.minimum(hi, box[2:])
        if (lo >= hi).any():  # the data lie outside the county: show the county
            return box
    return np.concatenate([lo, hi])


def summary_numbers(res, in_area: np.ndarray | None = None) -> dict[str, Any]:
    """The numbers of the summary box, from the same table as ``summary.json``/``summary.csv``."""
    s = res.summary
    sites = int(len(res.sites) if in_area is None else np.asarray(in_area, bool).sum())
    return {
        "population": s.get("population"),
        "population_covered": s.get("population_covered"),
        "population_covered_share": s.get("population_covered_share", 0.0),
        "communities": s.get("communities"),
        "communities_covered": s.get("communities_covered"),
        "sites": sites,
    }


def _esc(x: Any) -> str:
    """Text safe both as HTML and inside a JavaScript template string (folium puts Tooltip and
    Popup text into backtick strings): HTML-escaped, and backtick, ``$`` and backslash as
    character references. Kept for add-on layers that still use folium tooltips; new layers
    pass data as JSON instead."""
    import html

    s = html.escape("" if x is None else str(x), quote=True)
    s = s.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
    return s.replace("{", "&#123;").replace("}", "&#125;")


def _shift(geoms: np.ndarray, gcj: bool, precision: int = 6) -> np.ndarray:
    return _layers.shift(geoms, gcj, precision)


def _fmt(x: Any, nd: int = 0) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "" if x is None else str(x)
    return "—" if not np.isfinite(v) else f"{v:,.{nd}f}"


def make_map(
    res: CoverageResult,
    *,
    lang: str = "zh",
    basemap: Basemap = "none",
    offline: bool = True,
    isochrones: gpd.GeoDataFrame | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    proposal_summary: dict[str, Any] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    background: gpd.GeoDataFrame | None = None,
    site_in_area: np.ndarray | None = None,
    numbers: dict[str, Any] | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    summary_lines: list[str] | None = None,
    tianditu_key: str | None = None,
    max_street_edges: int = 60_000,
    max_community_points: int = MAX_COMMUNITY_POINTS,
    plugins: Sequence[Callable[[folium.Map, dict[str, Any]], None]] = (),
    views: Any = None,
    scenario: bool | None = False,
    input_crs: object = None,
) -> folium.Map:
    """Build the interactive map of a coverage run.

    Parameters
    ----------
    res
        The coverage result.
    lang
        ``"zh"`` (default) or ``"en"`` labels.
    basemap
        ``"none"`` (default: the vector background only), ``"osm"``, ``"amap"`` (GCJ-02
        tiles: every overlay is shifted to GCJ-02 to line up) or ``"tianditu"`` (needs
        ``tianditu_key`` or ``$TIANDITU_KEY``). Tiles need the internet.
    offline
        Draw the vector background (streets, their names, and ``background``): works with no
        network. Always on when ``basemap="none"``.
    isochrones
        Polygons from :meth:`CoverageResult.isochrones` (computed when omitted).
    proposals
        Proposed sites with ``rank`` and ``newly_covered_population`` (and, when present,
        ``proposal_id``, ``name``, ``location_desc``, ``lon_gcj02``/``lat_gcj02``,
        ``amap_url``). ``rank`` 0 or ``purpose == "cultural_palace"`` marks the proposed
        cultural palace, drawn with its own symbol.
    proposal_summary
        ``new_sites``, ``covered_population_before``/``_after`` and ``population`` for the
        "5 new sites -> 69.0% to 98.2%" line (a proposal's ``summary``).
    boundaries
        County boundaries (any CRS) with a ``county`` column; also the map's extent.
    background
        Extra background features (WGS84 or any CRS) with a ``bg`` column (``water``,
        ``park``, ``rail``, ``place``, ``district``) and optionally ``name``; see
        :func:`geo.network.read_background`.
    site_in_area
        Boolean per site: ``False`` draws the site grey as a neighbouring-county site (it
        counts for coverage, not for the county's targets or the site count).
    numbers
        Summary-box numbers (``population``, ``population_covered``,
        ``population_covered_share``, ``communities``, ``communities_covered``, ``sites``);
        default :func:`summary_numbers`. Pass the audit's county row so map and spreadsheet
        agree.
    title, subtitle, summary_lines
        Page title (default: the run's walking time, e.g. "5分钟职工服务圈"), and extra lines for
        the summary box (plain text).
    max_community_points
        Above this many communities they are drawn as hexagons (count, population, covered
        share), and the summary box says so.
    views
        Demand views (:func:`geo.coverage.views.demand_views`): adds their layers and lines.
    scenario
        What-if editor in the page (see :mod:`geo.maps._scenario`): True on, False off, None
        on when the map stays within the size budget (else the page says how to turn it on).
    input_crs
        The coordinate system of the input files (``wgs84``, ``gcj02``, ``bd09``), used for
        the scenario's CSV export.
    plugins
        Callables ``fn(map, payload)`` run before the page is assembled (see module doc).
    """
    import os

    if basemap not in ("osm", "amap", "tianditu", "none"):
        raise ValueError(f"basemap must be osm, amap, tianditu or none, not {basemap!r}")
    gcj = basemap == "amap"
    bounds = robust_bounds(res, boundaries)
    sw = _layers.shift(shapely.points([bounds[:2]]), gcj)[0]
    ne = _layers.shift(shapely.points([bounds[2:]]), gcj)[0]
    m = folium.Map(
        location=[(sw.y + ne.y) / 2, (sw.x + ne.x) / 2],
        zoom_start=14,
        tiles=None,
        control_scale=False,
        prefer_canvas=True,
    )
    if basemap != "none":
        _add_tiles(m, basemap, tianditu_key or os.environ.get("TIANDITU_KEY", ""), lang)
    layers: list[str] = []
    legend: list[dict[str, Any]] = []
    scen = scenario is not False  # the scenario page draws streets from its own network
    vector_bg = offline or basemap == "none"
    if vector_bg:
        bl, bleg = _layers.background(
            background, res.network, gcj, lang, max_street_edges, street_lines=not scen
        )
        layers += bl
        legend += bleg
    # scenario mode: the page draws live walking areas, communities and sites itself
    live = scen and _scenario.wants(m, res, scenario, extra_bytes=_scenario.json_bytes(layers))
    big = len(res.sites) > MAX_SITE_ISOCHRONES
    if not live:
        if isochrones is None:
            iso = res.isochrones(by="kind", simplify_m=15.0) if big else res.isochrones()
        else:
            iso = isochrones
        layers += _layers.isochrone_layers(iso, gcj, lang, res.config.main_level)
    if boundaries is not None and len(boundaries):
        layers.append(_layers.boundaries_layer(boundaries, gcj, lang))
    classes = _classes(res)
    hex_note = None
    if scen and not live and vector_bg:
        layers[:0] = _layers.streets(res.network, gcj, lang, max_street_edges)
    if not live:  # with scenario mode the page draws communities and sites itself
        comm, hex_note = _layers.community_layer(
            res, gcj, lang, classes, walk_time_colour, max_community_points
        )
        if comm:
            layers.append(comm)
        layers += _layers.site_layers(res, gcj, lang, site_in_area)
    else:
        layers += _layers.site_layers(res, gcj, lang, site_in_area, only_neighbours=True)
    has_palace = False
    if proposals is not None and len(proposals):
        pl, has_palace = _layers.proposal_layer(proposals, gcj, lang)
        layers.append(pl)
    if views is not None:  # issue 15: uncovered streets, workplaces, capacity, area shares
        from ._demand import demand_layers

        dl, dleg = demand_layers(res, views, gcj=gcj, lang=lang)
        layers += dl
        legend += dleg
        summary_lines = [*(summary_lines or []), *views.lines(lang, res.config.main_level)]
    nums = numbers or summary_numbers(res, site_in_area)
    n_out = 0 if site_in_area is None else int((~np.asarray(site_in_area, bool)).sum())
    meta = {
        "lang": lang,
        "title": title or run_title(lang, main_minutes(res)),
        "subtitle": subtitle or "",
        "summary": _summary(nums, lang, proposals, proposal_summary, n_out, hex_note)
        + [{"text": str(x)} for x in (summary_lines or [])],
        "legendTitle": label(lang, "legend"),
        "legend": _legend(res, lang, classes, n_out, proposals, has_palace, boundaries) + legend,
        "minutes": main_minutes(res),
        "bounds": [[sw.y, sw.x], [ne.y, ne.x]],
    }
    payload: dict[str, Any] = {"meta": meta, "layers": layers}
    for fn in plugins:
        fn(m, payload)
    root = m.get_root()
    root.header.add_child(RawHTML(f"<style>{_asset('sc_map.css')}</style>"))
    root.html.add_child(RawHTML(payload_script(payload["meta"], payload["layers"])))
    root.html.add_child(RawHTML(f"<script>{_asset('sc_map.js')}</script>"))
    m.add_child(_Render())
    if scenario is not False:
        _scenario.add_scenario(m, res, on=live, lang=lang, gcj=gcj, input_crs=input_crs)
    m.fit_bounds(meta["bounds"])
    m._sc_payload = payload  # for tests and add-ons
    # the static PNG of the same map draws the same things with the same numbers
    m._sc_png = {
        "lang": lang,
        "proposals": proposals,
        "boundaries": boundaries,
        "background": background,
        "title": meta["title"],
        "site_in_area": site_in_area,
        "summary": meta["summary"],
    }
    return m


def county_map_kwargs(res, row: dict[str, Any], county: str, inside, prop, lang: str) -> dict:
    """``make_map`` options for an audit county: the numbers of the county's summary row (so the
    map and the spreadsheet agree), neighbouring sites in grey, and the OSM background."""
    from ..network import background_for

    main = res.config.main_level
    in_area = np.asarray(inside, bool)
    if "county" in res.sites and len(res.sites) != in_area.size:
        in_area = res.sites["county"].astype(str).to_numpy() == county
    nums = {
        "population": row.get("population"),
        "population_covered": row.get(f"population_covered_{main}"),
        "population_covered_share": row.get(f"population_covered_{main}_share"),
        "communities": row.get("communities"),
        "communities_covered": row.get(f"communities_covered_{main}"),
        "sites": row.get("sites"),
    }
    psum = None
    if prop is not None and row.get("proposed_sites"):
        psum = {
            "new_sites": row["proposed_sites"],
            "covered_population_before": row.get(f"population_covered_{main}"),
            "covered_population_after": row.get("population_covered_after"),
            "population": row.get("population"),
        }
    return {
        "title": f"{county} · {run_title(lang, main_minutes(res))}",
        "site_in_area": in_area,
        "numbers": nums,
        "proposal_summary": psum,
        "background": background_for(res.network),
    }


def _asset(name: str) -> str:
    data = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return data.replace("</script", "<\\/script").replace("</style", "<\\/style")


class _Render(MacroElement):
    """Calls ``scRender(map)`` once the folium map exists."""

    _template = Template(
        "{% macro script(this, kwargs) %}scRender({{ this._parent.get_name() }});{% endmacro %}"
    )


def _add_tiles(m, basemap: str, key: str, lang: str) -> None:
    spec = BASEMAPS[basemap]
    if basemap == "tianditu" and not key:
        raise ValueError(
            "the Tianditu basemap needs a key: pass --tianditu-key or set "
            "TIANDITU_KEY (free from console.tianditu.gov.cn)"
        )
    kw = {"subdomains": spec["subdomains"]} if "subdomains" in spec else {}
    folium.TileLayer(
        spec["tiles"].replace("{key}", key),
        attr=spec["attr"],
        name=f"{label(lang, 'basemap')}: {basemap}",
        max_zoom=19,
        sc_name=f"{label(lang, 'basemap')}: {basemap}",
        **kw,
    ).add_to(m)
    if "labels" in spec:
        folium.TileLayer(
            spec["labels"].replace("{key}", key),
            attr=spec["attr"],
            name="labels",
            overlay=True,
            **kw,
        ).add_to(m)


def _summary(nums, lang, proposals, psum, n_out, hex_note) -> list[dict[str, Any]]:
    share = float(nums.get("population_covered_share") or 0.0)
    lines = [
        {
            "key": "population_covered_share",
            "value": round(share, 4),
            "text": f"{label(lang, 'coverage')}: {100 * share:.1f}% "
            f"({_fmt(nums.get('population_covered'))} / {_fmt(nums.get('population'))})",
        },
        {
            "key": "communities_covered",
            "value": nums.get("communities_covered"),
            "text": f"{label(lang, 'communities_covered')}: {nums.get('communities_covered')} / "
            f"{nums.get('communities')}",
        },
        {
            "key": "sites",
            "value": nums.get("sites"),
            "text": f"{text(lang, 'sites_in_area') if n_out else label(lang, 'sites')}: "
            f"{nums.get('sites')}",
        },
    ]
    if n_out:
        lines.append({"text": text(lang, "neighbour_count", n=n_out)})
    ba = _before_after(nums, proposals, psum)
    if ba is not None:
        k, a, b = ba
        lines.append(
            {
                "key": "before_after",
                "value": round(b / 100, 4),
                "cls": "sc-big",
                "text": text(lang, "before_after", k=k, a=a, b=b),
            }
        )
    if hex_note:
        lines.append({"key": "aggregated", "value": 1, "text": hex_note})
    return lines


def _before_after(nums, proposals, psum) -> tuple[int, float, float] | None:
    if psum and psum.get("population"):
        pop = float(psum["population"])
        k = int(psum.get("new_sites", 0))
        a = 100 * float(psum["covered_population_before"]) / pop
        b = 100 * float(psum["covered_population_after"]) / pop
        return (k, a, b) if k else None
    if proposals is None or not len(proposals) or not nums.get("population"):
        return None
    p = proposals
    coverage = p
    if "rank" in p:
        coverage = p[p["rank"].fillna(1).astype(int) != 0]
    if "purpose" in coverage:
        coverage = coverage[coverage["purpose"].astype(str) != "cultural_palace"]
    if not len(coverage) or "newly_covered_population" not in coverage:
        return None
    pop = float(nums["population"])
    before = float(nums.get("population_covered") or 0)
    gain = float(np.nansum(coverage["newly_covered_population"].to_numpy(float)))
    return len(coverage), 100 * before / pop, 100 * (before + gain) / pop


def _legend(res, lang, classes, n_out, proposals, has_palace, boundaries) -> list[dict]:
    rows: list[dict[str, Any]] = []
    kinds = ["station", "integrated", "cultural_palace", "partner"]
    if len(res.sites) and "kind" in res.sites:
        kinds += sorted(set(res.sites["kind"].astype(str)) - set(kinds))
    for k in kinds:
        rows.append({"type": "dot", "colour": kind_colour(k), "text": label(lang, k)})
    if n_out:
        rows.append(
            {
                "type": "dot",
                "colour": _layers.NEIGHBOUR_COLOUR,
                "text": text(lang, "neighbour_note"),
            }
        )
    prev = 0.0
    for lim, col in classes:
        rng = f"{prev:g}–{lim:g}" if np.isfinite(lim) else f"> {prev:g}"
        rows.append(
            {
                "type": "sq",
                "colour": col,
                "text": f"{label(lang, 'community')} {rng} {label(lang, 'minutes')}",
            }
        )
        prev = lim if np.isfinite(lim) else prev
    rows.append(
        {
            "type": "sq",
            "colour": UNREACHABLE,
            "text": f"{label(lang, 'off_network')} / {label(lang, 'unreachable')}",
        }
    )
    if proposals is not None and len(proposals):
        rows.append({"type": "prop", "glyph": "1", "text": label(lang, "proposed")})
    if has_palace:
        rows.append(
            {
                "type": "palace",
                "glyph": "宫" if lang == "zh" else "P",
                "text": text(lang, "palace_proposed"),
            }
        )
    if boundaries is not None and len(boundaries):
        rows.append({"type": "line-sw", "text": label(lang, "boundary")})
    return rows


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> dict[str, Any]:
    """Write the map as one HTML file (atomically); with ``offline``, Leaflet is inlined.

    Returns
    -------
    dict
        ``path`` and ``size_bytes``.
    """
    page = m.get_root().render()
    if offline:
        page = inline_assets(page)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    size = Path(path).stat().st_size
    logger.info("wrote map %s (%.1f MB)", path, size / 1e6)
    return {"path": str(path), "size_bytes": size}


def save_png(*args, **kwargs):
    """A static PNG of the map; see :func:`geo.maps._png.save_png`."""
    from ._png import save_png as _save

    return _save(*args, **kwargs)
