"""servicecircle: walking access to trade-union service sites (15分钟职工服务圈).

The pipeline runs one way — load, network, coverage, optimise, maps and reports:

>>> import geo
>>> cfg = geo.Config(minutes=15)
>>> sites = geo.load_sites("sites.xlsx", crs="gcj02").data
>>> communities = geo.load_communities("communities.csv").data
>>> net = geo.build_network("county.osm.pbf", config=cfg)
>>> res = geo.compute_coverage(net, sites, communities, config=cfg)
>>> res.summary["population_covered_share"]
"""

from __future__ import annotations

from ._errors import (
    CRSError,
    InputError,
    NetworkError,
    OptionalDependencyError,
    ServiceCircleError,
    SolverError,
)
from .config import DEFAULT_WALK_SPEED_KMH, Config
from .coverage import CoverageResult, compute_coverage
from .io import LoadResult, load_boundaries, load_communities, load_sites
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


def __getattr__(name: str):
    # maps pull in folium; import them only when asked for
    if name in ("make_map", "save_map"):
        from . import maps

        return getattr(maps, name)
    if name in ("scenario", "inline_map"):  # notebooks: interactive maps inline, offline
        from .maps import _scenario

        return _scenario.scenario if name == "scenario" else _scenario.inline
    if name == "compare":  # geo.compare(before, after, ...): a callable module
        import importlib

        return importlib.import_module(".compare", __name__)
    raise AttributeError(f"module 'geo' has no attribute {name!r}")
