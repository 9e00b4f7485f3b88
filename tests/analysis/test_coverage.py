"""Coverage totals, capacities and hazards that cut demand off."""

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.coverage import coverage
from geo.core.vocabulary import CUT_OFF, ISLAND, OFF_NETWORK
from geo.errors import ValidationError
from geo.routing.snapping import snap_points
from tests.analysis_inputs import points_along_roads
from tests.reference import split_graph

VADUZ = (9.5209, 47.1410)
# The only road up to Steg and Malbun (after the Gnalp tunnel), found on the real extract.
STEG_ROAD = (9.5762202, 47.1126565)
MALBUN_BOX = (9.585, 47.085, 9.64, 47.115)


@pytest.fixture
def people(li_drive, rng):
    lon, lat = points_along_roads(li_drive, 600, rng)
    frame = gpd.GeoDataFrame({"population": rng.integers(1, 40, 600).astype(float)},
                             geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    far_away = gpd.GeoDataFrame({"population": [25.0]},
                                geometry=[shapely.Point(9.5850, 47.0660)], crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat([frame, far_away], ignore_index=True), crs="EPSG:4326")


def _facilities(points, **columns):
    lon, lat = zip(*points)
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _nearest_by_networkx(net, facilities, demand, *, reverse):
    """Reference: (cost, facility) of each demand point from networkx on the split graph, one
    search per facility (over the reversed graph when people travel to the facilities)."""
    points = {("facility", j): snap_points(net, g.x, g.y) for j, g in enumerate(facilities)}
    points |= {("demand", i): snap_points(net, g.x, g.y) for i, g in enumerate(demand)}
    graph = split_graph(net, points)
    graph = graph.reverse(copy=False) if reverse else graph
    cost = np.full((len(facilities), len(demand)), np.inf)
    for j in range(len(facilities)):
        if points["facility", j].on_network[0]:
            reached = nx.single_source_dijkstra_path_length(graph, ("facility", j))
            for i in range(len(demand)):
                if points["demand", i].on_network[0]:
                    cost[j, i] = reached.get(("demand", i), np.inf)
    return cost.min(axis=0), cost


@pytest.mark.parametrize("direction", ["from", "to"])
def test_totals_add_up_and_match_an_independent_reference(li_drive, people, direction):
    stations = _facilities([VADUZ, (9.5100, 47.1650)], capacity=[5000.0, 100.0])
    breaks = [120, 300, 600]
    result = coverage(li_drive, stations, people, breaks=breaks, direction=direction,
                      capacity_column="capacity")
    expected, each = _nearest_by_networkx(li_drive, stations.geometry, people.geometry,
                                          reverse=direction == "to")
    within = expected <= breaks[-1]
    assert 0 < within.sum() < len(people)
    ours = result.demand["cost"].to_numpy()
    np.testing.assert_allclose(ours[within], expected[within], rtol=1e-9, atol=1e-6)
    assert np.isnan(ours[~within]).all()
    # Each covered point goes to its nearest facility (either one where both are as near).
    nearest = np.isclose(each, expected, rtol=1e-9, atol=1e-6)
    facility = result.demand["facility"].to_numpy()
    assert all(nearest[int(facility[i]), i] for i in np.flatnonzero(within))
    summary = result.summary
    weights = people["population"].to_numpy()
    np.testing.assert_allclose(summary["covered"],
                               [weights[expected <= b].sum() for b in breaks])
    np.testing.assert_allclose(summary["covered"] + summary["uncovered"] + summary["unreachable"],
                               summary["total"])
    assert summary["total"].iloc[0] == weights.sum()
    # The far-away point (an Alpine meadow) is off the network.
    assert result.demand["reason"].iloc[-1] == OFF_NETWORK
    assert summary["unreachable"].iloc[0] == 25.0
    per = result.facilities
    at_600 = per[per["break"] == 600]
    assert at_600["assigned"].sum() == pytest.approx(summary["covered"].iloc[-1])
    assert at_600.set_index("facility").loc[1, "over_capacity"]
    assert len(result.uncovered()) + len(result.unreachable()) + within.sum() == len(people)


def test_unreachable_demand_says_whether_it_is_on_a_cut_off_road_or_off_the_network(li_drive):
    """On a road cut off from the network: "island"; far from every road: "off_network"."""
    kept = shapely.union_all(li_drive.geometries)
    dropped = shapely.union_all(shapely.linestrings(np.asarray(li_drive.dropped_xy)))
    middles = np.asarray(li_drive.dropped_xy).mean(axis=1)
    # Midpoints of cut-off roads beyond the snap limit of every kept road: independent of the
    # tolerance that lets points near both be routed from the kept one.
    far_from_kept = shapely.distance(shapely.points(middles), kept) > 600
    assert far_from_kept.sum() >= 3
    meadow = li_drive.to_xy.transform(9.5850, 47.0660)
    assert min(shapely.distance(shapely.Point(meadow), g) for g in (kept, dropped)) > 600
    xy = np.vstack([middles[far_from_kept], meadow])
    lon, lat = li_drive.to_lonlat.transform(xy[:, 0], xy[:, 1])
    demand = gpd.GeoDataFrame({"population": np.ones(len(xy))},
                              geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    result = coverage(li_drive, _facilities([VADUZ]), demand, breaks=[600], direction="from")
    assert result.demand["reason"].tolist() == [ISLAND] * (len(xy) - 1) + [OFF_NETWORK]
    assert result.demand["cost"].isna().all()
    assert result.to_dict()["unreachable_by_reason"] == {ISLAND: len(xy) - 1, OFF_NETWORK: 1}


def test_hazard_across_the_only_road_cuts_the_village_off(li_drive, people, rng):
    lon, lat = points_along_roads(li_drive, 4000, rng)
    west, south, east, north = MALBUN_BOX
    in_village = (lon > west) & (lon < east) & (lat > south) & (lat < north)
    assert in_village.sum() >= 20
    village = gpd.GeoDataFrame({"population": np.full(in_village.sum(), 10.0)},
                               geometry=gpd.points_from_xy(lon[in_village], lat[in_village]),
                               crs="EPSG:4326")
    demand = gpd.GeoDataFrame(pd.concat([people, village], ignore_index=True), crs="EPSG:4326")
    station = _facilities([VADUZ])
    free = coverage(li_drive, station, demand, breaks=[1800], direction="from")
    assert (free.demand["reason"].iloc[-len(village):] == "").all()
    landslide = gpd.GeoDataFrame({"type": ["landslide"], "radius_m": [60.0]},
                                 geometry=[shapely.Point(STEG_ROAD)], crs="EPSG:4326")
    barriers = road_barriers(li_drive, hazard_zones(landslide, crs=li_drive.crs))
    cut = coverage(li_drive, station, demand, breaks=[1800], direction="from",
                   **barriers.as_kwargs())
    village_rows = cut.demand.iloc[-len(village):]
    assert (village_rows["reason"] == CUT_OFF).all()
    assert village_rows["cost"].isna().all()
    row = cut.summary.iloc[0]
    assert row["unreachable"] >= village["population"].sum()
    assert row["covered"] + row["uncovered"] + row["unreachable"] == pytest.approx(row["total"])


def test_bad_coverage_input(li_drive, people):
    stations = _facilities([VADUZ])
    with pytest.raises(ValidationError, match="demand: missing column 'people'"):
        coverage(li_drive, stations, people, breaks=[300], demand_column="people")
    negative = people.assign(population=-1.0)
    with pytest.raises(ValidationError, match="demand.population"):
        coverage(li_drive, stations, negative, breaks=[300])
    with pytest.raises(ValidationError, match="facilities: missing column 'beds'"):
        coverage(li_drive, stations, people, breaks=[300], capacity_column="beds")
