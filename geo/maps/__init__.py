"""Interactive HTML maps for meetings (folium/Leaflet), offline by default.

:func:`make_map` draws a coverage run: one layer per site kind, isochrones per level,
communities coloured by walk time, proposed gap sites, county boundaries, a vector background
(water, parks, railways, streets and their names), a legend, a layer control, a metric scale,
a title and a summary box.

Data never becomes page source: every layer travels as JSON in one
``<script type="application/json">`` element and the page's own script (``sc_map.js``) builds
markers, popups, tooltips, labels and panels with ``textContent``.
:func:`save_map` writes it, with Leaflet inlined (``offline=True``) so it opens with no network.
:func:`save_png` draws the same map as a static PNG (:mod:`geo.maps._png`; :class:`PngDraft`
draws it in two steps, everything but the walking areas first).

Hook for add-ons (e.g. a scenario editor): pass ``plugins=[fn]`` to :func:`make_map`; each
``fn(map, payload)`` may append layer texts to ``payload["layers"]`` or keys to
``payload["meta"]`` before the page is built, and in the browser ``window.scMap``
(``{map, data, layers}``) and the ``sc:ready`` document event give access to the drawn map.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from ..config import MAX_SITE_ISOCHRONES
from ..io import atomic_path
from ..network import background_for
from . import _layers, _scenario
from ._labels import label
from ._offline import inline_assets
from ._payload import MAX_COMMUNITY_POINTS, RawHTML, escape_text, payload_script
from ._png import PngDraft, save_png
from ._scenario import inline as inline_map  # notebooks: any map inline, offline
from ._scenario import scenario as scenario_map  # notebooks: the what-if editor inline
from ._summary import (
    CLASS_COLOURS,
    UNREACHABLE,
    legend_rows,
    main_minutes,
    robust_bounds,
    run_classes,
    summary_box,
    summary_numbers,
    walk_classes,
    walk_time_colour,
)
from ._text import run_title
from ._tiles import BASEMAPS, Basemap, add_tiles, check_basemap

if TYPE_CHECKING:
    from ..coverage import CoverageResult

logger = logging.getLogger(__name__)

__all__ = [
    "BASEMAPS",
    "CLASS_COLOURS",
    "MAX_COMMUNITY_POINTS",
    "UNREACHABLE",
    "PngDraft",
    "county_map_kwargs",
    "escape_text",
    "inline_map",
    "main_minutes",
    "make_map",
    "map_page",
    "robust_bounds",
    "run_title",
    "save_map",
    "save_png",
    "scenario_map",
    "summary_numbers",
    "walk_classes",
    "walk_time_colour",
]


@dataclass
class _Layers:
    """What :func:`make_map`'s steps add up: layer texts, extra legend rows and notes."""

    res: Any
    lang: str
    gcj: bool
    layers: list[str] = field(default_factory=list)
    legend: list[dict[str, Any]] = field(default_factory=list)
    hex_note: str | None = None
    has_palace: bool = False
    isochrones: gpd.GeoDataFrame | None = None  # the polygons drawn (the PNG reuses them)


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
    check_basemap(basemap)
    acc = _Layers(res, lang, gcj=basemap == "amap", isochrones=isochrones)
    m, bounds = _new_map(res, boundaries, acc.gcj)
    if basemap != "none":
        add_tiles(m, basemap, tianditu_key or os.environ.get("TIANDITU_KEY", ""), lang)
    scen = scenario is not False  # the scenario page draws streets from its own network
    vector_bg = offline or basemap == "none"
    if vector_bg:
        _add_background(acc, background, max_street_edges, street_lines=not scen)
    # scenario mode: the page draws live walking areas, communities and sites itself
    live = scen and _scenario.wants(m, res, scenario, extra_bytes=_scenario.json_bytes(acc.layers))
    if live:
        _add_boundaries(acc, boundaries)
        acc.layers += _layers.site_layers(res, acc.gcj, lang, site_in_area, only_neighbours=True)
    else:
        _add_isochrones(acc, isochrones)
        _add_boundaries(acc, boundaries)
        if scen and vector_bg:
            acc.layers[:0] = _layers.streets(res.network, acc.gcj, lang, max_street_edges)
        _add_communities_and_sites(acc, site_in_area, max_community_points)
    _add_proposals(acc, proposals)
    extra_lines = [str(x) for x in (summary_lines or [])]
    if views is not None:  # issue 15: uncovered streets, workplaces, capacity, area shares
        extra_lines += _add_views(acc, views)
    nums = numbers or summary_numbers(res, site_in_area)
    n_out = 0 if site_in_area is None else int((~np.asarray(site_in_area, bool)).sum())
    summary = _summary_box(acc, nums, proposals, proposal_summary, n_out, extra_lines)
    meta = {
        "lang": lang,
        "title": title or run_title(lang, main_minutes(res)),
        "subtitle": subtitle or "",
        "summary": summary,
        "legendTitle": label(lang, "legend"),
        "legend": legend_rows(
            res, lang, run_classes(res), n_out, proposals, acc.has_palace, boundaries
        )
        + acc.legend,
        "minutes": main_minutes(res),
        "bounds": bounds,
    }
    _assemble(m, {"meta": meta, "layers": acc.layers}, plugins)
    if scenario is not False:
        _scenario.add_scenario(m, res, on=live, lang=lang, gcj=acc.gcj, input_crs=input_crs)
    m.fit_bounds(meta["bounds"])
    # the static PNG of the same map draws the same things with the same numbers (and the
    # same walking areas, not computed again)
    m._sc_png = {"lang": lang, "proposals": proposals, "boundaries": boundaries,
                 "background": background, "title": meta["title"], "isochrones": acc.isochrones,
                 "site_in_area": site_in_area, "summary": meta["summary"]}  # fmt: skip
    # whether the page carries the walking areas given (scenario mode draws its own): when
    # not, the same page comes out whatever they are (coverage makes it before they exist)
    m._sc_draws_isochrones = not live
    return m


def _new_map(res, boundaries, gcj: bool) -> tuple[folium.Map, list[list[float]]]:
    """A folium map centred on the data's robust extent, and that extent ``[[s, w], [n, e]]``
    (shifted to GCJ-02 for the Amap basemap)."""
    b = robust_bounds(res, boundaries)
    sw = _layers.shift(shapely.points([b[:2]]), gcj)[0]
    ne = _layers.shift(shapely.points([b[2:]]), gcj)[0]
    m = folium.Map(
        location=[(sw.y + ne.y) / 2, (sw.x + ne.x) / 2],
        zoom_start=14,
        tiles=None,
        control_scale=False,
        prefer_canvas=True,
    )
    return m, [[sw.y, sw.x], [ne.y, ne.x]]


def _add_background(acc: _Layers, background, max_street_edges: int, street_lines: bool) -> None:
    layers, legend = _layers.background(
        background, acc.res.network, acc.gcj, acc.lang, max_street_edges, street_lines=street_lines
    )
    acc.layers += layers
    acc.legend += legend


def _add_isochrones(acc: _Layers, isochrones) -> None:
    """Walking areas per level: one per site, or unioned per kind above
    :data:`MAX_SITE_ISOCHRONES` sites (computed when not given)."""
    res = acc.res
    if isochrones is None:
        big = len(res.sites) > MAX_SITE_ISOCHRONES
        isochrones = res.isochrones(by="kind", simplify_m=15.0) if big else res.isochrones()
    acc.isochrones = isochrones
    acc.layers += _layers.isochrone_layers(isochrones, acc.gcj, acc.lang, res.config.main_level)


def _add_boundaries(acc: _Layers, boundaries) -> None:
    if boundaries is not None and len(boundaries):
        acc.layers.append(_layers.boundaries_layer(boundaries, acc.gcj, acc.lang))


def _add_communities_and_sites(acc: _Layers, site_in_area, max_points: int) -> None:
    res = acc.res
    comm, acc.hex_note = _layers.community_layer(
        res, acc.gcj, acc.lang, run_classes(res), walk_time_colour, max_points
    )
    if comm:
        acc.layers.append(comm)
    acc.layers += _layers.site_layers(res, acc.gcj, acc.lang, site_in_area)


def _add_proposals(acc: _Layers, proposals) -> None:
    if proposals is not None and len(proposals):
        layer, acc.has_palace = _layers.proposal_layer(proposals, acc.gcj, acc.lang)
        acc.layers.append(layer)


def _add_views(acc: _Layers, views) -> list[str]:
    """Demand views' layers and legend rows; returns their summary lines."""
    from ._demand import demand_layers

    layers, legend = demand_layers(acc.res, views, gcj=acc.gcj, lang=acc.lang)
    acc.layers += layers
    acc.legend += legend
    return [str(x) for x in views.lines(acc.lang, acc.res.config.main_level)]


def _summary_box(acc: _Layers, nums, proposals, psum, n_out, extra: list[str]) -> list[dict]:
    """The summary box of a map being built, then the caller's extra lines."""
    lines = summary_box(nums, acc.lang, proposals, psum, n_out, acc.hex_note)
    return lines + [{"text": str(x)} for x in extra]


def _assemble(m: folium.Map, payload: dict[str, Any], plugins) -> None:
    """Run the plugins, then put the payload, the page's CSS and script into ``m``."""
    for fn in plugins:
        fn(m, payload)
    root = m.get_root()
    root.header.add_child(RawHTML(f"<style>{_asset('sc_map.css')}</style>"))
    root.html.add_child(RawHTML(payload_script(payload["meta"], payload["layers"])))
    root.html.add_child(RawHTML(f"<script>{_asset('sc_map.js')}</script>"))
    m.add_child(_Render())
    m._sc_payload = payload  # for tests and add-ons


def county_map_kwargs(res, row: dict[str, Any], county: str, inside, prop, lang: str) -> dict:
    """``make_map`` options for an audit county: the numbers of the county's summary row (so the
    map and the spreadsheet agree), neighbouring sites in grey, and the OSM background."""
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


def map_page(m: folium.Map, *, offline: bool = True) -> str:
    """The HTML page :func:`save_map` writes (with ``offline``, Leaflet inlined)."""
    page = m.get_root().render()
    return inline_assets(page) if offline else page


def save_map(
    m: folium.Map, path: str | Path, *, offline: bool = True, page: str | None = None
) -> dict[str, Any]:
    """Write the map as one HTML file (atomically); with ``offline``, Leaflet is inlined.
    ``page``: the page of ``m`` when already made (:func:`map_page`, same ``offline``).

    Returns
    -------
    dict
        ``path`` and ``size_bytes``.
    """
    if page is None:
        page = map_page(m, offline=offline)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    size = Path(path).stat().st_size
    logger.info("wrote map %s (%.1f MB)", path, size / 1e6)
    return {"path": str(path), "size_bytes": size}
