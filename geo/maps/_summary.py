"""What a map says in words and colours, shared by the HTML page and the PNG: walk-time
classes, the data's extent, the summary box's lines and the legend rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..io import BUILTIN_KINDS
from ._labels import kind_colour, label
from ._layers import NEIGHBOUR_COLOUR
from ._style import _num
from ._text import text

#: Colours of the walk-time classes, nearest first; the last is "beyond every level".
CLASS_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
UNREACHABLE = "#7f7f7f"
#: The data's extent drops points farther from the median than this many times the
#: 90th-percentile distance (and at least :data:`OUTLIER_MIN_DEG`), then pads by
#: :data:`PAD_SHARE` of its size (at least :data:`PAD_MIN_DEG`).
OUTLIER_FACTOR = 3.0
OUTLIER_MIN_DEG = 0.02  # degrees, about 2 km
PAD_SHARE = 0.05
PAD_MIN_DEG = 0.002  # degrees, about 200 m


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


def run_classes(res) -> list[tuple[float, str]]:
    """The walk-time classes of a run (its levels in minutes)."""
    cfg = res.config
    return walk_classes([lim / cfg.metres_per_minute for lim in cfg.levels.values()])


def main_minutes(res) -> float:
    """The run's main walking time in minutes (e.g. 15, or 5 for the demo)."""
    cfg = res.config
    return float(cfg.limit_m / cfg.metres_per_minute)


def _data_points(res) -> np.ndarray | None:
    pts = []
    for g in (res.communities, res.sites):
        if g is not None and len(g):
            p = np.asarray(g.geometry.to_numpy())
            p = np.where(shapely.get_type_id(p) == 0, p, shapely.point_on_surface(p))
            pts.append(shapely.get_coordinates(p))
    if not pts:
        return None
    xy = np.concatenate(pts)
    return xy[np.isfinite(xy).all(axis=1)]


def robust_bounds(res, boundaries=None) -> np.ndarray:
    """``[minlon, minlat, maxlon, maxlat]`` to show: the data's extent without outliers
    (communities and sites, padded), so one mistyped point (Beijing in a Wuhan file) never
    shrinks the study area to a dot, kept within the county boundary's box; the boundary's box
    when there is no data inside it."""
    box = None
    if boundaries is not None and len(boundaries):
        box = np.asarray(boundaries.to_crs(4326).total_bounds, float)
    xy = _data_points(res)
    if xy is None:
        if box is not None:
            return box
        net = res.network
        return np.array([net.lon.min(), net.lat.min(), net.lon.max(), net.lat.max()], float)
    med = np.median(xy, axis=0)
    d = np.abs(xy - med)
    limit = np.maximum(OUTLIER_FACTOR * np.percentile(d, 90, axis=0), OUTLIER_MIN_DEG)
    keep = (d <= limit).all(axis=1)
    xy = xy[keep] if keep.any() else xy
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((hi - lo) * PAD_SHARE, PAD_MIN_DEG)
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


def summary_box(nums, lang, proposals, psum, n_out, hex_note) -> list[dict[str, Any]]:
    """The summary box: coverage, communities, sites, neighbours, before → after, hexagons."""
    share = float(nums.get("population_covered_share") or 0.0)
    sites_label = text(lang, "sites_in_area") if n_out else label(lang, "sites")
    lines = [
        {
            "key": "population_covered_share",
            "value": round(share, 4),
            "text": f"{label(lang, 'coverage')}: {100 * share:.1f}% "
            f"({_num(nums.get('population_covered'))} / {_num(nums.get('population'))})",
        },
        {
            "key": "communities_covered",
            "value": nums.get("communities_covered"),
            "text": f"{label(lang, 'communities_covered')}: {nums.get('communities_covered')} / "
            f"{nums.get('communities')}",
        },
        {"key": "sites", "value": nums.get("sites"), "text": f"{sites_label}: {nums.get('sites')}"},
    ]
    if n_out:
        lines.append({"text": text(lang, "neighbour_count", n=n_out)})
    ba = before_after(nums, proposals, psum)
    if ba is not None:
        k, a, b = ba
        lines.append({"key": "before_after", "value": round(b / 100, 4), "cls": "sc-big",
                      "text": text(lang, "before_after", k=k, a=a, b=b)})  # fmt: skip
    if hex_note:
        lines.append({"key": "aggregated", "value": 1, "text": hex_note})
    return lines


def before_after(nums, proposals, psum) -> tuple[int, float, float] | None:
    """(new sites, coverage % before, after) from a proposal summary or the proposals."""
    if psum and psum.get("population"):
        pop = float(psum["population"])
        k = int(psum.get("new_sites", 0))
        a = 100 * float(psum["covered_population_before"]) / pop
        b = 100 * float(psum["covered_population_after"]) / pop
        return (k, a, b) if k else None
    if proposals is None or not len(proposals) or not nums.get("population"):
        return None
    coverage = proposals
    if "rank" in coverage:
        coverage = coverage[coverage["rank"].fillna(1).astype(int) != 0]
    if "purpose" in coverage:
        coverage = coverage[coverage["purpose"].astype(str) != "cultural_palace"]
    if not len(coverage) or "newly_covered_population" not in coverage:
        return None
    pop = float(nums["population"])
    before = float(nums.get("population_covered") or 0)
    gain = float(np.nansum(coverage["newly_covered_population"].to_numpy(float)))
    return len(coverage), 100 * before / pop, 100 * (before + gain) / pop


def _class_rows(lang: str, classes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    prev = 0.0
    for lim, col in classes:
        rng = f"{prev:g}–{lim:g}" if np.isfinite(lim) else f"> {prev:g}"
        rows.append({"type": "sq", "colour": col,
                     "text": f"{label(lang, 'community')} {rng} {label(lang, 'minutes')}"})  # fmt: skip
        prev = lim if np.isfinite(lim) else prev
    unreachable = f"{label(lang, 'off_network')} / {label(lang, 'unreachable')}"
    rows.append({"type": "sq", "colour": UNREACHABLE, "text": unreachable})
    return rows


def legend_rows(res, lang, classes, n_out, proposals, has_palace, boundaries) -> list[dict]:
    """The HTML legend: site kinds (built-in ones first), neighbours, walk-time classes,
    proposals, the proposed palace and the county boundary."""
    kinds = list(BUILTIN_KINDS)
    if len(res.sites) and "kind" in res.sites:
        kinds += sorted(set(res.sites["kind"].astype(str)) - set(kinds))
    rows = [{"type": "dot", "colour": kind_colour(k), "text": label(lang, k)} for k in kinds]
    if n_out:
        rows.append({"type": "dot", "colour": NEIGHBOUR_COLOUR,
                     "text": text(lang, "neighbour_note")})  # fmt: skip
    rows += _class_rows(lang, classes)
    if proposals is not None and len(proposals):
        rows.append({"type": "prop", "glyph": "1", "text": label(lang, "proposed")})
    if has_palace:
        glyph = "宫" if lang == "zh" else "P"
        rows.append({"type": "palace", "glyph": glyph, "text": text(lang, "palace_proposed")})
    if boundaries is not None and len(boundaries):
        rows.append({"type": "line-sw", "text": label(lang, "boundary")})
    return rows
