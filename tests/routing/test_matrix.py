"""Cost matrices against networkx on the graph with the points inserted into their roads."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.errors import ValidationError
from geo.routing import CostMatrix, cost_matrix
from geo.routing import matrix as matrix_module
from geo.routing.search import edge_costs
from geo.routing.snapping import snap_points
from tests.analysis_inputs import points_along_roads
from tests.reference import path_cost, split_graph


def _reference(net, matrix: CostMatrix, costs=None) -> np.ndarray:
    """Every origin–destination cost by networkx, on a graph with all the points inserted."""
    origins, destinations = matrix.origin_snap, matrix.destination_snap
    points = {("o", i): origins.take([i]) for i in range(len(origins))}
    points |= {("d", j): destinations.take([j]) for j in range(len(destinations))}
    graph = split_graph(net, points, costs)
    expected = np.full(matrix.shape, np.inf)
    for i in np.flatnonzero(origins.on_network):
        for j in np.flatnonzero(destinations.on_network):
            ends = (("o", i), ("d", j)) if matrix.direction == "from" else (("d", j), ("o", i))
            expected[i, j] = path_cost(graph, *ends)
    return expected


def _assert_matches(matrix: CostMatrix, expected: np.ndarray, cutoff: float) -> None:
    dense = matrix.to_dense()
    within = matrix.within.toarray()
    assert within.sum() == matrix.costs.nnz
    inside, outside = expected <= cutoff - 1e-6, expected > cutoff + 1e-6
    assert inside.any() and outside.any()  # the cutoff splits the pairs
    np.testing.assert_array_equal(within[inside], True)
    np.testing.assert_array_equal(within[outside], False)
    np.testing.assert_allclose(dense[within], expected[within], rtol=0, atol=1e-6)
    assert np.isinf(dense[~within]).all()


def _on_road(net, geom: int, fractions) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of points exactly on road geometry ``geom`` at the given fractions of its length."""
    at = shapely.line_interpolate_point(net.geometries[geom], fractions, normalized=True)
    lon, lat = net.to_lonlat.transform(shapely.get_x(at), shapely.get_y(at))
    return np.atleast_1d(lon), np.atleast_1d(lat)


def _with_shared_roads(net, origins, n_destinations, rng):
    """Destinations along random roads, and two on the roads of the first two origins (the
    reference cannot take two points at the very same place: see the explicit-zero test)."""
    lon, lat = points_along_roads(net, n_destinations - 2, rng)
    roads = snap_points(net, origins[0][:2], origins[1][:2]).geom
    ends = [_on_road(net, int(road), [f]) for road, f in zip(roads, (0.5, 0.9))]
    return (np.r_[lon, *(e[0] for e in ends)], np.r_[lat, *(e[1] for e in ends)])


@pytest.mark.parametrize("mode", ["drive", "walk"])
@pytest.mark.parametrize("direction", ["from", "to"])
@pytest.mark.parametrize("n_origins, n_destinations", [(4, 7), (7, 4)])
def test_every_entry_equals_networkx_within_the_cutoff(networks, mode, direction, n_origins,
                                                       n_destinations, rng):
    net = networks("liechtenstein", mode)
    origins = points_along_roads(net, n_origins, rng)
    destinations = _with_shared_roads(net, origins, n_destinations, rng)
    unbounded = cost_matrix(net, origins, destinations, cutoff_s=None, direction=direction)
    expected = _reference(net, unbounded)
    np.testing.assert_allclose(unbounded.to_dense(), expected, rtol=0, atol=1e-6)
    cutoff = float(np.median(expected[np.isfinite(expected)]))
    bounded = cost_matrix(net, origins, destinations, cutoff_s=cutoff, direction=direction)
    _assert_matches(bounded, expected, cutoff)
    assert bounded.cutoff_s == cutoff and bounded.direction == direction


def test_length_weight_is_in_metres(li_walk, rng):
    origins = points_along_roads(li_walk, 5, rng)
    destinations = points_along_roads(li_walk, 6, rng)
    matrix = cost_matrix(li_walk, origins, destinations, cutoff_s=None, weight="length_m")
    expected = _reference(li_walk, matrix, costs=li_walk.edge_length_m)
    np.testing.assert_allclose(matrix.to_dense(), expected, rtol=0, atol=1e-6)
    assert list(matrix.pairs().columns) == ["origin", "destination", "length_m"]


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_to_is_the_transpose_of_from_with_the_sides_swapped(networks, mode, rng):
    net = networks("liechtenstein", mode)
    a, b = points_along_roads(net, 9, rng), points_along_roads(net, 5, rng)
    to = cost_matrix(net, a, b, cutoff_s=600.0, direction="to")
    swapped = cost_matrix(net, b, a, cutoff_s=600.0, direction="from")
    np.testing.assert_array_equal(to.within.toarray(), swapped.within.toarray().T)
    np.testing.assert_allclose(to.to_dense(), swapped.to_dense().T, rtol=0, atol=1e-9)


def test_searches_in_small_chunks_give_the_same_matrix(li_walk, rng, monkeypatch):
    origins = points_along_roads(li_walk, 12, rng)
    destinations = points_along_roads(li_walk, 30, rng)
    whole = cost_matrix(li_walk, origins, destinations, cutoff_s=900.0)
    monkeypatch.setattr(matrix_module, "_CHUNK_VALUES", 1)  # one search per kernel call
    chunked = cost_matrix(li_walk, origins, destinations, cutoff_s=900.0)
    np.testing.assert_array_equal(chunked.costs.indptr, whole.costs.indptr)
    np.testing.assert_array_equal(chunked.costs.indices, whole.costs.indices)
    np.testing.assert_allclose(chunked.costs.data, whole.costs.data, rtol=0, atol=1e-9)


def test_a_one_way_street_makes_the_costs_asymmetric(li_drive):
    net = li_drive
    one_way = np.flatnonzero(net.geom_edges[:, 1] < 0)
    geom = int(one_way[np.argmax(shapely.length(net.geometries[one_way]))])
    lon, lat = _on_road(net, geom, [0.3, 0.7])
    behind, ahead = (lon[:1], lat[:1]), (lon[1:], lat[1:])
    along = cost_matrix(net, behind, ahead, cutoff_s=None, direction="from")
    against = cost_matrix(net, behind, ahead, cutoff_s=None, direction="to")
    assert along.to_dense()[0, 0] > 0
    assert against.to_dense()[0, 0] > along.to_dense()[0, 0] + 1.0  # round the block, or never
    for matrix in (along, against):
        np.testing.assert_allclose(matrix.to_dense(), _reference(net, matrix), rtol=0, atol=1e-6)


def test_a_point_at_the_same_place_is_an_explicit_zero(li_walk, rng):
    lon, lat = points_along_roads(li_walk, 3, rng)
    matrix = cost_matrix(li_walk, (lon, lat), (lon[[1]], lat[[1]]), cutoff_s=60.0)
    assert matrix.within[1, 0]
    assert matrix.to_dense()[1, 0] == 0.0
    pairs = matrix.pairs()
    assert ((pairs["origin"] == 1) & (pairs["travel_time_s"] == 0.0)).sum() == 1
    assert matrix.costs.nnz == len(pairs)


def test_points_off_the_network_get_an_empty_row_or_column(li_drive, rng):
    lon, lat = points_along_roads(li_drive, 4, rng)
    west, south, _, _ = li_drive.bounds_lonlat
    far_lon, far_lat = np.r_[lon, west - 0.05], np.r_[lat, south - 0.05]  # kilometres away
    matrix = cost_matrix(li_drive, (far_lon, far_lat), (lon, lat), cutoff_s=None)
    assert matrix.origin_snap.status[4] != "ok" and matrix.origin_snap.snap_m[4] > 1000
    assert matrix.within[[4], :].nnz == 0 and matrix.within[:4, :].nnz == 16
    flipped = cost_matrix(li_drive, (lon, lat), (far_lon, far_lat), cutoff_s=None)
    assert flipped.within[:, [4]].nnz == 0
    stranded = cost_matrix(li_drive, (far_lon[4:], far_lat[4:]), (lon, lat), cutoff_s=None)
    assert stranded.shape == (1, 4) and stranded.costs.nnz == 0


def test_blocked_edges_and_cost_scale_are_respected(li_drive, rng):
    net = li_drive
    origins = points_along_roads(net, 5, rng)
    destinations = points_along_roads(net, 6, rng)
    blocked = rng.random(net.n_edges) < 0.15
    scale = rng.uniform(1.0, 2.0, net.n_edges)
    free = cost_matrix(net, origins, destinations, cutoff_s=None)
    matrix = cost_matrix(net, origins, destinations, cutoff_s=None, blocked=blocked,
                         cost_scale=scale)
    costs = edge_costs(net, blocked=blocked, cost_scale=scale).full
    np.testing.assert_allclose(matrix.to_dense(), _reference(net, matrix, costs), atol=1e-6)
    assert np.isfinite(matrix.costs.data).all()  # unreachable pairs are absent, not inf
    assert (matrix.to_dense() >= free.to_dense() - 1e-9).all()
    assert (matrix.to_dense() > free.to_dense() + 1e-6).any()
    everything = np.ones(net.n_edges, dtype=bool)
    assert cost_matrix(net, origins, destinations, cutoff_s=None, blocked=everything).costs.nnz \
        == 0


def test_geodataframes_in_any_crs_keep_their_ids(li_walk, rng):
    lon, lat = points_along_roads(li_walk, 4, rng)
    frame = gpd.GeoDataFrame(index=["a", "b", "c", "d"], geometry=gpd.points_from_xy(lon, lat),
                             crs="EPSG:4326").to_crs(li_walk.crs)
    matrix = cost_matrix(li_walk, frame, (lon[:2], lat[:2]), cutoff_s=900.0)
    plain = cost_matrix(li_walk, (lon, lat), (lon[:2], lat[:2]), cutoff_s=900.0)
    assert matrix.origin_ids == ["a", "b", "c", "d"] and matrix.destination_ids == [0, 1]
    np.testing.assert_allclose(matrix.to_dense(), plain.to_dense(), atol=1e-6)
    assert set(matrix.pairs()["origin"]) <= {"a", "b", "c", "d"}


@pytest.mark.parametrize("change, field", [
    ({"direction": "sideways"}, "direction"),
    ({"weight": "speed"}, "weight"),
    ({"cutoff_s": -1.0}, "cutoff_s"),
    ({"cutoff_s": float("nan")}, "cutoff_s"),
    ({"cutoff_s": "600"}, "cutoff_s"),
    ({"cutoff_s": True}, "cutoff_s"),
    ({"max_snap_m": 0}, "max_snap_m"),
    ({"blocked": np.zeros(3, dtype=bool)}, "blocked"),
    ({"cost_scale": -1.0 * np.ones(1)}, "cost_scale"),
    ({"origins": ([9.52],)}, "origins"),
    ({"origins": ([9.52, 9.53], [47.14])}, "origins"),
    ({"destinations": ([9.52, np.nan], [47.14, 47.15])}, "destinations"),
    ({"destinations": ([47.14], [95.0])}, "destinations"),
    ({"destinations": gpd.GeoDataFrame(geometry=gpd.points_from_xy([9.52], [47.14]))},
     "destinations"),
])
def test_bad_arguments_raise_naming_the_argument(li_drive, change, field):
    arguments = {"origins": ([9.5209], [47.1410]), "destinations": ([9.5450], [47.2200]),
                 "cutoff_s": 600.0, **change}
    with pytest.raises(ValidationError, match=f"^{field}: "):
        cost_matrix(li_drive, **arguments)


def test_cutoff_is_required(li_drive):
    with pytest.raises(TypeError, match="cutoff_s"):
        cost_matrix(li_drive, ([9.5209], [47.1410]), ([9.5450], [47.2200]))
