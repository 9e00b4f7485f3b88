"""Routing on a :class:`~geo.network.RoadNetwork`: snapping, the one shortest-path kernel,
searches, path tracing, routes and cost matrices."""

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
