"""Routing on a :class:`~geo.network.RoadNetwork`: snapping, the shortest-path kernel (and the
bounded compiled one service areas use), searches, path tracing, routes and cost matrices. Each
name is imported on first use (:mod:`geo.core.lazy`)."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.routing.matrix import CostMatrix, cost_matrix
    from geo.routing.paths import Route, route, route_from_pieces, substring, trace
    from geo.routing.search import (
        WEIGHTS,
        Search,
        cost_to_points,
        edge_costs,
        search_from_points,
        shortest_from_nodes,
    )
    from geo.routing.snapping import DEFAULT_MAX_SNAP_M, Snapped, check_lonlat, snap_points

__all__ = ["DEFAULT_MAX_SNAP_M", "WEIGHTS", "CostMatrix", "Route", "Search", "Snapped",
           "check_lonlat", "cost_matrix", "cost_to_points", "edge_costs", "route",
           "route_from_pieces", "search_from_points", "shortest_from_nodes", "snap_points",
           "substring", "trace"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo.routing.matrix": ["CostMatrix", "cost_matrix"],
    "geo.routing.paths": ["Route", "route", "route_from_pieces", "substring", "trace"],
    "geo.routing.search": ["WEIGHTS", "Search", "cost_to_points", "edge_costs",
                           "search_from_points", "shortest_from_nodes"],
    "geo.routing.snapping": ["DEFAULT_MAX_SNAP_M", "Snapped", "check_lonlat", "snap_points"],
})
