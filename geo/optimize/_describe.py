"""Make proposals a person can find: an id, a name, a location in the network's own street
names (``珞喻路与鲁磨路交叉口东北约60米``), the county, the nearest user candidate, coordinates
in the planner's own system, and links that open the point in Amap and Baidu Maps.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .. import crs as _crs
from ..coverage.core import INDEX_CACHE

logger = logging.getLogger(__name__)

#: A proposal names the nearest street within this many metres.
STREET_SEARCH_M = 300.0
#: ... and the nearest junction of two named streets within this many metres.
JUNCTION_SEARCH_M = 500.0
#: Beyond this distance from the junction, a description also names the street the point is on.
NEAR_JUNCTION_M = 250.0
#: Distances in descriptions are rounded to this many metres.
ROUND_M = 10.0

_DIRS_ZH = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")
_DIRS_EN = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")

#: Columns :func:`describe_proposals` adds (the contract of ``proposed_sites.csv``).
DESCRIBE_COLUMNS = (
    "proposal_id", "name", "location_desc", "county", "nearest_candidate_id",
    "nearest_candidate_name", "nearest_candidate_m", "amap_url", "baidu_url",
)  # fmt: skip


class StreetIndex:
    """Named streets and junctions of a network, for describing where a point is."""

    def __init__(self, net) -> None:
        # weakly: the index is cached per network (INDEX_CACHE), which must not keep it alive
        self._net = weakref.ref(net)
        names = np.asarray(net.edge_name, dtype=object).astype(str)
        named = np.flatnonzero((names != "") & (names != "nan") & (names != "None"))
        self.names = names
        self.edges = named
        self.tree = shapely.STRtree(net.edge_lines(edges=named)) if named.size else None
        self.junction_nodes, self.junction_names = _junctions(net, names, named)
        xy = net.xy[self.junction_nodes] if self.junction_nodes.size else np.zeros((0, 2))
        self.junction_tree = cKDTree(xy) if len(xy) else None

    @property
    def net(self):
        """The network (held weakly)."""
        return self._net()

    def street_at(self, x: float, y: float) -> tuple[str, float]:
        """The nearest named street and its distance in metres ("" beyond the search radius)."""
        if self.tree is None:
            return "", np.inf
        p = shapely.Point(x, y)
        hit = self.tree.query_nearest(p, max_distance=STREET_SEARCH_M, return_distance=True)
        idx, dist = hit
        if not len(idx):
            return "", np.inf
        return self.names[self.edges[idx[0]]], float(dist[0])

    def junction_near(self, x: float, y: float, street: str) -> tuple[list[str], float, float]:
        """The nearest junction of two named streets (preferring ones on ``street``): its two
        names, and the point's bearing (degrees, counter-clockwise from east) and distance."""
        if self.junction_tree is None:
            return [], 0.0, np.inf
        k = min(16, len(self.junction_nodes))
        dist, idx = self.junction_tree.query([x, y], k=k, distance_upper_bound=JUNCTION_SEARCH_M)
        dist, idx = np.atleast_1d(dist), np.atleast_1d(idx)
        ok = np.isfinite(dist)
        if not ok.any():
            return [], 0.0, np.inf
        dist, idx = dist[ok], idx[ok]
        on = [i for i, j in enumerate(idx) if street in self.junction_names[j]]
        pick = on[0] if on else 0
        j = idx[pick]
        names = self.junction_names[j]
        pair = [street, next(n for n in names if n != street)] if street in names else names[:2]
        nx, ny = self.net.xy[self.junction_nodes[j]]
        bearing = float(np.degrees(np.arctan2(y - ny, x - nx)))
        return pair, bearing, float(dist[pick])


class _NameLists(Sequence):
    """Each junction's sorted street names, as lists built when asked for (a proposal looks
    at a few of a county's ~10,000 junctions)."""

    def __init__(self, words: list[str], codes: np.ndarray, first: np.ndarray, count: np.ndarray):
        self.words, self.codes, self.first, self.count = words, codes, first, count

    def __len__(self) -> int:
        return int(self.first.size)

    def __getitem__(self, j):  # type: ignore[override]
        if isinstance(j, slice):
            return [self[i] for i in range(len(self))[j]]
        a = int(self.first[j])
        return [self.words[c] for c in self.codes[a : a + int(self.count[j])]]


def _junctions(net, names: np.ndarray, named: np.ndarray) -> tuple[np.ndarray, _NameLists]:
    """Nodes where two or more differently named streets meet (ascending), and each one's
    street names, sorted (code point order, as ``sorted``)."""
    node = np.concatenate([net.edge_u[named], net.edge_v[named]]).astype(np.int64)
    vocab, code = np.unique(np.concatenate([names[named]] * 2), return_inverse=True)
    key = np.unique(node * np.int64(max(len(vocab), 1)) + code.ravel())  # (node, name) once
    nodes, codes = key // max(len(vocab), 1), key % max(len(vocab), 1)
    first = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]]) if key.size else key
    count = np.diff(np.r_[first, key.size])
    junction = count >= 2
    return nodes[first[junction]], _NameLists(
        vocab.tolist(), codes, first[junction], count[junction]
    )


def _direction(bearing_deg: float, lang: str) -> str:
    sector = int(np.floor(((bearing_deg % 360) + 22.5) / 45.0)) % 8
    return (_DIRS_ZH if lang == "zh" else _DIRS_EN)[sector]


def _rounded(d: float) -> int:
    return int(max(ROUND_M, round(d / ROUND_M) * ROUND_M))


def describe_location(index: StreetIndex, lon: float, lat: float, lang: str = "zh") -> str:
    """Where a point is, in the network's street names.

    ``珞喻路与鲁磨路交叉口东北约60米`` near a junction of two named streets; ``珞喻路旁约20米``
    near one named street; else the coordinates.
    """
    x, y = (float(v[0]) for v in index.net.project(np.array([lon]), np.array([lat])))
    street, sd = index.street_at(x, y)
    if street:
        pair, bearing, jd = index.junction_near(x, y, street)
        if pair:
            if jd < ROUND_M * 1.5:
                return (
                    f"{pair[0]}与{pair[1]}交叉口"
                    if lang == "zh"
                    else (f"at the junction of {pair[0]} and {pair[1]}")
                )
            d = _rounded(jd)
            if lang == "zh":
                at = f"{pair[0]}与{pair[1]}交叉口{_direction(bearing, lang)}约{d}米"
                far = jd > NEAR_JUNCTION_M and street != pair[0]
                return f"{street}旁，{at}" if far else at
            return f"about {d} m {_direction(bearing, lang)} of the junction of {pair[0]} and {pair[1]}"
        d = _rounded(sd)
        return f"{street}旁约{d}米" if lang == "zh" else f"about {d} m from {street}"
    if lang == "zh":
        return f"附近无具名道路(经纬度 {lon:.6f},{lat:.6f})"
    return f"no named street nearby ({lon:.6f}, {lat:.6f})"


def map_links(lon_gcj: float, lat_gcj: float, name: str) -> tuple[str, str]:
    """``(amap_url, baidu_url)`` that open the point, labelled, in Amap and Baidu Maps.

    Amap's URI API takes GCJ-02 (``coordinate=gaode``); Baidu's takes BD-09 (``bd09ll``).
    """
    q = quote(name, safe="")
    amap = (
        f"https://uri.amap.com/marker?position={lon_gcj:.6f},{lat_gcj:.6f}"
        f"&name={q}&coordinate=gaode&callnative=0"
    )
    blon, blat = (float(v[0]) for v in _crs.gcj02_to_bd09(lon_gcj, lat_gcj))
    baidu = (
        f"https://api.map.baidu.com/marker?location={blat:.6f},{blon:.6f}&title={q}"
        f"&content={q}&output=html&coord_type=bd09ll&src=servicecircle"
    )
    return amap, baidu


def _nearest_candidates(pts: gpd.GeoDataFrame, user: gpd.GeoDataFrame | None, net):
    n = len(pts)
    ids, names, dist = [""] * n, [""] * n, np.full(n, np.nan)
    if user is None or not len(user) or not n:
        return ids, names, dist
    u = user.to_crs(4326)
    uxy = np.column_stack(net.project(u.geometry.x.to_numpy(), u.geometry.y.to_numpy()))
    pxy = np.column_stack(net.project(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()))
    d, j = cKDTree(uxy).query(pxy)
    uid = (u["site_id"] if "site_id" in u else u.index.to_series()).astype(str).to_numpy()
    uname = (u["name"] if "name" in u else pd.Series(uid)).astype(str).to_numpy()
    return list(uid[j]), list(uname[j]), np.round(d, 1)


def _counties(pts: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None) -> list[str]:
    if boundaries is None or not len(boundaries) or "county" not in boundaries:
        return [""] * len(pts)
    b = boundaries.to_crs(4326)
    hit = gpd.sjoin(gpd.GeoDataFrame(geometry=pts.geometry.to_numpy(), crs=4326), b[["county", "geometry"]],
                    how="left", predicate="within")  # fmt: skip
    hit = hit[~hit.index.duplicated()]
    return hit["county"].fillna("").astype(str).tolist()


def describe_proposals(
    sites: gpd.GeoDataFrame,
    net,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    output_crs: str | None = None,
    lang: str = "zh",
    id_prefix: str = "P",
    kind_label: str | None = None,
) -> gpd.GeoDataFrame:
    """Add ids, names, street-name locations, county, nearest user candidate, coordinates in
    the planner's system and map links to proposed sites.

    Parameters
    ----------
    sites
        Proposals (WGS84 points), e.g. ``Proposal.sites``.
    net
        The walking network (its street names describe the location).
    candidates
        The user's own candidate points (``site_id``, ``name``); the nearest is named with its
        straight-line distance in metres (``nearest_candidate_m``).
    boundaries
        County polygons with a ``county`` column.
    output_crs
        ``gcj02`` or ``bd09`` to add ``lon_gcj02``/``lat_gcj02`` (or ``_bd09``), 6 decimals.
    id_prefix
        ``P`` gives ``P01``, ``P02`` ...

    Returns
    -------
    GeoDataFrame
        A copy of ``sites`` with :data:`DESCRIBE_COLUMNS` (and the coordinate columns).
    """
    out = sites.copy()
    n = len(out)
    width = max(2, len(str(n)))
    out["proposal_id"] = [f"{id_prefix}{i + 1:0{width}d}" for i in range(n)]
    lon = out.geometry.x.to_numpy()
    lat = out.geometry.y.to_numpy()
    out["lon"], out["lat"] = np.round(lon, 6), np.round(lat, 6)
    index = INDEX_CACHE.get(net, "street_index", StreetIndex) if n else None
    out["location_desc"] = [
        describe_location(index, a, b, lang) for a, b in zip(lon, lat, strict=True)
    ]
    out["county"] = _counties(out, boundaries)
    ids, names, dist = _nearest_candidates(out, candidates, net)
    out["nearest_candidate_id"], out["nearest_candidate_name"] = ids, names
    out["nearest_candidate_m"] = dist
    out["name"] = _names(out, lang, kind_label)
    _crs.add_system_columns(out, output_crs)
    glon, glat = _crs.wgs84_to_gcj02(out["lon"], out["lat"]) if n else (np.zeros(0), np.zeros(0))
    glon, glat = np.round(glon, _crs.COORD_DECIMALS), np.round(glat, _crs.COORD_DECIMALS)
    links = [map_links(a, b, nm) for a, b, nm in zip(glon, glat, out["name"], strict=True)]
    out["amap_url"] = [a for a, _ in links]
    out["baidu_url"] = [b for _, b in links]
    return out


#: What a proposed site of each kind is called in its name.
KIND_NAMES = {
    "zh": {"station": "爱心驿站", "integrated": "会站家", "cultural_palace": "工人文化宫",
           "partner": "融合共建点", "": "新建站点"},
    "en": {"station": "rest station", "integrated": "integrated site",
           "cultural_palace": "cultural palace", "partner": "partner point", "": "new site"},
}  # fmt: skip


def _names(out: gpd.GeoDataFrame, lang: str, kind_label: str | None) -> list[str]:
    """A file candidate keeps its own name; a generated one is named by id, street and kind,
    e.g. ``P01 光谷六路新建站点`` or ``P01 光谷六路工人文化宫(建议)``."""
    words = KIND_NAMES["zh" if lang == "zh" else "en"]
    n = len(out)
    kinds = out["suggested_kind"].astype(str).to_numpy() if "suggested_kind" in out else None
    old = out["name"].astype(str).to_numpy() if "name" in out else np.full(n, "")
    src = out["source"].astype(str).to_numpy() if "source" in out else np.full(n, "")
    names = []
    for i, (pid, desc) in enumerate(zip(out["proposal_id"], out["location_desc"], strict=True)):
        if src[i] == "file" and old[i] not in ("", "nan"):
            names.append(f"{pid} {old[i]}")
            continue
        label = kind_label or words.get(kinds[i] if kinds is not None else "", words[""])
        street = desc.split("与")[0].split("交叉口")[0].split("旁")[0] if lang == "zh" else ""
        at = street if street and not street.startswith("附近无") else ""
        names.append(f"{pid} {at}{label}(建议)" if lang == "zh" else f"{pid} {label} (proposed)")
    return names


def pmedian_figures(sites: gpd.GeoDataFrame, selected, cost, w, e) -> gpd.GeoDataFrame:
    """Positive, unit-bearing figures for p-median proposals (e.g. a first cultural palace).

    For each proposal, in rank order: ``newly_reached_population`` (people who could reach no
    such site before and now can), ``weighted_distance_saved`` (person-metres saved for people
    who could already reach one; never negative), and ``mean_walk_m_after`` (population-weighted
    mean walk to the nearest such site once it is built, metres).
    """
    w = np.asarray(w, float)
    cur = np.asarray(e, float).copy()
    ok = np.isfinite(w)
    reached, saved, mean_after = [], [], []
    for j in np.asarray(selected, int):
        new = np.minimum(cur, cost[j])
        had = np.isfinite(cur) & ok
        reached.append(float(w[~np.isfinite(cur) & np.isfinite(new) & ok].sum()))
        saved.append(max(0.0, float((w[had] * (cur[had] - new[had])).sum())))
        cur = new
        fin = np.isfinite(cur) & ok
        mean_after.append(float((w * cur)[fin].sum() / w[fin].sum()) if w[fin].sum() else np.nan)
    out = sites.copy()
    out["newly_reached_population"] = reached
    out["weighted_distance_saved"] = np.round(saved, 1)
    out["mean_walk_m_after"] = np.round(mean_after, 1)
    return out
