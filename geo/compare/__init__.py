"""Before/after comparison: two site lists on one network, or two audits county by county.

>>> cmp = compare_sites(net, communities, before_sites, after_sites, config=cfg)
>>> cmp.counties          # compare.csv: contract columns first
>>> cmp.communities       # every community newly covered or lost, distances before and after
>>> cmp.write("out/")     # compare.csv, compare.xlsx, communities_changed.csv,
...                       # site_changes.csv, target_progress.csv, compare_map.html

Both ways give the same tables. County totals count the main 15-minute level (or the run's
main level when there is no 15-minute level); integrated sites are the sites of kind
``integrated`` in each county (from the sites' ``county`` column, or the audit's in-county
flag); a community is *gained* when it was uncovered before and is covered after, *lost* the
other way round.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import geopandas as gpd

from .._errors import InputError
from ..config import Config
from ..coverage import CoverageResult
from ._result import CompareResult, write_xlsx
from ._sources import compare_audits, compare_sites
from ._tables import (
    CHANGE_ZH,
    COMPARE_COLUMNS,
    INTEGRATED_TARGET,
    MOVED_M,
    OUTPUT_FILES,
    site_changes,
)

__all__ = [
    "CHANGE_ZH",
    "COMPARE_COLUMNS",
    "INTEGRATED_TARGET",
    "MOVED_M",
    "OUTPUT_FILES",
    "CompareResult",
    "change_map",
    "compare",
    "compare_audits",
    "compare_sites",
    "site_changes",
    "write_xlsx",
]


def compare(
    before: Any,
    after: Any,
    *,
    network: Any = None,
    communities: gpd.GeoDataFrame | None = None,
    config: Config | None = None,
) -> CompareResult:
    """``geo.compare(...)``: two coverage results, two site lists, or two audit folders.

    * ``compare(res_before, res_after)`` with two :class:`~geo.coverage.CoverageResult` on
      the same communities and network;
    * ``compare(sites_before, sites_after, network=net, communities=comms, config=cfg)``;
    * ``compare("audit_2024/", "audit_2025/")``.
    """
    if isinstance(before, CoverageResult) and isinstance(after, CoverageResult):
        return compare_sites(
            before.network,
            communities if communities is not None else before.communities,
            before.sites,
            after.sites,
            config=config or before.config,
        )
    if isinstance(before, (str, Path)) and network is None:
        return compare_audits(before, after)
    if network is None or communities is None:
        raise InputError(
            "compare needs the network and the communities for two site lists",
            value=type(before).__name__,
            fix="geo.compare(before, after, network=net, communities=comms), or pass two "
            "coverage results, or two audit folders",
        )
    return compare_sites(network, communities, before, after, config=config)


def __getattr__(name: str) -> Any:
    """``change_map``, imported on first use (it loads folium)."""
    if name == "change_map":
        from ._map import change_map

        return change_map
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> CompareResult:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
