"""Atomic, spreadsheet-safe output."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    Readers never see a half-written file: the final ``os.replace`` is atomic on one filesystem.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600 files; use normal permissions
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text (CSV/Excel injection).

    Text that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with a
    single quote so that Excel and WPS show it as text and never evaluate it. Numbers are left
    alone.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells are passed through :func:`safe_text`."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            if s.dtype == object:  # mixed values: only text is touched
                out[col] = s.map(safe_text)
                continue
            risky = s.str.startswith(_FORMULA_START).fillna(False).to_numpy(bool)
            if risky.any():  # text columns: one vectorised test, cells changed only where needed
                out[col] = s.where(~risky, "'" + s)
    return out


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with a BOM (so Excel in China opens it correctly), atomically."""
    frame = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    with atomic_path(path) as tmp:
        safe_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, pd.Timestamp):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean_floats(o: Any) -> Any:
    if isinstance(o, float) and not np.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean_floats(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_floats(v) for v in o]
    return o


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as pretty UTF-8 JSON (NaN and infinity become null), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(_clean_floats(obj), ensure_ascii=False, indent=2, default=_json_default),
            encoding="utf-8",
        )
    return Path(path)


_CRS84 = '{ "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } }'


def _property_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row's non-geometry values as plain Python (missing and non-finite become None)."""
    cols = [c for c in df.columns if c != df.geometry.name]
    values = []
    for c in cols:
        s = df[c]
        ok = s.notna().to_numpy(bool, copy=True)
        if pd.api.types.is_float_dtype(s):
            ok &= np.isfinite(s.to_numpy(float, na_value=np.nan))
        values.append(
            [v if k else None for v, k in zip(s.astype(object).tolist(), ok, strict=True)]
        )
    if not cols:
        return [{} for _ in range(len(df))]
    return [dict(zip(cols, r, strict=True)) for r in zip(*values, strict=True)]


def write_geojson(gdf, path: str | Path, name: str | None = None) -> Path:
    """Write a WGS84 GeoDataFrame as GeoJSON (UTF-8), atomically.

    The same FeatureCollection layout as GDAL's GeoJSON driver (``name``, CRS84 ``crs``, one
    feature per row), written with shapely's GeoJSON writer (coordinates round-trip exactly)
    in a fraction of the time. Frames in another CRS go through GDAL unchanged.
    """
    import shapely

    path = Path(path)
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        with atomic_path(path) as tmp:
            gdf.to_file(tmp, driver="GeoJSON")
        return path
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values, dtype=object))
    feats = [
        '{ "type": "Feature", "properties": '
        + json.dumps(props, ensure_ascii=False, default=_json_default)
        + ', "geometry": '
        + (g if g is not None else "null")
        + " }"
        for props, g in zip(_property_rows(gdf), geoms, strict=True)
    ]
    layer = name or path.name.split(".")[0]
    text = '{\n"type": "FeatureCollection",\n"name": ' + json.dumps(layer, ensure_ascii=False)
    if gdf.crs is not None:
        text += f',\n"crs": {_CRS84}'
    text += ',\n"features": [\n' + ",\n".join(feats) + "\n]\n}\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
