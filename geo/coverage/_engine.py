"""Old home of the array core; it now lives, public and typed, in :mod:`geo.coverage.core`.

Kept so that existing imports keep working; new code imports :mod:`geo.coverage.core`.
"""

from __future__ import annotations

from .core import (
    _RADIUS_SLACK,
    EPS_M,
    NodeField,
    Reach,
    _augment,
    _endpoint_costs,
    _local_csr,
    _node_tree,
    edge_pieces,
    nearest_sites,
    point_distances,
    reach_matrix,
    reach_pairs,
    same_edge_pairs,
    site_reach,
)

__all__ = [
    "EPS_M",
    "_RADIUS_SLACK",
    "NodeField",
    "Reach",
    "_augment",
    "_endpoint_costs",
    "_local_csr",
    "_node_tree",
    "edge_pieces",
    "nearest_sites",
    "point_distances",
    "reach_matrix",
    "reach_pairs",
    "same_edge_pairs",
    "site_reach",
]
