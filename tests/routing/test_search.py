"""Routing against networkx on the same graph, snapping, barriers and bad points."""

import networkx as nx
import numpy as np
import pytest
import shapely
import shapely.ops

from geo.errors import PointError, ValidationError
from geo.network.convert import to_networkx
from geo.routing.paths import route
from geo.routing.search import cost_to_points, edge_costs, search_from_points, shortest_from_nodes
from geo.routing.snapping import check_lonlat, snap_points
from tests.reference import haversine_m, path_cost, split_graph

CASES = [(region, mode) for region in ("liechtenstein", "monaco") for mode in ("drive", "walk")]


def _nx_costs(graph, source, weight, n):
    found = nx.single_source_dijkstra_path_length(graph, source, weight=weight)
    costs = np.full(n, np.inf)
    costs[list(found)] = list(found.values())
    return costs


@pytest.mark.parametrize("region, mode", CASES)
@pytest.mark.parametrize("weight", ["travel_time_s", "length_m"])
def test_node_costs_equal_networkx(networks, region, mode, weight, rng):
    net = networks(region, mode)
    graph = to_networkx(net)
    for source in rng.choice(net.n_nodes, 8, replace=False):
        ours = shortest_from_nodes(net, source, weight=weight)
        np.testing.assert_allclose(ours, _nx_costs(graph, int(source), weight, net.n_nodes),
                                   atol=1e-6, rtol=0)


@pytest.mark.parametrize("region, mode", CASES[:2])
def test_reverse_search_and_cutoff_equal_networkx(networks, region, mode, rng):
    net = networks(region, mode)
    reversed_graph = to_networkx(net).reverse(copy=True)
    for target in rng.choice(net.n_nodes, 5, replace=False):
        reference = _nx_costs(reversed_graph, int(target), "travel_time_s", net.n_nodes)
        np.testing.assert_allclose(shortest_from_nodes(net, target, reverse=True), reference,
                                   atol=1e-6)
        cutoff = float(np.median(reference))
        bounded = shortest_from_nodes(net, target, reverse=True, cutoff=cutoff)
        inside = reference <= cutoff
        np.testing.assert_allclose(bounded[inside], reference[inside], atol=1e-6)
        assert np.isinf(bounded[reference > cutoff + 1e-9]).all()


def test_blocked_edges_and_cost_scale_equal_networkx_on_the_changed_graph(li_drive, rng):
    net = li_drive
    blocked = rng.random(net.n_edges) < 0.1
    scale = rng.uniform(1.0, 3.0, net.n_edges)
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(net.n_nodes))
    graph.add_weighted_edges_from(
        (int(net.edge_tail[e]), int(net.edge_head[e]), float(net.edge_travel_time_s[e] * scale[e]))
        for e in range(net.n_edges) if not blocked[e])
    for source in rng.choice(net.n_nodes, 5, replace=False):
        ours = shortest_from_nodes(net, source, blocked=blocked, cost_scale=scale)
        np.testing.assert_allclose(ours, _nx_costs(graph, int(source), "weight", net.n_nodes),
                                   atol=1e-6)


def test_nearest_source_labels_match_per_source_minimum(li_walk, rng):
    net = li_walk
    sources = rng.choice(net.n_nodes, 6, replace=False)
    each = shortest_from_nodes(net, sources)
    nearest = shortest_from_nodes(net, sources, min_only=True)
    np.testing.assert_allclose(nearest, each.min(axis=0))
    lon, lat = np.asarray(net.node_lonlat[sources]).T
    search = search_from_points(net, snap_points(net, lon, lat))
    np.testing.assert_allclose(search.cost, each.min(axis=0), atol=1e-6)
    unique = (np.sort(each, axis=0)[1] - np.sort(each, axis=0)[0]) > 1e-6
    np.testing.assert_array_equal(search.source[unique], each.argmin(axis=0)[unique])


@pytest.mark.parametrize("region, mode", CASES)
def test_point_to_point_routes_equal_networkx_on_split_edges(networks, region, mode, rng):
    net = networks(region, mode)
    west, south, east, north = net.bounds_lonlat
    checked = 0
    while checked < 6:
        lon = rng.uniform(west, east, 2)
        lat = rng.uniform(south, north, 2)
        snapped = snap_points(net, lon, lat)
        if not snapped.on_network.all():
            continue
        ends = {name: snap_points(net, lon[i], lat[i]) for i, name in enumerate(("S", "T"))}
        expected = path_cost(split_graph(net, ends), "S", "T")
        found = route(net, (lon[0], lat[0]), (lon[1], lat[1]))
        got = np.inf if found is None else found.travel_time_s
        assert got == pytest.approx(expected, abs=1e-6)
        checked += 1


def test_route_geometry_runs_from_snapped_start_to_snapped_end(li_drive):
    start, end = (9.5209, 47.1410), (9.5450, 47.2200)
    result = route(li_drive, start, end)
    coords = np.array(result.geometry["coordinates"])
    snapped = snap_points(li_drive, [start[0], end[0]], [start[1], end[1]])
    lon, lat = li_drive.to_lonlat.transform(*snapped.snapped_xy.T)
    np.testing.assert_allclose(coords[0], [lon[0], lat[0]], atol=1e-6)
    np.testing.assert_allclose(coords[-1], [lon[1], lat[1]], atol=1e-6)
    assert result.geometry["type"] == "LineString"
    line = shapely.LineString(np.column_stack(li_drive.to_xy.transform(*coords.T)))
    assert line.length == pytest.approx(result.length_m, rel=0.005)
    assert result.travel_time_s > 0 and result.snap_m == pytest.approx(tuple(snapped.snap_m))


def test_route_on_one_road_counts_only_the_part_between_the_points(li_walk):
    g = int(np.argmax(np.diff(li_walk.geom_offsets) * 0 + shapely.length(li_walk.geometries)))
    line = li_walk.geometries[g]
    a, b = line.interpolate(0.2, normalized=True), line.interpolate(0.7, normalized=True)
    (a_lon, b_lon), (a_lat, b_lat) = li_walk.to_lonlat.transform([a.x, b.x], [a.y, b.y])
    result = route(li_walk, (a_lon, a_lat), (b_lon, b_lat))
    # The length of that part of the road on the sphere, as the build measures OSM segments.
    part = shapely.ops.substring(line, 0.2, 0.7, normalized=True)
    lon, lat = li_walk.to_lonlat.transform(*np.array(part.coords).T)
    length_m = sum(haversine_m(*a, *b) for a, b in zip(zip(lon[:-1], lat[:-1]),
                                                       zip(lon[1:], lat[1:])))
    assert result.length_m == pytest.approx(length_m, rel=1e-6)
    walk_speed_mps = li_walk.edge_length_m[0] / li_walk.edge_travel_time_s[0]
    assert result.travel_time_s == pytest.approx(length_m / walk_speed_mps, rel=1e-6)


def test_origin_equal_to_destination_is_a_zero_route(li_drive):
    result = route(li_drive, (9.5209, 47.1410), (9.5209, 47.1410))
    assert result.travel_time_s == 0 and result.length_m == 0
    assert len(result.geometry["coordinates"]) == 2


def test_blocked_road_changes_the_route_or_cuts_it_off(li_drive):
    start, end = (9.5209, 47.1410), (9.5450, 47.2200)
    free = route(li_drive, start, end)
    blocked = np.zeros(li_drive.n_edges, dtype=bool)
    blocked[list(free.edges[1:-1])] = True
    detour = route(li_drive, start, end, blocked=blocked)
    assert detour is None or detour.travel_time_s > free.travel_time_s
    slowed = route(li_drive, start, end, cost_scale=np.full(li_drive.n_edges, 2.0))
    assert slowed.travel_time_s == pytest.approx(2 * free.travel_time_s)
    assert route(li_drive, start, end, blocked=np.ones(li_drive.n_edges, dtype=bool)) is None


def test_point_in_the_middle_of_a_long_edge_snaps_to_it_with_its_offset(li_drive):
    lengths = shapely.length(li_drive.geometries)
    g = int(np.argmax(lengths))
    line = li_drive.geometries[g]
    on_line = line.interpolate(0.4, normalized=True)
    ahead = line.interpolate(0.4 * lengths[g] + 1.0)
    dx, dy = ahead.x - on_line.x, ahead.y - on_line.y
    norm = np.hypot(dx, dy)
    x, y = on_line.x - 12 * dy / norm, on_line.y + 12 * dx / norm  # 12 m to the side
    lon, lat = li_drive.to_lonlat.transform(x, y)
    snapped = snap_points(li_drive, lon, lat)
    assert snapped.geom[0] == g
    assert snapped.offset_m[0] == pytest.approx(0.4 * lengths[g], abs=0.5)
    assert snapped.snap_m[0] == pytest.approx(12.0, abs=0.5)
    assert lengths[g] > 1000


def test_point_too_far_from_roads_is_reported_with_its_distance(li_drive):
    west, south, east, north = li_drive.bounds_lonlat
    lon, lat = np.meshgrid(np.linspace(west, east, 40), np.linspace(south, north, 40))
    snapped = snap_points(li_drive, lon.ravel(), lat.ravel())
    i = int(np.argmax(snapped.snap_m))  # deep in the Alpine forest, far from any road
    assert snapped.snap_m[i] > 500 and snapped.status[i] == "far" and snapped.geom[i] == -1
    message = r"destination: .* is \d+ m from the nearest routable road"
    with pytest.raises(PointError, match=message):
        route(li_drive, (9.5209, 47.1410), (lon.ravel()[i], lat.ravel()[i]))
    tight = snap_points(li_drive, 9.5209, 47.1410, max_snap_m=1.0)
    assert tight.status[0] == "far" and tight.snap_m[0] > 1.0


def test_point_on_a_disconnected_island(li_walk):
    # The dropped segment farthest from the kept network: real roads cut off from it.
    mid = np.asarray(li_walk.dropped_xy).mean(axis=1)
    snapped_all = snap_points(li_walk, *li_walk.to_lonlat.transform(mid[:, 0], mid[:, 1]))
    i = int(np.argmax(snapped_all.snap_m))
    assert snapped_all.snap_m[i] > 50 and snapped_all.status[i] == "island"
    lon, lat = li_walk.to_lonlat.transform(mid[i, 0], mid[i, 1])
    with pytest.raises(PointError, match="origin: .* not connected to the routable network"):
        route(li_walk, (lon, lat), (9.5209, 47.1410))


@pytest.mark.parametrize("lat, lon, message", [
    (np.nan, 9.52, "finite"),
    (47.14, np.inf, "finite"),
    (95.0, 9.52, "out of range"),
    (47.14, 200.0, "out of range"),
    (9.52, 47.14, "look swapped"),
    (48.5, 9.52, "outside the network's extent"),
])
def test_bad_points_name_the_field(li_drive, lat, lon, message):
    with pytest.raises(PointError, match=f"destination: .*{message}"):
        route(li_drive, (9.5209, 47.1410), (lon, lat))
    with pytest.raises(PointError, match=message):
        check_lonlat(li_drive, lon, lat, field="point")


def test_bad_query_arrays_are_rejected(li_drive):
    with pytest.raises(ValidationError, match="blocked: expected one value per edge"):
        edge_costs(li_drive, blocked=np.zeros(3, dtype=bool))
    with pytest.raises(ValidationError, match="cost_scale"):
        edge_costs(li_drive, cost_scale=np.zeros(li_drive.n_edges))
    with pytest.raises(ValidationError, match="weight"):
        edge_costs(li_drive, weight="minutes")
    with pytest.raises(ValidationError, match="cutoff"):
        shortest_from_nodes(li_drive, 0, cutoff=-1)
    with pytest.raises(ValidationError, match="nodes"):
        shortest_from_nodes(li_drive, li_drive.n_nodes)


def test_cost_to_points_reports_unreached_points_as_inf(li_drive):
    start = snap_points(li_drive, 9.5209, 47.1410)
    targets = snap_points(li_drive, [9.5450, 9.5209], [47.2200, 47.1410])
    search = search_from_points(li_drive, start, cutoff=60.0)
    cost, label = cost_to_points(li_drive, search, targets)
    assert np.isinf(cost[0]) and label[0] == -1
    assert cost[1] == 0 and label[1] == 0
