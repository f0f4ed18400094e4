"""Intervals along edges: street pieces as ``e``, ``start``, ``end`` (metres from the edge's
``u`` end), and their union, intersection, complement and lines.

Used by the street coverage (:mod:`geo.coverage.streets`) and the street demand of the
optimiser; all vectorised over the pieces of every edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

if TYPE_CHECKING:
    from ..network import Network

__all__ = [
    "area_intervals",
    "complement_intervals",
    "intersect_intervals",
    "merge_intervals",
    "piece_lines",
    "union_length",
]


def union_length(pieces: pd.DataFrame, n_edges: int) -> np.ndarray:
    """Length (m) of the union of ``pieces`` (``e``, ``start``, ``end``) on every edge."""
    out = np.zeros(n_edges)
    if not len(pieces):
        return out
    p = pieces.sort_values(["e", "start"], kind="stable")
    e = p["e"].to_numpy()
    s = p["start"].to_numpy()
    t = p["end"].to_numpy()
    # running maximum of the end within each edge: a piece adds only what reaches past it
    new_edge = np.r_[True, e[1:] != e[:-1]]
    run = pd.Series(t).groupby(np.cumsum(new_edge)).cummax().to_numpy()
    prev = np.where(new_edge, -np.inf, np.r_[-np.inf, run[:-1]])
    add = np.maximum(t - np.maximum(s, prev), 0.0)
    np.add.at(out, e, add)
    return out


def merge_intervals(pieces: pd.DataFrame) -> pd.DataFrame:
    """The union of ``pieces`` (``e``, ``start``, ``end``) as sorted, disjoint intervals."""
    if not len(pieces):
        return pd.DataFrame({"e": np.zeros(0, np.int64), "start": [], "end": []})
    p = pieces.sort_values(["e", "start"], kind="stable")
    e, st, en = p["e"].to_numpy(np.int64), p["start"].to_numpy(float), p["end"].to_numpy(float)
    new_edge = np.r_[True, e[1:] != e[:-1]]
    run = pd.Series(en).groupby(np.cumsum(new_edge)).cummax().to_numpy()
    prev = np.where(new_edge, -np.inf, np.r_[-np.inf, run[:-1]])
    opens = new_edge | (st > prev)  # a new interval starts where it does not touch the last
    gid = np.cumsum(opens) - 1
    out = pd.DataFrame({"e": e[opens], "start": st[opens]})
    out["end"] = pd.Series(en).groupby(gid).max().to_numpy()
    return out.reset_index(drop=True)


def intersect_intervals(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Pieces lying in both ``a`` and ``b`` (each merged with :func:`merge_intervals`)."""
    j = merge_intervals(a).merge(merge_intervals(b), on="e", suffixes=("_a", "_b"))
    st = np.maximum(j["start_a"].to_numpy(), j["start_b"].to_numpy())
    en = np.minimum(j["end_a"].to_numpy(), j["end_b"].to_numpy())
    keep = en > st
    return pd.DataFrame({"e": j["e"].to_numpy()[keep], "start": st[keep], "end": en[keep]})


def area_intervals(net: Network, area: Any | None) -> pd.DataFrame:
    """The pieces of every edge inside ``area`` (a WGS84 polygon; None: every whole edge),
    in metres from the edge's ``u`` end, cut exactly where the edge crosses the boundary."""
    e_all = np.arange(net.n_edges)
    if area is None:
        return pd.DataFrame({"e": e_all, "start": 0.0, "end": np.asarray(net.length, float)})
    from ..crs import transform_geometry

    poly = transform_geometry(area, lambda x, y: net.project(x, y))
    shapely.prepare(poly)
    lines = net.edge_lines()
    inside = shapely.within(lines, poly)
    rows = [pd.DataFrame({"e": e_all[inside], "start": 0.0, "end": net.length[inside]})]
    cross = np.flatnonzero(~inside & shapely.intersects(lines, poly))
    parts_e, parts_s, parts_t = [], [], []
    for e in cross:
        line = lines[e]
        scale = float(net.length[e]) / line.length if line.length > 0 else 0.0
        for part in shapely.get_parts(shapely.intersection(line, poly)):
            if shapely.get_type_id(part) != 1 or part.length <= 0:
                continue
            xy = np.asarray(part.coords)
            a, b = line.project(shapely.Point(xy[0])), line.project(shapely.Point(xy[-1]))
            parts_e.append(e)
            parts_s.append(min(a, b) * scale)
            parts_t.append(max(a, b) * scale)
    rows.append(pd.DataFrame({"e": parts_e, "start": parts_s, "end": parts_t}))
    out = pd.concat(rows, ignore_index=True)
    out["e"] = out["e"].astype(np.int64)
    return merge_intervals(out[out["end"] > out["start"]])


def complement_intervals(pieces: pd.DataFrame, length: np.ndarray) -> pd.DataFrame:
    """Parts of every edge ``[0, length[e]]`` not in ``pieces`` (vectorised)."""
    m = merge_intervals(pieces)
    e, s, t = m["e"].to_numpy(np.int64), m["start"].to_numpy(), m["end"].to_numpy()
    first = np.r_[True, e[1:] != e[:-1]] if e.size else np.zeros(0, bool)
    last = np.r_[e[1:] != e[:-1], True] if e.size else np.zeros(0, bool)
    mid = ~last  # gap after interval i up to interval i + 1 on the same edge
    has = np.zeros(length.size, bool)
    has[e] = True
    none = np.flatnonzero(~has)
    out = pd.DataFrame(
        {
            "e": np.concatenate([none, e[first], e[mid], e[last]]),
            "start": np.concatenate([np.zeros(none.size), np.zeros(first.sum()), t[mid], t[last]]),
            "end": np.concatenate(
                [length[none], s[first], np.r_[s[1:], []][mid[:-1]] if e.size > 1 else s[:0],
                 length[e[last]]]
            ),
        }
    )  # fmt: skip
    out = out[out["end"] - out["start"] > 1e-6]
    return out.sort_values(["e", "start"], kind="stable").reset_index(drop=True)


def piece_lines(net: Network, pieces: pd.DataFrame) -> np.ndarray:
    """WGS84 LineStrings of street pieces (cut exactly at ``start``/``end`` metres)."""
    lines = net.edge_lines(projected=False)
    e = pieces["e"].to_numpy(int)
    length = net.length[e]
    denom = np.where(length > 0, length, 1.0)
    s = pieces["start"].to_numpy() / denom
    t = pieces["end"].to_numpy() / denom
    geoms = lines[e].copy()
    for i in np.flatnonzero((s > 1e-9) | (t < 1 - 1e-9)):
        geoms[i] = substring(geoms[i], s[i], t[i], normalized=True)
    return geoms
