"""On-disk cache of built networks, keyed by the source's content hash and the parameters."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from ._model import Network

logger = logging.getLogger(__name__)

#: Bump when the build logic changes so that old cache entries are not reused.
CACHE_VERSION = 5  # 4: islands dropped by length; 5: OSM attribute shift fixed
_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def source_files(path: Path) -> list[Path]:
    """The files whose content defines a source (a shapefile's sidecars included)."""
    if path.suffix.lower() == ".shp":
        return [p for ext in _SIDECARS if (p := path.with_suffix(ext)).exists()]
    return [path]


def file_hash(path: Path) -> str:
    """SHA-256 of a source's content (all shapefile parts together)."""
    h = hashlib.sha256()
    for f in source_files(path):
        h.update(f.suffix.encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()


def cache_key(source_hash: str, params: dict[str, Any]) -> str:
    blob = json.dumps(
        {"v": CACHE_VERSION, "src": source_hash, **params}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def cache_path(cache_dir: Path, source: Path, key: str) -> Path:
    stem = source.name.split(".")[0][:40]
    return Path(cache_dir) / f"{stem}-{key}.npz"


def load(path: Path) -> Network | None:
    if not path.exists():
        return None
    try:
        net = Network.load_npz(path)
    except Exception as exc:  # a corrupt or foreign file: rebuild rather than fail
        logger.warning("ignoring unreadable cache file %s (%s)", path, exc)
        return None
    logger.info("loaded cached network %s", path.name)
    return net


def store(net: Network, path: Path) -> None:
    from ..io import atomic_path

    try:
        with atomic_path(path) as tmp:
            net.save_npz(tmp)
    except OSError as exc:
        logger.warning("could not write the network cache %s (%s)", path, exc)
