"""servicecircle: walking access to trade-union service sites (15分钟职工服务圈).

The pipeline runs one way — load, network, coverage, optimise, maps and reports:

>>> import geo
>>> cfg = geo.Config(minutes=15)
>>> sites = geo.load_sites("sites.xlsx", crs="gcj02").data
>>> communities = geo.load_communities("communities.csv").data
>>> net = geo.build_network("county.osm.pbf", config=cfg)
>>> res = geo.compute_coverage(net, sites, communities, config=cfg)
>>> res.summary["population_covered_share"]

The names below are imported when first used (PEP 562), so ``import geo`` and the command
line's ``--help`` load no geopandas, folium or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    CRSError,
    InputError,
    NetworkError,
    OptionalDependencyError,
    ServiceCircleError,
    SolverError,
)
from .config import DEFAULT_WALK_SPEED_KMH, Config

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from . import compare
    from .coverage import CoverageResult, compute_coverage
    from .io import LoadResult, load_boundaries, load_communities, load_sites
    from .maps import make_map, save_map
    from .maps import scenario_map as scenario
    from .network import Network, build_network, from_networkx, save_graphml, to_networkx

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_WALK_SPEED_KMH",
    "CRSError",
    "Config",
    "CoverageResult",
    "InputError",
    "LoadResult",
    "Network",
    "NetworkError",
    "OptionalDependencyError",
    "ServiceCircleError",
    "SolverError",
    "__version__",
    "build_network",
    "compare",
    "compute_coverage",
    "from_networkx",
    "load_boundaries",
    "load_communities",
    "load_sites",
    "make_map",
    "save_graphml",
    "save_map",
    "scenario",
    "to_networkx",
]

#: public name -> (subpackage, its name there); imported on first use
_LAZY = {
    "CoverageResult": ("coverage", "CoverageResult"),
    "compute_coverage": ("coverage", "compute_coverage"),
    "LoadResult": ("io", "LoadResult"),
    "load_boundaries": ("io", "load_boundaries"),
    "load_communities": ("io", "load_communities"),
    "load_sites": ("io", "load_sites"),
    "Network": ("network", "Network"),
    "build_network": ("network", "build_network"),
    "from_networkx": ("network", "from_networkx"),
    "save_graphml": ("network", "save_graphml"),
    "to_networkx": ("network", "to_networkx"),
    "make_map": ("maps", "make_map"),  # maps pull in folium
    "save_map": ("maps", "save_map"),
    "scenario": ("maps", "scenario_map"),  # notebooks: interactive maps inline, offline
    "inline_map": ("maps", "inline_map"),
}
#: subpackages that ``geo.<name>`` reaches without an explicit import (as before they were lazy)
_SUBPACKAGES = {
    "audit", "coverage", "crs", "demo", "io", "maps", "network", "optimize", "outputs", "schema",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        sub, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{sub}", __name__), attr)
        globals()[name] = value  # once imported, a plain attribute
        return value
    if name == "compare":  # geo.compare(before, after, ...): a callable module
        return importlib.import_module(".compare", __name__)
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY))
