"""On-disk cache of built networks, keyed by the source's content hash and the parameters.

The cache lives in ``Config.cache_dir`` (``$SERVICECIRCLE_CACHE/servicecircle/`` when that is
set). Each entry is an uncompressed ``.npz`` of plain arrays (no pickles; read with
``allow_pickle=False``) whose zip comment holds a SHA-256 checksum of every byte before the
zip directory, i.e. of every array with its name, dtype and shape. An entry whose checksum is
missing or wrong (edited, truncated, written by another version) is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

from ._model import Network

logger = logging.getLogger(__name__)

#: Bump when the build logic changes so that old cache entries are not reused.
CACHE_VERSION = 6  # 4: islands by length; 5: OSM attribute shift fixed; 6: checksummed entries
_SUM_PREFIX = b"servicecircle-sha256:"
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
    """20 hex digits naming a built network: the cache version, the source's content hash
    (:func:`file_hash`) and the build parameters."""
    blob = json.dumps(
        {"v": CACHE_VERSION, "src": source_hash, **params}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def cache_path(cache_dir: Path, source: Path, key: str) -> Path:
    """Where the entry ``key`` of ``source`` lives: ``<cache_dir>/<source stem>-<key>.npz``."""
    stem = source.name.split(".")[0][:40]
    return Path(cache_dir) / f"{stem}-{key}.npz"


def _digest(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()  # SHA-NI: ~2x faster than blake2b here


def seal(path: Path) -> None:
    """Write the checksum of an ``.npz`` written by ``Network.save_npz`` into its zip comment."""
    data = Path(path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        start = zf.start_dir
    with zipfile.ZipFile(path, "a") as zf:
        zf.comment = _SUM_PREFIX + _digest(memoryview(data)[:start]).encode()


def verified_bytes(path: Path) -> bytes:
    """The entry's bytes, after checking the checksum.

    Raises
    ------
    ValueError
        When the checksum is missing or does not match.
    """
    data = Path(path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        start, comment = zf.start_dir, zf.comment
    if not comment.startswith(_SUM_PREFIX):
        raise ValueError("no checksum (written by an older version or edited)")
    if comment[len(_SUM_PREFIX) :].decode() != _digest(memoryview(data)[:start]):
        raise ValueError("checksum mismatch: the file was changed after it was written")
    return data


def load(path: Path) -> Network | None:
    """The cached network at ``path``, or None when absent or when its checksum fails (then a
    warning says so and the caller rebuilds it)."""
    if not path.exists():
        return None
    try:
        net = Network.load_npz(io.BytesIO(verified_bytes(path)))
    except Exception as exc:  # a tampered, corrupt or foreign file: rebuild rather than trust
        logger.warning("ignoring cache file %s (%s); rebuilding it", path, exc)
        return None
    logger.info("loaded cached network %s", path.name)
    return net


def store(net: Network, path: Path, *, edges=None) -> None:
    """Write ``net`` (or its edges where ``edges`` is true: see :meth:`Network.save_npz`) to
    ``path`` atomically and seal it; a full or read-only disk only warns."""
    from ..io import atomic_path

    try:
        with atomic_path(path) as tmp:
            net.save_npz(tmp, edges=edges)
            seal(tmp)
    except OSError as exc:
        logger.warning("could not write the network cache %s (%s)", path, exc)


#: Bump when a clipped piece would differ for the same source, options and area.
PIECE_VERSION = 1


def piece_path(cache_dir: Path, key: str) -> Path:
    """Where the cache keeps the clipped network piece whose key is ``key`` (a province
    audit's county piece: see :func:`geo.audit._inputs.iter_networks`)."""
    digest = hashlib.sha256(f"{CACHE_VERSION}:{PIECE_VERSION}:{key}".encode()).hexdigest()[:24]
    return Path(cache_dir) / "pieces" / f"{digest}.npz"


def cached_piece(cache_dir: Path, key: str) -> bytes | None:
    """The bytes of the cached piece ``key`` once its checksum holds, or None when absent or
    damaged (then a warning says so, and the piece is clipped again)."""
    path = piece_path(cache_dir, key)
    if not path.exists():
        return None
    try:
        return verified_bytes(path)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        logger.warning("ignoring cached network piece %s (%s); clipping it again", path, exc)
        return None


def store_piece(piece: Path, cache_dir: Path, key: str) -> bool:
    """Keep the sealed piece file ``piece`` (see :func:`seal`) in the cache under ``key``: a
    hard link when the cache is on the same disk, else a copy; written atomically. A full or
    read-only disk only warns (and False is returned: the caller stops trying)."""
    import os
    import shutil

    from ..io import atomic_path

    target = piece_path(cache_dir, key)
    try:
        with atomic_path(target) as tmp:
            tmp.unlink()
            try:
                os.link(piece, tmp)
            except OSError:  # another filesystem, or no hard links there
                shutil.copyfile(piece, tmp)
    except OSError as exc:
        logger.warning("could not keep the network pieces in the cache %s (%s)", target, exc)
        return False
    return True
