"""A PNG file from an RGBA pixel buffer, written with numpy and zlib (no Pillow encoder).

Pillow's PNG encoder tries PNG's five row filters on every row and keeps the best one; on a
1500 × 1500 px map that filtering takes most of its time, and a map of flat colours compresses
as well without any filter. On the Helsinki map of issue 13 (200 sites, 3,014 communities),
Pillow at zlib level 3 takes 0.079 s for 1.00 MB; this writer 0.035 s for 0.78 MB, and the file
decodes to the same pixels. The chunks are the ones matplotlib's ``savefig`` writes (through
Pillow): ``IHDR``, ``tEXt`` (``Software``), ``pHYs`` (the dpi), ``IDAT``, ``IEND``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

#: zlib level: 3 is within 3% of the size of level 6 on a map, in half the time.
ZLIB_LEVEL = 3
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_METRES_PER_INCH = 0.0254


def write_png(
    path: str | Path, rgba: Any, *, dpi: float, software: str = "", level: int = ZLIB_LEVEL
) -> None:
    """Write ``rgba`` (``(height, width, 4)`` uint8, e.g. a canvas's ``buffer_rgba()``) as an
    8-bit RGBA PNG with ``dpi`` dots per inch and, when given, a ``Software`` text."""
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8:
        raise ValueError(f"rgba: expected a (height, width, 4) uint8 array, got {a.dtype} "
                         f"{a.shape}")  # fmt: skip
    h, w = a.shape[:2]
    rows = np.zeros((h, 1 + 4 * w), np.uint8)  # each row: filter type 0 (none), then its pixels
    rows[:, 1:] = a.reshape(h, 4 * w)
    ppm = int(dpi / _METRES_PER_INCH + 0.5)  # pixels per metre, rounded as Pillow does
    with open(path, "wb") as fh:
        fh.write(_SIGNATURE)
        fh.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)))
        if software:
            fh.write(_chunk(b"tEXt", b"Software\0" + software.encode("latin-1")))
        fh.write(_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        fh.write(_chunk(b"IDAT", zlib.compress(rows, level)))
        fh.write(_chunk(b"IEND", b""))


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(tag))
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)
