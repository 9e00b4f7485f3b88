"""Hazards as road barriers, exposure and unsafe shelters."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.ops

from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.coverage import coverage
from geo.analysis.exposure import exposure, unsafe_shelters
from geo.core.hazard_rules import load_hazard_rules
from geo.errors import ValidationError
from tests.analysis_inputs import points_along_roads

CENTRE = (9.5209, 47.1410)


def _hazards(**columns):
    geometry = columns.pop("geometry", [shapely.Point(CENTRE)])
    return gpd.GeoDataFrame(columns, geometry=geometry, crs="EPSG:4326")


def _blocked_roads(barriers) -> set[int]:
    effects = barriers.effects
    return set(effects.geom[np.isinf(effects.factor)].tolist())


def _stretch_lines(net, effects):
    return [shapely.ops.substring(net.geometries[g], a, b, normalized=True)
            for g, a, b in zip(effects.geom, effects.start, effects.end)]


def test_point_hazard_blocks_exactly_the_parts_of_roads_inside_its_radius(li_drive):
    zones = hazard_zones(_hazards(type=["fuel_station"], radius_m=[150.0]), crs=li_drive.crs)
    effects = road_barriers(li_drive, zones).effects
    zone = zones.geometry.iloc[0]
    crossing = np.flatnonzero(shapely.intersects(li_drive.geometries, zone))
    assert set(effects.geom.tolist()) == set(crossing.tolist()) and len(crossing) > 4
    assert np.isinf(effects.factor).all()
    # Each stretch lies in the zone and the roads' parts outside it are not covered.
    for line in _stretch_lines(li_drive, effects):
        assert line.difference(zone.buffer(0.01)).length < 1e-6
    covered = sum(line.length for line in _stretch_lines(li_drive, effects))
    inside = sum(li_drive.geometries[g].intersection(zone).length for g in crossing)
    assert covered == pytest.approx(inside, rel=1e-6)
    # roads leaving the zone stay open outside it (they were closed whole)
    assert covered < shapely.length(li_drive.geometries[crossing]).sum() - 100.0


def test_slow_hazard_slows_the_parts_inside_and_inactive_hazards_do_nothing(li_drive):
    hazards = _hazards(type=["flood_zone", "chemical_plant"], active=[True, False],
                       geometry=[shapely.Point(CENTRE).buffer(0.003), shapely.Point(CENTRE)])
    zones = hazard_zones(hazards, crs=li_drive.crs)
    assert len(zones) == 1
    effects = road_barriers(li_drive, zones).effects
    assert len(effects) > 4 and set(effects.factor.tolist()) == {2.0}


def _slow_zones(net):
    """A flood over the whole network (factor 3) and a smaller one (factor 2) inside it, in
    lon/lat: every road lies wholly inside the big zone, so its cost triples whether a zone
    slows whole roads or only the part inside it."""
    west, south, east, north = net.bounds_lonlat
    everywhere = shapely.box(west - 0.01, south - 0.01, east + 0.01, north + 0.01)
    x, y = net.to_xy.transform(*CENTRE)
    town = shapely.transform(shapely.Point(x, y).buffer(1500),
                             lambda xy: np.column_stack(net.to_lonlat.transform(*xy.T)))
    return {3.0: everywhere, 2.0: town}


@pytest.mark.parametrize("how", ["big zone first", "small zone first", "hazard and drawn area",
                                 "combined"])
def test_where_slow_zones_overlap_the_largest_factor_applies(li_drive, how):
    zones = _slow_zones(li_drive)

    def flood(*factors):
        return _hazards(type=["flood_zone"] * len(factors), slow_factor=list(factors),
                        geometry=[zones[f] for f in factors])

    if how == "big zone first":
        barriers = road_barriers(li_drive, hazard_zones(flood(3.0, 2.0), crs=li_drive.crs))
    elif how == "small zone first":
        barriers = road_barriers(li_drive, hazard_zones(flood(2.0, 3.0), crs=li_drive.crs))
    elif how == "hazard and drawn area":
        barriers = road_barriers(li_drive, hazard_zones(flood(3.0), crs=li_drive.crs),
                                 extra=flood(2.0).assign(road_effect="slow"))
    else:
        barriers = road_barriers(li_drive, hazard_zones(flood(3.0), crs=li_drive.crs)).combined(
            road_barriers(li_drive, extra=flood(2.0).assign(road_effect="slow")))
    lon, lat = points_along_roads(li_drive, 300, np.random.default_rng(1))
    demand = gpd.GeoDataFrame({"population": np.ones(300)},
                              geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    station = gpd.GeoDataFrame(geometry=[shapely.Point(CENTRE)], crs="EPSG:4326")
    free = coverage(li_drive, station, demand, breaks=[1e6], direction="from").demand["cost"]
    slowed = coverage(li_drive, station, demand, breaks=[1e6], direction="from",
                      **barriers.as_kwargs()).demand["cost"]
    assert free.notna().all()
    np.testing.assert_allclose(slowed, 3.0 * free, rtol=1e-9)
    # The small zone holds many points: a product or the last factor would show there.
    assert shapely.contains(zones[2.0], shapely.points(lon, lat)).sum() >= 10


def test_ad_hoc_barrier_line_blocks_the_roads_where_it_crosses_them(li_drive):
    closed_bridge = shapely.LineString([(9.5200, 47.1405), (9.5220, 47.1415)])
    effects = road_barriers(li_drive, extra=[closed_bridge]).effects
    xy = li_drive.to_xy.transform(*np.array(closed_bridge.coords).T)
    line = shapely.LineString(np.column_stack(xy))
    crossing = np.flatnonzero(shapely.intersects(li_drive.geometries, line))
    assert set(effects.geom.tolist()) == set(crossing.tolist()) and len(crossing) > 0
    assert np.isinf(effects.factor).all()
    at = shapely.line_interpolate_point(li_drive.geometries[effects.geom], effects.start,
                                        normalized=True)
    assert (shapely.distance(at, line) < 1e-6).all()  # each stretch is where the line crosses
    with pytest.raises(ValidationError, match=r"barriers\[0\]"):
        road_barriers(li_drive, extra=["not a geometry"])


def test_exposure_counts_people_features_and_roads(li_drive):
    zones = hazard_zones(_hazards(type=["chemical_plant"], radius_m=[400.0]), crs=li_drive.crs)
    people = gpd.GeoDataFrame({"population": [10.0, 20.0, 40.0]}, geometry=[
        shapely.Point(CENTRE), shapely.Point(9.5215, 47.1412), shapely.Point(9.60, 47.20)],
        crs="EPSG:4326")
    shelters = gpd.GeoDataFrame({"name": ["in", "out"]}, geometry=[
        shapely.Point(9.5212, 47.1409), shapely.Point(9.55, 47.17)], crs="EPSG:4326")
    table = exposure(zones, layers={"shelters": shelters, "teams": shelters.iloc[:0]},
                     population=people, net=li_drive)
    row = table.iloc[0]
    assert row["population"] == 30.0
    assert row["shelters_count"] == 1 and row["shelters_ids"] == [0]
    assert row["teams_count"] == 0
    clipped = shapely.intersection(li_drive.geometries, zones.geometry.iloc[0])
    assert row["road_km"] == pytest.approx(shapely.length(clipped).sum() / 1000)


def test_shelters_too_close_to_a_hazard_source_are_flagged(li_drive):
    rules = load_hazard_rules()
    assert rules.for_type("fuel_station")["safety_distance_m"] == 30
    hazards = _hazards(type=["fuel_station", "gas_storage"], radius_m=[50.0, 100.0],
                       geometry=[shapely.Point(CENTRE), shapely.Point(9.60, 47.20)])
    zones = hazard_zones(hazards, crs=li_drive.crs)
    # 20 m and 60 m east of the fuel station; 900 m from the gas storage.
    x, y = li_drive.to_xy.transform(*CENTRE)
    gx, gy = li_drive.to_xy.transform(9.60, 47.20)
    lon, lat = li_drive.to_lonlat.transform([x + 20, x + 60, gx + 900], [y, y, gy])
    shelters = gpd.GeoDataFrame({"name": ["near", "ok", "gas"]},
                                geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    flagged = unsafe_shelters(shelters, zones)
    assert sorted(flagged["shelter"]) == [0, 2]
    near = flagged[flagged["shelter"] == 0].iloc[0]
    assert near["distance_m"] == pytest.approx(20.0, abs=0.1) and near["required_m"] == 30


@pytest.mark.parametrize("columns, message", [
    ({"type": ["fuel_station"], "radius_m": [-5.0]}, "radius_m"),
    ({"type": ["fuel_station"], "road_effect": ["melt"]}, "road_effect"),
    ({"type": ["flood_zone"], "slow_factor": [0.5]}, "slow_factor"),
    ({"name": ["no type"]}, "type"),
])
def test_bad_hazards(li_drive, columns, message):
    with pytest.raises(ValidationError, match=message):
        hazard_zones(_hazards(**columns), crs=li_drive.crs)


def test_hazards_in_any_crs_block_the_same_roads(li_drive):
    """A 150 m hazard given in Web Mercator, or zones built in another projected CRS, act on the
    network's roads in the network's CRS (they used to be queried in whatever CRS they came in
    and blocked nothing)."""
    hazard = _hazards(type=["fuel_station"], radius_m=[150.0])
    expected = _blocked_roads(road_barriers(li_drive, hazard_zones(hazard, crs=li_drive.crs)))
    mercator = hazard_zones(hazard.to_crs("EPSG:3857"), crs=li_drive.crs)
    assert _blocked_roads(road_barriers(li_drive, mercator)) == expected
    # Zones buffered in another metric CRS (ETRS89 / LAEA Europe) reach the same roads.
    laea = hazard_zones(hazard, crs="EPSG:3035")
    assert _blocked_roads(road_barriers(li_drive, laea)) == expected
    assert len(expected) > 4
    drawn = gpd.GeoDataFrame(geometry=[shapely.Point(CENTRE).buffer(0.001)], crs="EPSG:4326")
    by_wgs84 = _blocked_roads(road_barriers(li_drive, extra=drawn))
    assert _blocked_roads(road_barriers(li_drive, extra=drawn.to_crs("EPSG:3857"))) == by_wgs84


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4490", None])
def test_metric_work_in_a_geographic_crs_is_refused(crs):
    with pytest.raises(ValidationError, match="crs: .* not a projected CRS"):
        hazard_zones(_hazards(type=["fuel_station"], radius_m=[150.0]), crs=crs)


def test_features_without_a_crs_are_refused_not_guessed(li_drive):
    bare = gpd.GeoDataFrame({"type": ["fuel_station"]}, geometry=[shapely.Point(CENTRE)])
    with pytest.raises(ValidationError, match="hazards: the features have no CRS"):
        hazard_zones(bare, crs=li_drive.crs)
    with pytest.raises(ValidationError, match="barriers: the features have no CRS"):
        road_barriers(li_drive, extra=gpd.GeoDataFrame(geometry=[shapely.Point(CENTRE)]))


def test_exposure_of_zones_in_another_crs_counts_the_same_roads(li_drive):
    hazard = _hazards(type=["fuel_station"], radius_m=[300.0])
    here = exposure(hazard_zones(hazard, crs=li_drive.crs), net=li_drive)
    there = exposure(hazard_zones(hazard, crs="EPSG:3035"), net=li_drive)
    assert here["road_km"].iloc[0] > 0.5
    assert there["road_km"].iloc[0] == pytest.approx(here["road_km"].iloc[0], rel=0.01)
