"""Cell values as offices type them: full-width digits, degree-minute-second text, ids with
invisible characters, "lon,lat" in one cell."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_DMS = re.compile(
    r"^\s*([NSEW北南东西]?)\s*(\d+(?:\.\d+)?)\s*(?:°|度|d|:|\s)\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:'|′|分|m|:|\s)\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|''|秒|s)?\s*)?([NSEW北南东西]?)\s*$",
    re.IGNORECASE,
)
_NEGATIVE = {"s", "w", "南", "西"}
_PAIR_SPLIT = re.compile(r"\s*[,;，；/|]\s*|\s+")


def clean_text(value: object) -> str:
    """NFKC-normalised text (full-width digits and punctuation become ASCII), without
    zero-width characters, stripped; ``nan``/``None`` become empty."""
    s = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", str(value))).strip()
    return "" if s in ("nan", "None", "NaN", "<NA>") else s


def id_key(value: str) -> str:
    """The form of an id compared for duplicates: cleaned and case-folded."""
    return clean_text(value).casefold()


def parse_dms(text: str) -> float:
    """Degrees-minutes-seconds text (``114°16'30.5"E``, ``30度35分45秒``) to decimal degrees;
    NaN when it is not such text."""
    m = _DMS.match(text)
    if not m or (m.group(3) is None and m.group(4) is None):
        return float("nan")
    d, mi, se = (float(g) if g else 0.0 for g in m.group(2, 3, 4))
    if mi >= 60 or se >= 60:
        return float("nan")
    hemi = (m.group(1) or m.group(5) or "").lower()
    value = d + mi / 60.0 + se / 3600.0
    return -value if hemi in _NEGATIVE else value


def parse_coord(text: str) -> float:
    """A coordinate cell to a float: decimal (full-width digits allowed) or DMS text."""
    s = clean_text(text)
    if not s:
        return float("nan")
    try:
        return float(s)
    except ValueError:
        return parse_dms(s)


def parse_coords(values: np.ndarray) -> np.ndarray:
    return np.array([parse_coord(v) for v in values], dtype=float)


def split_pair(text: str) -> tuple[str, str]:
    """``"114.2650,30.5960"`` (or with a full-width comma, space, semicolon) to its two parts;
    ``("", "")`` for an empty cell and ``(text, "")`` when it cannot be split."""
    s = clean_text(text)
    if not s:
        return "", ""
    parts = [p for p in _PAIR_SPLIT.split(s) if p]
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) > 2:  # DMS with spaces: split where the hemisphere letter ends the first half
        m = re.match(r"^(.*?[EW东西])\s*[,;，；]?\s*(.+[NS北南].*)$", s, re.IGNORECASE)
        if m:
            return m.group(1), m.group(2)
    return s, ""


def parse_number(text: str) -> float:
    """A count such as population: thousands separators and full-width digits allowed."""
    s = clean_text(text).replace(",", "").replace(" ", "")
    if s.endswith("人"):
        s = s[:-1]
    try:
        return float(s)
    except ValueError:
        return float("nan")
