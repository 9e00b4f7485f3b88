"""Dispatch ranking against a brute force: networkx from every team to the incident."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.dispatch import depots_for_items, nearest_teams, shelters_with_room
from geo.errors import PointError, ValidationError
from geo.routing.snapping import snap_points
from tests.analysis_inputs import points_along_roads, teams_frame
from tests.reference import path_cost, split_graph


def _brute_force(net, incident, teams, *, types=None, min_headcount=0, costs=None, zones=(),
                 incident_at=None):
    """ETA of every eligible team: turnout + networkx shortest path team → incident (or
    ``incident_at``, the incident's place on a road)."""
    eligible = teams[(teams["status"] == "available")
                     & (teams["type"].isin(types) if types else True)
                     & (teams["headcount"] >= min_headcount)]
    points = {"incident": incident_at or snap_points(net, incident[0], incident[1])}
    for i, geom in zip(eligible.index, eligible.geometry):
        points["team", i] = snap_points(net, geom.x, geom.y)  # names apart from node numbers
    graph = split_graph(net, points, costs, zones=zones)
    eta = {i: eligible.loc[i, "turnout_s"] + path_cost(graph, ("team", i), "incident")
           for i in eligible.index if points["team", i].on_network[0]}
    return pd.Series(eta).sort_values(kind="stable")


def _check_ranking(result, expected, k):
    expected = expected[np.isfinite(expected)]
    ours = [o.eta_s for o in result.options]
    np.testing.assert_allclose(ours, expected.to_numpy()[:len(ours)], atol=1e-6)
    assert len(ours) == min(k, len(expected))
    top = expected.to_numpy()[:len(ours)]
    for option, eta in zip(result.options, top):
        # Same team unless another has exactly the same ETA.
        tied = expected.index[np.isclose(expected.to_numpy(), eta, atol=1e-6)]
        assert option.id in tied


@pytest.mark.parametrize("region", ["liechtenstein", "monaco"])
def test_ranking_equals_brute_force(networks, region, rng):
    net = networks(region, "drive")
    teams = teams_frame(net, 40, rng)
    for _ in range(3):
        lon, lat = points_along_roads(net, 1, rng)
        incident = (lon[0], lat[0])
        result = nearest_teams(net, incident, teams, k=5)
        _check_ranking(result, _brute_force(net, incident, teams), 5)
        typed = nearest_teams(net, incident, teams, k=3, types=["medical"])
        _check_ranking(typed, _brute_force(net, incident, teams, types=["medical"]), 3)
        assert all(o.details["type"] == "medical" for o in typed.options)


def test_minimum_headcount_leaves_smaller_teams_out(li_drive, rng):
    teams = teams_frame(li_drive, 40, rng)
    lon, lat = points_along_roads(li_drive, 1, rng)
    incident = (lon[0], lat[0])
    result = nearest_teams(li_drive, incident, teams, k=4, min_headcount=8)
    _check_ranking(result, _brute_force(li_drive, incident, teams, min_headcount=8), 4)
    assert all(o.details["headcount"] >= 8 for o in result.options)
    # Smaller teams would have been sent without the minimum: the filter changed the answer.
    anyone = nearest_teams(li_drive, incident, teams, k=4)
    assert any(o.details["headcount"] < 8 for o in anyone.options)
    assert result.eligible == int(((teams["status"] == "available")
                                   & (teams["headcount"] >= 8)).sum()) < anyone.eligible


@pytest.mark.parametrize("region", ["liechtenstein", "monaco"])
def test_ranking_with_a_blocking_hazard_equals_brute_force(networks, region, rng):
    net = networks(region, "drive")
    teams = teams_frame(net, 40, rng)
    lon, lat = points_along_roads(net, 1, rng)
    incident = (lon[0], lat[0])
    free = nearest_teams(net, incident, teams, k=3)
    # A hazard on the middle of the best team's route.
    coords = free.options[0].route["coordinates"]
    centre = coords[len(coords) // 2]
    hazards = gpd.GeoDataFrame({"type": ["chemical_plant"], "radius_m": [80.0]},
                               geometry=[shapely.Point(centre)], crs="EPSG:4326")
    zones = hazard_zones(hazards, crs=net.crs)
    barriers = road_barriers(net, zones)
    assert len(barriers.effects)
    result = nearest_teams(net, incident, teams, k=3, **barriers.as_kwargs())
    circle = [(zones.geometry.iloc[0], np.inf)]
    _check_ranking(result, _brute_force(net, incident, teams, zones=circle), 3)
    best = [o.id for o in result.options]
    assert best != [o.id for o in free.options] or result.options[0].eta_s > free.options[0].eta_s


def test_answer_carries_route_eta_distance_and_snaps(li_drive, rng):
    teams = teams_frame(li_drive, 20, rng)
    result = nearest_teams(li_drive, (9.5209, 47.1410), teams, k=2)
    first = result.options[0]
    assert first.eta_s == pytest.approx(first.travel_s + first.details["turnout_s"])
    assert first.route["type"] == "LineString" and first.distance_m > 0
    start = np.array(first.route["coordinates"][0])
    team = teams.loc[first.id].geometry
    x, y = li_drive.to_xy.transform([start[0], team.x], [start[1], team.y])
    assert np.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(first.snap_m, abs=0.5)
    assert result.to_dict()["teams"][0]["id"] == first.id


def test_no_eligible_team_and_k_larger_than_teams(li_drive, rng):
    teams = teams_frame(li_drive, 10, rng)
    none = nearest_teams(li_drive, (9.5209, 47.1410), teams, types=["hazmat"])
    assert none.options == [] and none.eligible == 0 and "no available team" in none.note
    many = nearest_teams(li_drive, (9.5209, 47.1410), teams, k=50)
    available = int((teams["status"] == "available").sum())
    assert len(many.options) == available and "only" in many.note


def test_incident_off_network_is_an_answer_not_an_error(li_drive, rng):
    teams = teams_frame(li_drive, 10, rng)
    west, south, east, north = li_drive.bounds_lonlat
    lon, lat = np.meshgrid(np.linspace(west, east, 30), np.linspace(south, north, 30))
    snapped = snap_points(li_drive, lon.ravel(), lat.ravel())
    i = int(np.argmax(snapped.snap_m))
    result = nearest_teams(li_drive, (lon.ravel()[i], lat.ravel()[i]), teams)
    assert result.options == [] and result.incident_status == "far"
    assert "from the nearest road" in result.note


def test_cut_off_team_is_reported_unreachable(li_drive, rng):
    teams = teams_frame(li_drive, 10, rng).iloc[:1].assign(status="available")
    team = teams.geometry.iloc[0]
    ring = gpd.GeoDataFrame({"type": ["flood_zone"], "road_effect": ["block"]},
                            geometry=[shapely.Point(team.x, team.y).buffer(0.004)
                                      .exterior.buffer(0.0005)],
                            crs="EPSG:4326")
    barriers = road_barriers(li_drive, hazard_zones(ring, crs=li_drive.crs))
    result = nearest_teams(li_drive, (9.5209, 47.1410), teams, **barriers.as_kwargs())
    assert result.options == []
    assert [u.reason for u in result.unreachable] == ["cut_off_by_hazard"]


def test_bad_dispatch_arguments(li_drive, rng):
    teams = teams_frame(li_drive, 5, rng)
    with pytest.raises(ValidationError, match="k: expected a positive whole number"):
        nearest_teams(li_drive, (9.5209, 47.1410), teams, k=0)
    with pytest.raises(PointError, match="incident: .* look swapped"):
        nearest_teams(li_drive, (47.1410, 9.5209), teams)
    with pytest.raises(ValidationError, match="teams: missing column"):
        nearest_teams(li_drive, (9.5209, 47.1410), teams.drop(columns="turnout_s"))


def test_supplies_split_across_depots_in_eta_order(li_drive, rng):
    lon, lat = points_along_roads(li_drive, 3, rng)
    depots = gpd.GeoDataFrame({"name": ["A", "B", "C"]}, geometry=gpd.points_from_xy(lon, lat),
                              crs="EPSG:4326")
    inventory = pd.DataFrame({"depot": [0, 1, 2, 2], "item": ["water", "water", "water", "tents"],
                              "quantity": [300.0, 300.0, 300.0, 5.0]})
    plan = depots_for_items(li_drive, (9.5209, 47.1410), depots, inventory,
                            {"water": 500, "tents": 20})
    etas = [d["eta_s"] for d in plan["depots"]]
    assert etas == sorted(etas) and len(etas) == 3
    water = [a for a in plan["allocation"] if a["item"] == "water"]
    assert [a["quantity"] for a in water] == [300.0, 200.0]
    assert water[0]["depot"] == plan["depots"][0]["id"]
    assert plan["shortfall"] == {"tents": 15.0}
    taken_from = {a["depot"] for a in plan["allocation"]}
    for depot in plan["depots"]:  # routes for the depots taken from, the rest by ETA only
        assert (depot["route"] is not None) == (depot["id"] in taken_from)
        assert (depot["distance_m"] is not None) == (depot["id"] in taken_from)
    small = depots_for_items(li_drive, (9.5209, 47.1410), depots, inventory, {"water": 100})
    assert [d["route"] is not None for d in small["depots"]] == [True, False, False]
    with pytest.raises(ValidationError, match="items.water: quantity must be positive"):
        depots_for_items(li_drive, (9.5209, 47.1410), depots, inventory, {"water": -1})


def test_open_shelters_with_room_by_walking_time(li_walk, rng):
    lon, lat = points_along_roads(li_walk, 4, rng)
    shelters = gpd.GeoDataFrame({
        "name": list("ABCD"), "status": ["open", "open", "closed", "open"],
        "capacity_people": [100, 50, 500, 80], "occupancy": [20, 50, 0, 0]},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    found = shelters_with_room(li_walk, (9.5209, 47.1410), shelters, k=5)
    assert {f["name"] for f in found} == {"A", "D"}
    assert [f["walk_s"] for f in found] == sorted(f["walk_s"] for f in found)
    assert {f["name"]: f["free_capacity"] for f in found} == {"A": 80.0, "D": 80.0}


def test_team_parked_at_the_start_of_a_one_way_road_leaves_from_the_junction(li_drive):
    """Regression: a point snapped exactly to a one-way road's first node is at that junction."""
    oneway = np.flatnonzero(li_drive.geom_edges[:, 1] < 0)
    lengths = shapely.length(li_drive.geometries[oneway])
    g = int(oneway[np.argmax(lengths)])  # a long one-way road
    forward = li_drive.geom_edges[g, 0]
    start = li_drive.geometries[g].coords[0]
    # Just behind the road's start, so the nearest point of this road is its first node.
    lon, lat = li_drive.to_lonlat.transform(start[0], start[1])
    teams = gpd.GeoDataFrame({"name": ["parked"], "type": ["fire"], "status": ["available"],
                              "headcount": [4], "turnout_s": [0.0]},
                             geometry=[shapely.Point(lon, lat)], crs="EPSG:4326")
    snapped = snap_points(li_drive, [lon], [lat])
    assert snapped.fraction[0] in (0.0, 1.0)
    # An incident right at the junction: the team is there already, not a whole road away.
    result = nearest_teams(li_drive, (lon, lat), teams, k=1)
    assert result.options[0].eta_s == pytest.approx(0.0, abs=1e-9)
    assert li_drive.edge_travel_time_s[forward] > 10


class _OnRoad:
    """A point placed on road geometry ``g`` at ``fraction``, as tests.reference.split_graph
    reads a snapped point; found without the snapping code."""

    def __init__(self, g: int, fraction: float):
        self.on_network = np.array([True])
        self.geom = np.array([g])
        self.fraction = np.array([fraction])


def _nearest_kept_road(net, lon, lat):
    """(distance in metres, the point on the nearest kept road) by brute force over every road."""
    point = shapely.Point(*net.to_xy.transform(lon, lat))
    distance = shapely.distance(point, net.geometries)
    g = int(np.argmin(distance))
    fraction = shapely.line_locate_point(net.geometries[g], point, normalized=True)
    return float(distance[g]), _OnRoad(g, float(fraction))


# Real places where the nearest road is cut off from the network and the nearest kept road is
# more than 50 m away. Monaco: Avenue du Maréchal Foch (OSM way 24668403), a one-way street that
# leaves the extract into Beausoleil, so nothing comes back from its end. Vaduz: a one-way
# service road (way 272650018) joined to no other road, beside Sandweg.
CUT_OFF_ROADS = [("monaco", (7.420931, 43.739548)), ("liechtenstein", (9.523598, 47.110566))]


@pytest.mark.parametrize("region, incident", CUT_OFF_ROADS)
def test_incident_beside_a_cut_off_road_is_routed_from_the_nearest_connected_road(
        networks, region, incident, rng):
    net = networks(region, "drive")
    teams = teams_frame(net, 40, rng)
    snap_m, on_road = _nearest_kept_road(net, *incident)
    plain = nearest_teams(net, incident, teams, k=5)
    assert plain.incident_status == "island" and plain.options == []  # before: no team at all
    assert 50 < snap_m < 500

    result = nearest_teams(net, incident, teams, k=5, route_islands=True)
    assert result.incident_status == "ok"
    assert result.incident_snap_m == pytest.approx(snap_m, abs=1e-6)
    assert f"routed from the nearest connected road, {snap_m:.0f} m away" in result.note
    expected = _brute_force(net, incident, teams, incident_at=on_road)
    _check_ranking(result, expected, 5)
    # Depots where the best teams are: their supplies reach the incident too.
    depots = teams.loc[[o.id for o in result.options[:2]]]
    stock = pd.DataFrame({"depot": depots.index, "item": "water", "quantity": 10.0})
    supplies = depots_for_items(net, incident, depots, stock, {"water": 20}, route_islands=True)
    assert supplies["incident_snap_m"] == pytest.approx(snap_m, abs=1e-6)
    assert supplies["shortfall"] == {} and len(supplies["depots"]) == 2
