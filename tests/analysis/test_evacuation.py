"""Evacuation on the real Liechtenstein walk network: conservation, safe shelters within capacity,
and the total travel time against an independent min-cost flow (networkx) on the same costs."""

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.evacuation import (
    BEYOND_MAX_TIME,
    CAPACITY_SHORT,
    INSIDE_HAZARD_ZONE,
    NO_FREE_CAPACITY,
    NO_REACHABLE_SHELTER,
    NO_SHELTER,
    NOT_OPEN,
    STAGES,
    WITHIN_SAFETY_DISTANCE,
    evacuation,
)
from geo.core.vocabulary import CUT_OFF
from geo.errors import ValidationError
from geo.routing.matrix import cost_matrix
from tests.conftest import LIECHTENSTEIN
from tests.reference import OsmGraph, path_cost

VADUZ = (9.5209, 47.1410)
ZONE_M = 350.0


def _xy(net, lonlat):
    return np.asarray(net.to_xy.transform(*lonlat), dtype=float)


def _lonlat(net, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = net.to_lonlat.transform(xy[:, 0], xy[:, 1])
    return np.asarray(lon), np.asarray(lat)


def _on_roads_between(net, centre, inner_m, outer_m, n, rng, *, offset_m=10.0):
    """``n`` projected points beside roads, between ``inner_m`` and ``outer_m`` of ``centre``."""
    middle = shapely.Point(_xy(net, centre))
    ring = middle.buffer(outer_m).difference(middle.buffer(inner_m))
    roads = net.geometries[net.edge_index.query(ring, predicate="intersects")]
    pieces = [p for p in shapely.get_parts(shapely.intersection(roads, ring))
              if p.geom_type == "LineString" and p.length > 1]
    chosen = rng.integers(0, len(pieces), n)
    at = shapely.line_interpolate_point(np.asarray(pieces, dtype=object)[chosen],
                                        rng.uniform(0, 1, n), normalized=True)
    return shapely.get_coordinates(at) + rng.uniform(-offset_m, offset_m, (n, 2))


def _hazard(kind, centre, radius_m=ZONE_M, *, hazard_id="H1", active=True):
    return gpd.GeoDataFrame({"type": [kind], "radius_m": [radius_m], "active": [active]},
                            geometry=[shapely.Point(centre)], crs="EPSG:4326",
                            index=pd.Index([hazard_id]))


def _people(net, rng, *, n_inside, n_outside=30, whole=True):
    xy = np.vstack([_on_roads_between(net, VADUZ, 0, ZONE_M - 30, n_inside, rng),
                    _on_roads_between(net, VADUZ, ZONE_M + 30, 1500, n_outside, rng)])
    lon, lat = _lonlat(net, xy)
    people = rng.integers(1, 30, len(xy)).astype(float)
    if not whole:
        people = people + rng.uniform(0, 1, len(xy)).round(3)
    return gpd.GeoDataFrame({"population": people}, geometry=gpd.points_from_xy(lon, lat),
                            crs="EPSG:4326", index=pd.Index([f"P{i}" for i in range(len(xy))]))


def _shelters(net, rng, *, n, capacity=(20, 120)):
    xy = _on_roads_between(net, VADUZ, ZONE_M + 100, 2500, n, rng)
    lon, lat = _lonlat(net, xy)
    return gpd.GeoDataFrame({
        "name": [f"shelter {i}" for i in range(n)],
        "capacity_people": rng.integers(*capacity, n), "occupancy": rng.integers(0, 15, n),
        "status": "open"}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326",
        index=pd.Index([f"S{i}" for i in range(n)]))


def _run(net, hazards, people, shelters, **options):
    zones_all = hazard_zones(hazards, crs=net.crs, active_only=False)
    evacuated = zones_all[zones_all["hazard"] == "H1"]
    return evacuation(net, evacuated, people, shelters, unsafe_zones=zones_all, **options)


def _min_cost_flow_by_networkx(dense: np.ndarray, people: np.ndarray, room: np.ndarray):
    """(people placed, person-seconds) of networkx's network simplex on the transportation graph:
    points → shelters (costs in whole milliseconds) → sink, and an "unplaced" arc from every
    point to the sink dearer than any placement could be, so the most people are placed first."""
    graph = nx.DiGraph()
    total = int(people.sum())
    graph.add_node("sink", demand=total)
    finite = np.isfinite(dense)
    dearest = int(np.ceil(dense[finite].max() * 1000)) if finite.any() else 0
    graph.add_edge("unplaced", "sink", weight=0)
    for i, p in enumerate(people.astype(int)):
        graph.add_node(("p", i), demand=-p)
        graph.add_edge(("p", i), "unplaced", weight=(total + 1) * (dearest + 1))
    for j, r in enumerate(room.astype(int)):
        graph.add_edge(("s", j), "sink", capacity=r, weight=0)
    for i, j in zip(*np.nonzero(finite)):
        graph.add_edge(("p", i), ("s", j), weight=int(round(dense[i, j] * 1000)))
    _, flow = nx.network_simplex(graph)
    placed = sum(flow[("s", j)]["sink"] for j in range(len(room)))
    seconds = sum(flow[("p", i)][("s", j)] * dense[i, j] for i, j in zip(*np.nonzero(finite)))
    return placed, seconds


def _inside(net, hazards, people) -> pd.Series:
    zone = hazard_zones(hazards[hazards.index == "H1"], crs=net.crs,
                        active_only=False).geometry.union_all()
    points = people.geometry.to_crs(net.crs)
    return people["population"][points.intersects(zone).to_numpy()]


def _check_invariants(net, hazards, people, shelters, result):
    """Conservation, people per point, safe shelters, loads within free capacity."""
    inside = _inside(net, hazards, people)
    assert result.population_inside == pytest.approx(inside.sum(), abs=1e-9)
    assert result.placed + result.unplaced == pytest.approx(inside.sum(), rel=1e-9)
    flows = result.flows
    assert set(flows["point"]) <= set(inside.index)
    sent = flows.groupby("point")["people"].sum()
    left = result.unplaced_points.set_index("point")["people"]
    for point, population in inside.items():
        assert sent.get(point, 0) + left.get(point, 0) == pytest.approx(population, abs=1e-6)
    zones_all = hazard_zones(hazards, crs=net.crs, active_only=False)
    used = shelters.loc[flows["shelter"].unique()]
    used_xy = used.geometry.to_crs(net.crs)
    for zone in zones_all.itertuples():
        if zone.hazard == "H1" or zone.active:
            assert not used_xy.intersects(zone.geometry).any()
        assert (used_xy.distance(zone.source) >= zone.safety_distance_m).all()
    assert (used["status"] == "open").all()
    free = shelters["capacity_people"] - shelters["occupancy"]
    load = flows.groupby("shelter")["people"].sum()
    assert (load <= free.loc[load.index] + 1e-6).all()
    table = result.shelters.set_index("shelter")
    np.testing.assert_allclose(table.loc[load.index, "load"], load, atol=1e-9)
    np.testing.assert_allclose(table["remaining"], table["free_capacity"] - table["load"])
    assert result.to_dict()["placed"] == pytest.approx(result.placed)


@pytest.mark.parametrize("seed, capacity, kind", [
    (0, (60, 200), "fuel_station"), (1, (60, 200), "flood_zone"),
    (2, (5, 25), "fuel_station"), (3, (5, 25), "flood_zone"), (4, (10, 40), "fire")])
def test_total_time_equals_networkx_min_cost_flow(li_walk, seed, capacity, kind):
    rng = np.random.default_rng(seed)
    people = _people(li_walk, rng, n_inside=18)
    shelters = _shelters(li_walk, rng, n=7, capacity=capacity)
    hazards = _hazard(kind, VADUZ)
    result = _run(li_walk, hazards, people, shelters)
    _check_invariants(li_walk, hazards, people, shelters, result)
    # The same costs, independently: the evacuated zone slows (a flood) but never blocks.
    zones = hazard_zones(hazards, crs=li_walk.crs)
    slow = zones[(zones["road_effect"] == "slow").to_numpy()]
    inside = people.loc[_inside(li_walk, hazards, people).index]
    usable = shelters.loc[result.shelters["shelter"]]
    matrix = cost_matrix(li_walk, inside, usable, cutoff_s=None, direction="from",
                         **road_barriers(li_walk, slow).as_kwargs())
    room = (usable["capacity_people"] - usable["occupancy"]).to_numpy()
    placed, seconds = _min_cost_flow_by_networkx(matrix.to_dense(),
                                                 inside["population"].to_numpy(), room)
    assert result.placed == placed
    assert result.total_person_s == pytest.approx(seconds, abs=1e-3 * placed + 1e-6)
    assert result.solve_status == "optimal"
    assert (result.flows["people"] == np.round(result.flows["people"])).all()  # whole people
    if capacity == (5, 25):
        assert result.unplaced_by_reason[CAPACITY_SHORT] > 0  # the instance is short
        assert result.unplaced_by_reason[CAPACITY_SHORT] == inside["population"].sum() - placed
        assert "because the shelters they reach are full" in result.summary()
    assert result.clearance_time_s == pytest.approx(result.flows["travel_time_s"].max())


def test_excluded_shelters_say_why(li_walk):
    rng = np.random.default_rng(7)
    people = _people(li_walk, rng, n_inside=10)
    shelters = _shelters(li_walk, rng, n=8)
    shelters.loc["S0", "status"] = "closed"
    shelters.loc["S1", "occupancy"] = shelters.loc["S1", "capacity_people"]
    inside_zone = _lonlat(li_walk, _on_roads_between(li_walk, VADUZ, 0, 100, 1, rng))
    shelters.loc["S2", "geometry"] = shapely.Point(inside_zone[0][0], inside_zone[1][0])
    # An inactive gas store 200 m from S3 (it must keep 1000 m), and an active fire whose zone
    # holds S4.
    s3 = _xy(li_walk, (shelters.loc["S3"].geometry.x, shelters.loc["S3"].geometry.y))
    gas = _lonlat(li_walk, (s3 + [200.0, 0.0])[None, :])
    s4 = shelters.loc["S4"].geometry
    hazards = pd.concat([_hazard("fuel_station", VADUZ),
                         _hazard("gas_storage", (gas[0][0], gas[1][0]), 50.0, hazard_id="H2",
                                 active=False),
                         _hazard("fire", (s4.x, s4.y), 40.0, hazard_id="H3")])
    result = _run(li_walk, hazards, people, shelters)
    why = result.excluded_shelters.set_index("shelter")
    assert why.loc["S0", "reason"] == NOT_OPEN
    assert why.loc["S1", "reason"] == NO_FREE_CAPACITY
    assert (why.loc["S2", "reason"], why.loc["S2", "hazard"]) == (INSIDE_HAZARD_ZONE, "H1")
    assert (why.loc["S3", "reason"], why.loc["S3", "hazard"]) == (WITHIN_SAFETY_DISTANCE, "H2")
    assert (why.loc["S4", "reason"], why.loc["S4", "hazard"]) == (INSIDE_HAZARD_ZONE, "H3")
    # Each shelter is either usable or excluded, never both; the others are excluded only when
    # they too are within 1000 m of the gas store.
    usable = set(result.shelters["shelter"])
    assert usable.isdisjoint(why.index) and usable | set(why.index) == set(shelters.index)
    gas_xy = shapely.Point(_xy(li_walk, (gas[0][0], gas[1][0])))
    for shelter in ("S5", "S6", "S7"):
        near_gas = shelters.geometry.to_crs(li_walk.crs).loc[shelter].distance(gas_xy) < 1000
        assert (shelter not in usable) == near_gas
    _check_invariants(li_walk, hazards, people, shelters, result)


def test_people_cut_off_by_another_hazard_are_not_placed_and_say_why(li_walk):
    rng = np.random.default_rng(11)
    people = _people(li_walk, rng, n_inside=12)
    shelters = _shelters(li_walk, rng, n=5)
    hazards = _hazard("fuel_station", VADUZ)
    # A closed ring of road around the zone, beyond it, before every shelter.
    centre = shapely.Point(_xy(li_walk, VADUZ))
    ring = centre.buffer(ZONE_M + 80).difference(centre.buffer(ZONE_M + 40))
    closed = gpd.GeoDataFrame({"road_effect": ["block"], "slow_factor": [1.0]},
                              geometry=[ring], crs=li_walk.crs)
    effects = road_barriers(li_walk, extra=closed).effects
    result = _run(li_walk, hazards, people, shelters, effects=effects)
    inside = _inside(li_walk, hazards, people).sum()
    assert result.placed == 0 and result.unplaced_by_reason[NO_REACHABLE_SHELTER] == inside
    assert (result.unplaced_points["cause"] == CUT_OFF).all()
    assert result.clearance_time_s is None and len(result.features()) == 0
    assert "with no reachable shelter" in result.summary()
    # One shelter between the zone and the ring takes ten of them; the rest are short of room.
    spot = _lonlat(li_walk, _on_roads_between(li_walk, VADUZ, ZONE_M + 5, ZONE_M + 25, 1, rng))
    near = shelters.iloc[:1].copy()
    near.index = pd.Index(["S-near"])
    near["geometry"], near["capacity_people"], near["occupancy"] = (
        [shapely.Point(spot[0][0], spot[1][0])], 10, 0)
    both = pd.concat([shelters, near])
    result = _run(li_walk, hazards, people, both, effects=effects)
    assert result.placed == 10
    assert result.unplaced_by_reason[CAPACITY_SHORT] == inside - 10
    assert set(result.flows["shelter"]) == {"S-near"}
    _check_invariants(li_walk, hazards, people, both, result)


def test_no_usable_shelter_and_a_time_limit(li_walk):
    rng = np.random.default_rng(5)
    people = _people(li_walk, rng, n_inside=8)
    shelters = _shelters(li_walk, rng, n=4).assign(status="full")
    hazards = _hazard("fuel_station", VADUZ)
    result = _run(li_walk, hazards, people, shelters)
    assert result.placed == 0 and result.unplaced == pytest.approx(result.population_inside)
    assert (result.unplaced_points["cause"] == NO_SHELTER).all()
    assert len(result.excluded_shelters) == 4 and result.solve_status == "nothing to solve"
    open_ones = shelters.assign(status="open")
    unlimited = _run(li_walk, hazards, people, open_ones)
    limited = _run(li_walk, hazards, people, open_ones, max_time_s=60.0)
    assert unlimited.placed > 0 and limited.placed < unlimited.placed
    assert (limited.flows["travel_time_s"] <= 60.0).all()
    assert set(limited.unplaced_points["cause"]) <= {BEYOND_MAX_TIME, ""}


def test_fractional_population_is_conserved(li_walk):
    rng = np.random.default_rng(9)
    people = _people(li_walk, rng, n_inside=15, whole=False)
    shelters = _shelters(li_walk, rng, n=4, capacity=(10, 40))
    hazards = _hazard("flood_zone", VADUZ)
    stages = []
    result = _run(li_walk, hazards, people, shelters, progress=stages.append)
    assert stages == list(STAGES)
    _check_invariants(li_walk, hazards, people, shelters, result)
    assert not (result.flows["people"] == np.round(result.flows["people"])).all()
    assert result.unplaced_by_reason[CAPACITY_SHORT] > 0


def test_nobody_inside_is_an_answer(li_walk):
    rng = np.random.default_rng(2)
    shelters = _shelters(li_walk, rng, n=3)
    far = gpd.GeoDataFrame({"population": [12.0]}, geometry=[shapely.Point(9.5850, 47.0660)],
                           crs="EPSG:4326")
    result = _run(li_walk, _hazard("fire", VADUZ), far, shelters)
    assert (result.population_inside, result.placed, result.unplaced) == (0, 0, 0)
    assert any("nobody lives inside" in note for note in result.notes)
    assert result.to_dict()["clearance_time_s"] is None


def test_routes_run_from_each_point_to_its_shelter(li_walk):
    rng = np.random.default_rng(1)
    people = _people(li_walk, rng, n_inside=10)
    shelters = _shelters(li_walk, rng, n=5)
    result = _run(li_walk, _hazard("flood_zone", VADUZ), people, shelters)
    routes = result.features()
    assert routes.crs.to_epsg() == 4326 and len(routes) == len(result.flows)
    assert (routes.geometry.geom_type == "LineString").all()
    merged = routes.merge(result.flows, on=["point", "shelter"], suffixes=("", "_flow"))
    np.testing.assert_allclose(merged["travel_time_s"], merged["travel_time_s_flow"], atol=1e-6)
    starts = gpd.GeoSeries(shapely.get_point(routes.geometry.to_numpy(), 0), crs=4326)
    ends = gpd.GeoSeries(shapely.get_point(routes.geometry.to_numpy(), -1), crs=4326)
    from_point = starts.to_crs(li_walk.crs).distance(
        people.loc[routes["point"]].geometry.to_crs(li_walk.crs).reset_index(drop=True))
    to_shelter = ends.to_crs(li_walk.crs).distance(
        shelters.loc[routes["shelter"]].geometry.to_crs(li_walk.crs).reset_index(drop=True))
    assert (from_point < 25).all() and (to_shelter < 25).all()  # 10 m beside the road


@pytest.mark.slow  # reads the whole OSM file into networkx (about 20 s)
def test_travel_times_equal_the_unsimplified_osm_graph(li_walk):
    """Points exactly on roads, a flood slowing the zone: each flow's time against networkx on
    the graph read straight from the OSM file, with the slow zone applied."""
    rng = np.random.default_rng(4)
    people = _people(li_walk, rng, n_inside=6, n_outside=0)
    shelters = _shelters(li_walk, rng, n=3)
    for frame in (people, shelters):  # onto the roads themselves
        xy = np.column_stack(li_walk.to_xy.transform(frame.geometry.x, frame.geometry.y))
        roads = li_walk.geometries[li_walk.edge_index.nearest(shapely.points(xy))]
        on = shapely.line_interpolate_point(roads, shapely.line_locate_point(
            roads, shapely.points(xy)))
        lon, lat = _lonlat(li_walk, shapely.get_coordinates(on))
        frame["geometry"] = gpd.points_from_xy(lon, lat, crs="EPSG:4326")
    hazards = _hazard("flood_zone", VADUZ)
    result = _run(li_walk, hazards, people, shelters)
    assert len(result.flows) >= 3
    zone = hazard_zones(hazards, crs=li_walk.crs).geometry.iloc[0]
    named = {**{("p", i): tuple(_xy(li_walk, (g.x, g.y))) for i, g in people.geometry.items()},
             **{("s", j): tuple(_xy(li_walk, (g.x, g.y))) for j, g in shelters.geometry.items()}}
    graph = OsmGraph(LIECHTENSTEIN, "walk", li_walk.to_xy).build(named, zones=[(zone, 2.0)])
    for flow in result.flows.itertuples():
        expected = path_cost(graph, ("p", flow.point), ("s", flow.shelter))
        assert flow.travel_time_s == pytest.approx(expected, abs=1e-6)


def test_bad_input_names_the_field(li_walk):
    rng = np.random.default_rng(0)
    people = _people(li_walk, rng, n_inside=3)
    shelters = _shelters(li_walk, rng, n=2)
    zones = hazard_zones(_hazard("fire", VADUZ), crs=li_walk.crs)
    with pytest.raises(ValidationError, match="population: missing column 'people'"):
        evacuation(li_walk, zones, people, shelters, population_column="people")
    with pytest.raises(ValidationError, match="population.population"):
        evacuation(li_walk, zones, people.assign(population=-1.0), shelters)
    with pytest.raises(ValidationError, match="shelters: missing column"):
        evacuation(li_walk, zones, people, shelters.drop(columns="status"))
    with pytest.raises(ValidationError, match="zones: no hazard zone"):
        evacuation(li_walk, zones.iloc[:0], people, shelters)
    with pytest.raises(ValidationError, match="zones: EPSG:4326 is not a projected CRS"):
        evacuation(li_walk, zones.to_crs(4326), people, shelters)
    with pytest.raises(ValidationError, match="max_time_s"):
        evacuation(li_walk, zones, people, shelters, max_time_s=-5)
