"""Coverage totals, capacities and hazards that cut demand off."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.coverage import CUT_OFF, OFF_NETWORK, coverage
from geo.errors import ValidationError
from geo.routing.search import cost_to_points, search_from_points
from geo.routing.snapping import snap_points
from tests.analysis_inputs import points_along_roads

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


def test_totals_add_up_and_match_the_costs(li_drive, people):
    stations = _facilities([VADUZ, (9.5100, 47.1650)], capacity=[5000.0, 100.0])
    result = coverage(li_drive, stations, people, breaks=[120, 300, 600], direction="from",
                      capacity_column="capacity")
    summary = result.summary
    np.testing.assert_allclose(summary["covered"] + summary["uncovered"] + summary["unreachable"],
                               summary["total"])
    assert summary["total"].iloc[0] == people["population"].sum()
    assert (np.diff(summary["covered"]) >= 0).all()
    # The far-away point (an Alpine meadow) is off the network.
    assert result.demand["reason"].iloc[-1] == OFF_NETWORK
    assert summary["unreachable"].iloc[0] == 25.0
    # Costs are those of an independent nearest-facility search.
    both = snap_points(li_drive, [VADUZ[0], 9.51], [VADUZ[1], 47.165])
    search = search_from_points(li_drive, both)
    points = people.geometry
    expected, _ = cost_to_points(li_drive, search, snap_points(li_drive, points.x, points.y))
    reachable = np.isfinite(expected) & (expected <= 600)
    np.testing.assert_allclose(result.demand["cost"].to_numpy()[reachable], expected[reachable])
    per = result.facilities
    at_600 = per[per["break"] == 600]
    assert at_600["assigned"].sum() == pytest.approx(summary["covered"].iloc[-1])
    assert at_600.set_index("facility").loc[1, "over_capacity"]
    assert len(result.uncovered()) + len(result.unreachable()) + int(
        (result.demand["cost"] <= 600).sum()) == len(people)


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
