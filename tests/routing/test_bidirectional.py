"""Point-to-point routes by the bounded bidirectional search: the same costs as networkx on the
network cut back into its OSM segments (tests/reference.py), and the very same routes as one
search from the origin over the whole network traced back (the way routes were found before)."""

import networkx as nx
import numpy as np
import pytest

from geo.routing import bidirectional, kernel
from geo.routing.paths import route, route_from_pieces, trace
from geo.routing.search import edge_costs, search_from_points
from geo.routing.snapping import snap_points
from tests.reference import split_graph


def _random_points(net, rng, n):
    """``n`` (lon, lat) points that snap onto the network."""
    west, south, east, north = net.bounds_lonlat
    points: list[tuple[float, float]] = []
    while len(points) < n:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if snap_points(net, lon, lat).on_network[0]:
            points.append((float(lon), float(lat)))
    return points


def _one_search_route(net, origin, destination, *, weight="travel_time_s", blocked=None):
    """The route as found by one unbounded search from the origin, traced back."""
    start, end = (snap_points(net, *p) for p in (origin, destination))
    search = search_from_points(net, start, weight=weight, blocked=blocked)
    pieces = trace(net, search, end, 0)
    if pieces is None:
        return None
    return route_from_pieces(net, pieces, time_s=edge_costs(net, blocked=blocked),
                             snap_m=(start.snap_m[0], end.snap_m[0]))


def _check_pairs(net, pairs, *, weight="travel_time_s", blocked=None):
    """Every pair's route costs what networkx finds on the split graph and is the route of one
    search from the origin; returns how many pairs were unreachable."""
    names = {}
    for i, (origin, destination) in enumerate(pairs):
        names[f"S{i}"], names[f"T{i}"] = (snap_points(net, *origin),
                                          snap_points(net, *destination))
    costs = None
    if blocked is not None:
        costs = np.where(blocked, np.inf, getattr(net, f"edge_{weight}"))
    graph = split_graph(net, names, costs, weight=weight)
    unreachable = 0
    for i, (origin, destination) in enumerate(pairs):
        found = route(net, origin, destination, weight=weight, blocked=blocked)
        try:
            expected = nx.dijkstra_path_length(graph, f"S{i}", f"T{i}")
        except nx.NetworkXNoPath:
            expected = np.inf
        got = np.inf if found is None else (found.travel_time_s if weight == "travel_time_s"
                                             else found.length_m)
        assert got == pytest.approx(expected, abs=1e-6, rel=1e-9), (i, origin, destination)
        assert found == _one_search_route(net, origin, destination, weight=weight,
                                          blocked=blocked)
        unreachable += found is None
    return unreachable


@pytest.mark.parametrize("mode", ["drive", "walk"])
@pytest.mark.parametrize("weight", ["travel_time_s", "length_m"])
def test_random_routes_equal_networkx_and_one_search(networks, mode, weight, rng):
    net = networks("liechtenstein", mode)
    points = _random_points(net, rng, 24)
    _check_pairs(net, list(zip(points[::2], points[1::2])), weight=weight)


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_routes_with_blocked_roads_and_unreachable_destinations(networks, mode, rng):
    net = networks("liechtenstein", mode)
    points = _random_points(net, rng, 30)
    pairs = list(zip(points[::2], points[1::2]))
    assert _check_pairs(net, pairs, blocked=rng.random(net.n_edges) < 0.05) < len(pairs)
    # So many roads closed that most destinations are cut off from their origins.
    assert _check_pairs(net, pairs, blocked=rng.random(net.n_edges) < 0.3) > 0


def _lonlat_at(net, geom: int, fraction: float) -> tuple[float, float]:
    at = net.geometries[geom].interpolate(fraction, normalized=True)
    lon, lat = net.to_lonlat.transform(at.x, at.y)
    return float(lon), float(lat)


def test_same_road_both_ways_and_one_way_roads(li_drive, rng):
    net = li_drive
    lengths = np.asarray([g.length for g in net.geometries])
    one_way = np.flatnonzero((net.geom_edges[:, 1] < 0) & (lengths > 50))
    two_way = np.flatnonzero((net.geom_edges[:, 1] >= 0) & (lengths > 200))
    pairs = []
    for g in [*rng.choice(one_way, 5, replace=False), *rng.choice(two_way, 3, replace=False)]:
        for a, b in ((0.2, 0.7), (0.7, 0.2)):  # along the road, and against it
            pairs.append((_lonlat_at(net, int(g), a), _lonlat_at(net, int(g), b)))
    # Ends on two different one-way roads: the way round may be long.
    for g, h in rng.choice(one_way, (4, 2), replace=False):
        pairs.append((_lonlat_at(net, int(g), 0.5), _lonlat_at(net, int(h), 0.5)))
    _check_pairs(net, pairs)
    # Against a one-way road, the route leaves it and comes back round to the point behind.
    backwards = route(net, pairs[1][0], pairs[1][1])
    assert len(backwards.edges) > 1


def test_the_search_goes_on_past_a_first_meeting_that_is_not_the_cheapest(li_drive,
                                                                          monkeypatch):
    """Balls of radius 0.4 × the route's cost already touch along a longer path (one long edge
    joins them): stopping there would give a route a third longer. The search must go on until
    μ ≤ both radii together."""
    net = li_drive
    origin, destination = (9.564952622618, 47.122734333621), (9.560488536396, 47.115308372571)
    cheapest = _one_search_route(net, origin, destination).travel_time_s
    found = []
    crossing = bidirectional._crossing

    def record(*args):
        result = crossing(*args)
        found.append(result[0])
        return result

    monkeypatch.setattr(bidirectional, "_crossing", record)
    monkeypatch.setattr(bidirectional, "_first_radius", lambda *args: 0.4 * cheapest)
    _check_pairs(net, [(origin, destination)])
    assert found[0] > 1.2 * cheapest  # the first meeting
    assert found[-1] == pytest.approx(cheapest)


def test_an_origin_cut_off_by_barriers_is_found_unreachable_without_growing_on(li_drive,
                                                                               monkeypatch):
    """Once a ball has no edge out of it, it holds all its point can reach: the search stops
    there rather than growing its radius round after round."""
    net = li_drive
    origin, destination = (9.5209, 47.1410), (9.5450, 47.2200)
    road = snap_points(net, *origin).geom[0]
    forward = net.geom_edges[road, 0]
    ends = [net.edge_tail[forward], net.edge_head[forward]]
    # Every other road at either end of the origin's road closed.
    blocked = ((np.isin(net.edge_tail, ends) | np.isin(net.edge_head, ends))
               & (net.edge_geom != road))
    assert route(net, origin, destination) is not None  # (the speed guess is made once)
    searches = []
    search = kernel.search

    def count(*args, **kwargs):
        searches.append(kwargs.get("limit"))
        return search(*args, **kwargs)

    monkeypatch.setattr(kernel, "search", count)
    assert route(net, origin, destination, blocked=blocked) is None
    assert len(searches) == 2  # one round: the origin's ball is closed at once
    searches.clear()
    assert route(net, destination, origin, blocked=blocked) is None
    assert len(searches) == 2
