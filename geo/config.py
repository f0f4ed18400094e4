"""One frozen configuration object, passed explicitly through every stage.

There are no global settings: build a :class:`Config` (or use the defaults), and derive variants
with :meth:`Config.replace`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import InputError

#: Default walking speed in km/h. GB 50180-2018 (城市居住区规划设计标准) sizes the 15-minute
#: life circle at a walking distance of 800-1,000 m, i.e. 1,000 m in 15 min = 4.0 km/h. This is
#: also close to the 1.1-1.2 m/s design speed for older pedestrians in the Highway Capacity
#: Manual, so it does not flatter coverage for the workers who walk slowest.
DEFAULT_WALK_SPEED_KMH = 4.0

#: The life-circle levels of GB 50180-2018, in minutes.
DEFAULT_THRESHOLDS_MIN = (5.0, 10.0, 15.0)

#: The service-circle walk time in minutes (the 15-minute circle).
DEFAULT_MINUTES = 15.0

#: Largest straight-line access leg in metres from a point to the nearest street; farther
#: points are ``off_network`` (large residential compounds sit 200-400 m from a mapped street).
DEFAULT_MAX_SNAP_M = 500.0

#: Half-width in metres of the street corridor drawn for isochrone polygons (about the depth of
#: a street-side building plot).
DEFAULT_STREET_BUFFER_M = 50.0

#: Extra margin in metres, beyond the largest walk level, kept when a network is clipped to a
#: boundary, so that walks which leave and re-enter the area are not cut.
CLIP_MARGIN_M = 500.0

#: Largest plausible population of one community (社区); bigger values are rejected as typos
#: (a city district has ~1 million people). Override with ``max_population=`` or
#: ``--max-population``. Here (not in geo.io) so the command-line parser needs no geopandas.
MAX_POPULATION = 1_000_000.0

#: Above this many sites, isochrones are drawn unioned per kind instead of one per site, so a
#: county map with thousands of sites stays small (a few MB) and quick to open. Here (not in
#: geo.maps) so that writing tables without a map loads no folium.
MAX_SITE_ISOCHRONES = 300

#: Metres per kilometre and minutes per hour (walking speed km/h -> metres per minute).
M_PER_KM, MIN_PER_H = 1000.0, 60.0


def _default_cache_dir() -> Path:
    import os

    base = os.environ.get("SERVICECIRCLE_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "servicecircle" if base else Path.home() / ".cache" / "servicecircle"


@dataclass(frozen=True)
class Config:
    """Settings for a servicecircle run.

    Parameters
    ----------
    minutes
        The service-circle walk time in minutes (default 15).
    walk_speed_kmh
        Walking speed in km/h (default 4.0, see :data:`DEFAULT_WALK_SPEED_KMH`).
    max_distance_m
        If set, the coverage limit in metres, overriding ``minutes`` x ``walk_speed_kmh``.
    thresholds_min
        Extra walk-time levels in minutes reported alongside ``minutes`` (5, 10 and 15 by
        default). Each becomes a ``covered_<m>min`` column.
    max_snap_m
        Largest straight-line access leg, in metres, from a point to the nearest street. Points
        farther away are flagged ``off_network`` rather than silently covered or dropped
        (default :data:`DEFAULT_MAX_SNAP_M`, 500 m: large residential compounds in Chinese
        cities often sit 200-400 m from the nearest mapped street).
    boundary_buffer_m
        When a network is clipped to a boundary, keep streets within this distance of it in
        metres so that walks that leave and re-enter the area are not cut (default: the
        largest walk level plus :data:`CLIP_MARGIN_M`, 500 m).
    street_buffer_m
        Half-width in metres of the street corridor drawn for isochrone polygons (default 50 m:
        about the depth of a street-side building plot).
    cache_dir
        Folder for cached networks. Defaults to ``$SERVICECIRCLE_CACHE``, else
        ``$XDG_CACHE_HOME/servicecircle``, else ``~/.cache/servicecircle``.
    use_cache
        Read and write the network cache (default True).
    verbose
        Show progress bars on long work.
    """

    minutes: float = DEFAULT_MINUTES
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH
    max_distance_m: float | None = None
    thresholds_min: tuple[float, ...] = DEFAULT_THRESHOLDS_MIN
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    boundary_buffer_m: float | None = None
    street_buffer_m: float = DEFAULT_STREET_BUFFER_M
    cache_dir: Path = field(default_factory=_default_cache_dir)
    use_cache: bool = True
    verbose: bool = False

    def __post_init__(self) -> None:
        _positive("minutes", self.minutes)
        _positive("walk_speed_kmh", self.walk_speed_kmh)
        if self.max_distance_m is not None:
            _positive("max_distance_m", self.max_distance_m)
        _positive("max_snap_m", self.max_snap_m)
        _positive("street_buffer_m", self.street_buffer_m)
        if self.boundary_buffer_m is not None and not (self.boundary_buffer_m >= 0):
            raise InputError(
                "boundary_buffer_m must be zero or positive",
                column="boundary_buffer_m",
                value=self.boundary_buffer_m,
                fix="pass a distance in metres, e.g. 1500",
            )
        for t in self.thresholds_min:
            _positive("thresholds_min", t)
        object.__setattr__(self, "thresholds_min", tuple(float(t) for t in self.thresholds_min))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))

    # -- derived values ---------------------------------------------------------------------
    @property
    def metres_per_minute(self) -> float:
        """Walking speed in metres per minute."""
        return self.walk_speed_kmh * M_PER_KM / MIN_PER_H

    @property
    def limit_m(self) -> float:
        """The coverage limit in metres (``max_distance_m`` or ``minutes`` x speed)."""
        if self.max_distance_m is not None:
            return float(self.max_distance_m)
        return self.minutes * self.metres_per_minute

    @property
    def levels(self) -> dict[str, float]:
        """Every reported level as ``{column suffix: limit in metres}``, ascending (the same as
        :attr:`levels_m`; kept under this name for existing callers).

        The main level is always present. When ``max_distance_m`` is set, the minute levels
        are dropped and the single level is named after the distance (``"1000m"``).
        """
        return self.levels_m

    @property
    def levels_min(self) -> dict[str, float]:
        """Every reported level as ``{column suffix: walk time in minutes}``: what users see
        (``{"5min": 5.0, "10min": 10.0, "15min": 15.0}``)."""
        return {k: m / self.metres_per_minute for k, m in self.levels_m.items()}

    @property
    def levels_m(self) -> dict[str, float]:
        """Every reported level as ``{column suffix: limit in metres}``, ascending."""
        if self.max_distance_m is not None:
            return {f"{_fmt(self.max_distance_m)}m": float(self.max_distance_m)}
        mins = sorted(set(self.thresholds_min) | {float(self.minutes)})
        return {f"{_fmt(m)}min": m * self.metres_per_minute for m in mins}

    @property
    def main_level(self) -> str:
        """The column suffix of the main coverage level."""
        if self.max_distance_m is not None:
            return f"{_fmt(self.max_distance_m)}m"
        return f"{_fmt(self.minutes)}min"

    @property
    def clip_buffer_m(self) -> float:
        """Buffer in metres used when clipping a network to a boundary."""
        if self.boundary_buffer_m is not None:
            return float(self.boundary_buffer_m)
        return max(self.levels_m.values()) + CLIP_MARGIN_M

    def replace(self, **changes: Any) -> Config:
        """Return a copy with some fields changed (the original is frozen)."""
        return dataclasses.replace(self, **changes)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _positive(name: str, value: float | None) -> None:
    try:
        ok = value is not None and math.isfinite(float(value)) and float(value) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(
            f"{name} must be a positive number",
            column=name,
            value=value,
            fix=f"pass a number greater than zero for {name}",
        )
