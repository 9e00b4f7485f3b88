"""Partial edges cost exactly, and barriers act only where they are: checked against the
unsimplified graph read straight from the OSM file (tests/reference.py, ``OsmGraph``), never by
splitting our simplified edges (which would share their errors)."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analysis.barriers import road_barriers
from geo.analysis.service_areas import reached_stretches
from geo.routing.paths import route
from geo.routing.search import search_from_points
from geo.routing.snapping import snap_points
from tests.conftest import EXTRACTS
from tests.reference import OsmGraph, path_cost, split_graph

_graphs: dict = {}


def _osm_graph(net, region: str) -> OsmGraph:
    if (region, net.mode) not in _graphs:
        _graphs[region, net.mode] = OsmGraph(EXTRACTS[region], net.mode, net.to_xy)
    return _graphs[region, net.mode]


def _mixed_speed_roads(net) -> np.ndarray:
    """Road geometries whose OSM segments do not all have the same speed."""
    time_step = np.diff(net.geom_cum_time_s)
    length_step = np.diff(net.geom_cum_length_m)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.round(length_step / time_step, 6)
    first = np.asarray(net.geom_offsets[:-1])
    last = np.asarray(net.geom_offsets[1:]) - 1
    mixed = [g for g, (a, b) in enumerate(zip(first, last))
             if len(np.unique(speed[a:b][np.isfinite(speed[a:b])])) > 1]
    return np.asarray(mixed)


def _lonlat_at(net, geom: int, fraction: float) -> tuple[float, float]:
    at = net.geometries[geom].interpolate(fraction, normalized=True)
    lon, lat = net.to_lonlat.transform(at.x, at.y)
    return float(lon), float(lat)


def _reference_cost(net, graph: OsmGraph, start, end, zones=()) -> float:
    points = {name: tuple(net.to_xy.transform(*lonlat)) for name, lonlat in
              (("S", start), ("T", end))}
    return path_cost(graph.build(points, zones), "S", "T")


def test_routes_from_and_to_mixed_speed_roads_cost_exactly(li_drive, rng):
    """(Monaco's roads each keep one speed along them; Liechtenstein's do not.)"""
    net, region = li_drive, "liechtenstein"
    mixed = _mixed_speed_roads(net)
    assert len(mixed) >= 10  # simplification merged stretches of different speeds
    graph = _osm_graph(net, region)
    errors_if_linear = []
    for _ in range(8):
        a, b = rng.choice(mixed, 2, replace=False)
        start = _lonlat_at(net, int(a), float(rng.uniform(0.2, 0.8)))
        end = _lonlat_at(net, int(b), float(rng.uniform(0.2, 0.8)))
        ours = route(net, start, end)
        expected = _reference_cost(net, graph, start, end)
        got = np.inf if ours is None else ours.travel_time_s
        assert got == pytest.approx(expected, abs=1e-6)
        errors_if_linear.append(abs(_linear_share_cost(net, start, end) - expected))
    assert max(errors_if_linear) > 0.5  # the old linear share would have been visibly wrong


def _linear_share_cost(net, start, end) -> float:
    """What a whole-edge linear share gave (for the test's own sanity check only)."""
    ends = {name: snap_points(net, *lonlat) for name, lonlat in (("S", start), ("T", end))}
    flat = {"travel_time_s": net.edge_travel_time_s}
    graph = split_graph(_Uniform(net), ends, flat["travel_time_s"])
    return path_cost(graph, "S", "T")


class _Uniform:
    """The network seen as if each road had one speed all along (the old assumption)."""

    def __init__(self, net):
        self._net = net
        offsets = np.asarray(net.geom_offsets)
        xy = np.asarray(net.geom_xy)
        step = np.r_[0.0, np.hypot(*np.diff(xy, axis=0).T)]
        step[offsets[:-1]] = 0.0
        along = np.cumsum(step)
        self.geom_cum_time_s = along - np.repeat(along[offsets[:-1]], np.diff(offsets))

    def __getattr__(self, name):
        return getattr(self._net, name)


def test_a_short_barrier_closes_only_its_stretch_of_a_long_road(li_walk):
    net = li_walk
    graph = _osm_graph(net, "liechtenstein")
    two_way = np.flatnonzero(net.geom_edges[:, 1] >= 0)
    lengths = shapely.length(net.geometries[two_way])
    g = int(two_way[np.argsort(lengths)[-3]])  # a long road
    line = net.geometries[g]
    near, far = _lonlat_at(net, g, 0.02), _lonlat_at(net, g, 0.9)
    # A 30 m line across the road at 10 % of its length.
    cut = line.interpolate(0.1, normalized=True)
    along = np.array(line.interpolate(0.1 + 1.0 / line.length, normalized=True).coords[0]) - \
        np.array(cut.coords[0])
    normal = np.array([-along[1], along[0]]) / np.hypot(*along) * 15.0
    barrier_xy = shapely.LineString([np.array(cut.coords[0]) - normal,
                                     np.array(cut.coords[0]) + normal])
    barrier = shapely.LineString(np.column_stack(net.to_lonlat.transform(*barrier_xy.xy)))
    effects = road_barriers(net, extra=[barrier]).as_kwargs()
    ours = route(net, near, far, **effects)
    expected = _reference_cost(net, graph, near, far, zones=[(barrier_xy, np.inf)])
    assert np.isfinite(expected)  # around through the road's far end
    assert ours is not None and ours.travel_time_s == pytest.approx(expected, abs=1e-6)
    assert ours.travel_time_s > route(net, near, far).travel_time_s + 1.0
    # The rest of the road is still reachable, from its open end, by dispatch-style searches.
    far_point = snap_points(net, *far)
    search = search_from_points(net, snap_points(net, *near), **effects)
    assert np.isfinite(search.cost).any() and far_point.on_network[0]


def _slow_zones_on_a_long_mixed_road(net, factors: dict[float, float], radius: float):
    """The longest road whose speed changes along it, its ends' lon/lat (5 % in), and slow
    zones (factor at each fraction of the road, disks of ``radius`` × its length) as lon/lat
    GeoDataFrame and as projected (zone, factor) pairs for the reference."""
    mixed = _mixed_speed_roads(net)
    g = int(mixed[np.argmax(shapely.length(net.geometries[mixed]))])
    line = net.geometries[g]
    projected = [(line.interpolate(at, normalized=True).buffer(radius * line.length), factor)
                 for at, factor in factors.items()]
    frame = gpd.GeoDataFrame(
        {"road_effect": ["slow"] * len(projected), "slow_factor": list(factors.values())},
        geometry=[shapely.Polygon(np.column_stack(net.to_lonlat.transform(*z.exterior.xy)))
                  for z, _ in projected], crs="EPSG:4326")
    return _lonlat_at(net, g, 0.05), _lonlat_at(net, g, 0.95), frame, projected


def test_a_slow_zone_scales_only_the_part_inside_it(li_drive):
    net = li_drive
    start, end, frame, zones = _slow_zones_on_a_long_mixed_road(net, {0.5: 3.0}, 0.15)
    ours = route(net, start, end, **road_barriers(net, extra=frame).as_kwargs())
    expected = _reference_cost(net, _osm_graph(net, "liechtenstein"), start, end, zones=zones)
    assert ours is not None and ours.travel_time_s == pytest.approx(expected, rel=1e-6)
    free = route(net, start, end).travel_time_s
    assert free < ours.travel_time_s < 3 * free - 1.0  # not the whole road slowed


def test_overlapping_slow_zones_take_the_largest_factor_where_they_overlap(li_drive):
    net = li_drive
    start, end, frame, zones = _slow_zones_on_a_long_mixed_road(net, {0.4: 2.0, 0.6: 4.0}, 0.2)
    ours = route(net, start, end, **road_barriers(net, extra=frame).as_kwargs())
    expected = _reference_cost(net, _osm_graph(net, "liechtenstein"), start, end, zones=zones)
    assert ours is not None and ours.travel_time_s == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("reverse", [False, True])
def test_service_area_stretches_end_where_the_budget_runs_out(li_drive, reverse):
    """A facility near the start of a road whose speed changes along it: its area ends on that
    road exactly where the travel time reaches the break."""
    net = li_drive
    graph = _osm_graph(net, "liechtenstein")
    mixed = _mixed_speed_roads(net)
    checked = 0
    for g in mixed[np.argsort(shapely.length(net.geometries[mixed]))[::-1][:6]]:
        facility = snap_points(net, *_lonlat_at(net, int(g), 0.02))
        budget_s = 0.4 * float(net.edge_travel_time_s[net.geom_edges[g, 0]])
        search = search_from_points(net, facility, reverse=reverse, cutoff=budget_s)
        stretches = reached_stretches(net, search, budget_s)
        on_road = np.flatnonzero(stretches.geom == g)
        if len(on_road) != 1 or not 0.05 < stretches.end[on_road[0]] < 0.95:
            continue  # reached from its other end too: no single place where it runs out
        at = net.geometries[g].interpolate(stretches.end[on_road[0]], normalized=True)
        built = graph.build({"F": tuple(facility.snapped_xy[0]), "P": (at.x, at.y)})
        cost = path_cost(built, "P", "F") if reverse else path_cost(built, "F", "P")
        assert cost == pytest.approx(budget_s, abs=1e-6)
        checked += 1
    assert checked >= 2
