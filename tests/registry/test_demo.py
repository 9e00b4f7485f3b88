"""The demo registry from the real Liechtenstein extract, and the population layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import Affine

from geo.analysis.coverage import coverage
from geo.analysis.dispatch import nearest_teams
from geo.core.standards import load_standards
from geo.errors import ValidationError
from geo.io.osm_features import read_features, tag
from geo.registry.demo import (
    DEMO_NOTE,
    FLOOD_BAND_M,
    REGISTRY_NOTE,
    build_demo,
    demo_layers,
    metric_crs,
)
from geo.registry.population import (
    DEFAULT_LEVELS,
    LIECHTENSTEIN_POPULATION,
    LIECHTENSTEIN_SOURCE,
    M2_PER_PERSON,
    population_from_buildings,
    population_from_polygons,
    population_from_raster,
    residential_buildings,
)
from geo.registry.registry import Registry
from tests.conftest import LIECHTENSTEIN, MONACO

UTM32N = "EPSG:32632"


@pytest.fixture(scope="module")
def features():
    return read_features(LIECHTENSTEIN)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "registry.sqlite"
    with Registry(str(path)) as registry:
        build_demo(registry)
        yield registry


def _by_osm_id(features):
    return features.set_index("osm_id")


def test_osm_features_are_read_with_real_geometries(features):
    assert metric_crs(features) == UTM32N
    assert set(features["kind"]) == {"point", "area", "line"}
    rhine = features[(tag(features, "name") == "Rhein") & (features["kind"] == "line")]
    assert rhine.to_crs(UTM32N).length.sum() > 20_000  # the Rhine along the border, > 20 km


def test_demo_layers_are_stored_and_counted(demo, features):
    counts = demo.counts()
    fuel = int((tag(features, "amenity") == "fuel").sum())
    industrial = int(((tag(features, "landuse") == "industrial")
                      & (features["kind"] == "area")).sum())
    assert counts["hazards"] == fuel + industrial + 1  # + the Rhine flood band
    assert counts["shelters"] > 50 and counts["teams"] >= 10 and counts["depots"] >= 4
    assert counts["inventory"] > 0 and counts["population"] > 5000
    assert demo.region.as_list() == pytest.approx(list(features.total_bounds))


def test_demo_registry_is_marked_with_its_source(demo):
    assert demo.demo == {"source": LIECHTENSTEIN.name, "note": (
        f"{REGISTRY_NOTE}; population: 39,000 people ({LIECHTENSTEIN_SOURCE}), spread over "
        f"residential floor area")}
    assert "invented" in demo.demo["note"] and "OpenStreetMap" in demo.demo["note"]
    assert demo.extent() == tuple(demo.region.as_list())
    entry = demo.audit_log(layer="meta", record_id="demo").iloc[0]
    assert entry["actor"] == "demo" and entry["new"] == demo.demo


def test_shelters_are_real_places_with_capacity_from_the_standards(demo, features):
    shelters = demo.layer("shelters")
    standards = load_standards()
    osm = _by_osm_id(features)
    footprints = osm.loc[shelters["source"].str.removeprefix("osm:")].to_crs(UTM32N).area
    assert (shelters["effective_area_m2"].to_numpy() <= footprints.to_numpy() + 0.1).all()
    per_capita = shelters["shelter_class"].map(lambda c: standards.get(c).per_capita_area_m2)
    assert (shelters["capacity_people"] == np.floor(
        shelters["effective_area_m2"] / per_capita)).all()
    assert {"Rheinparkstadion", "Mehrzweckhalle", "Rathaus Vaduz"} <= set(shelters["name"])
    assert set(shelters["shelter_class"]) >= {"emergency", "short_term", "medium_term"}
    assert shelters["notes"].str.startswith("demo:").all()
    # No ground is counted twice: a shelter inside another is a hall on open ground, and the
    # ground's effective area leaves the hall out.
    projected = shelters.to_crs(UTM32N).geometry.to_numpy()
    point, holder = shapely.STRtree(projected).query(shapely.point_on_surface(projected),
                                                     predicate="within")
    nested = point != holder
    assert (shelters["shelter_class"].iloc[point[nested]] == "short_term").all()
    assert (shelters["shelter_class"].iloc[holder[nested]] != "short_term").all()
    room = shapely.area(projected[holder[nested]]) - shapely.area(projected[point[nested]])
    assert (shelters["effective_area_m2"].iloc[holder[nested]].to_numpy() <= room).all()


def test_teams_sit_at_real_bases_with_demo_attributes(demo, features):
    teams = demo.layer("teams")
    osm = _by_osm_id(features)
    bases = osm.loc[teams["source"].str.removeprefix("osm:")]
    assert set(tag(bases, "amenity")) <= {"fire_station", "police", "hospital", "clinic",
                                          "townhall"}
    expected = bases.geometry.representative_point().to_numpy()
    assert shapely.equals(teams.geometry.to_numpy(), expected).all()
    assert teams.loc[tag(bases, "amenity").to_numpy() == "fire_station", "type"].isin(
        ["fire", "comprehensive", "water_rescue", "hazmat", "search_rescue"]).all()
    assert len(set(teams["type"])) >= 6 and len(set(teams["status"])) >= 3
    assert (teams["notes"] == DEMO_NOTE).all()
    assert "Feuerwehr Balzers" in set(teams["home_base"])


def test_hazards_from_fuel_stations_industry_and_the_rhine(demo, features):
    hazards = demo.layer("hazards")
    assert not hazards["active"].any()  # risk sources on the plan, not current events
    fuel = hazards[hazards["type"] == "fuel_station"]
    assert (fuel.geom_type == "Point").all() and (fuel["radius_m"] == 100).all()
    flood = hazards.loc["H-flood-rhine"]
    zone = gpd.GeoSeries([flood.geometry], crs=4326).to_crs(UTM32N).iloc[0]
    rhine = features[(tag(features, "name") == "Rhein") & (features["kind"] == "line")]
    rhine_m = rhine.to_crs(UTM32N).union_all()
    assert zone.contains(rhine_m.buffer(FLOOD_BAND_M - 10))  # the band around the river
    assert not zone.contains(rhine_m.buffer(FLOOD_BAND_M + 500))


def test_population_is_the_total_spread_by_residential_floor_area(demo, features):
    population = demo.layer("population")
    assert population["population"].sum() == pytest.approx(39_000)
    share = population["population"] / population["floor_area_m2"]
    assert np.allclose(share, share.iloc[0])  # people per m² of floor is the same everywhere
    homes = residential_buildings(features, metric_crs=UTM32N).set_index("osm_id")
    buildings = homes.loc[population["source"].str.removeprefix("osm:")].to_crs(4326)
    assert shapely.within(population.geometry.to_numpy(), buildings.geometry.to_numpy()).all()


def test_levels_tag_and_default_levels_set_the_floor_area(features):
    homes = residential_buildings(features, metric_crs=UTM32N)
    tagged = homes[homes["levels"].notna()]
    assert len(tagged) > 0
    people = population_from_buildings(homes, total_population=1000, default_levels=3)
    floor = people.set_index(homes.index)["floor_area_m2"]
    assert np.allclose(floor[tagged.index], tagged["footprint_m2"] * tagged["levels"])
    untagged = homes.index[homes["levels"].isna()]
    assert np.allclose(floor[untagged], homes.loc[untagged, "footprint_m2"] * 3)
    assert people["population"].sum() == pytest.approx(1000)
    with pytest.raises(ValidationError, match="total_population"):
        population_from_buildings(homes, total_population=-1)


def test_residential_proxy_leaves_out_shops_industry_and_sheds(features):
    homes = residential_buildings(features, metric_crs=UTM32N)
    buildings = homes["tags"].map(lambda t: t.get("building"))
    assert not buildings.isin(["industrial", "garage", "shed", "school", "warehouse"]).any()
    assert not homes["tags"].map(lambda t: "shop" in t or "amenity" in t).any()
    assert (homes.loc[buildings == "yes", "footprint_m2"] >= 30).all()


def test_demo_needs_an_empty_registry_unless_replacing(tmp_path):
    with Registry(str(tmp_path / "r.sqlite")) as registry:
        registry.add("teams", {"type": "fire", "headcount": 3,
                               "geometry": shapely.Point(9.52, 47.14)})
        with pytest.raises(ValidationError, match="not empty"):
            build_demo(registry)
        assert registry.demo is None  # the refused build marked nothing
        counts = build_demo(registry, replace=True, total_population=1000)
        assert counts["teams"] == len(registry.layer("teams")) >= 10
        assert registry.layer("population")["population"].sum() == pytest.approx(1000)


def test_demo_layers_feed_dispatch_and_coverage(demo, li_drive, li_walk):
    teams = demo.layer("teams")
    vaduz_townhall = demo.layer("shelters").loc["S-way-28712183"].geometry.representative_point()
    result = nearest_teams(li_drive, (vaduz_townhall.x, vaduz_townhall.y), teams, k=3,
                           types=["fire"])
    assert 1 <= len(result.options) <= 3
    assert all(teams.loc[o.id, "status"] == "available" for o in result.options)
    assert [o.eta_s for o in result.options] == sorted(o.eta_s for o in result.options)
    shelters = demo.layer("shelters")
    covered = coverage(li_walk, shelters, demo.layer("population"), breaks=[600, 1200])
    summary = covered.summary
    assert summary["total"].iloc[0] == pytest.approx(39_000)
    assert 0 < summary["covered"].iloc[0] <= summary["covered"].iloc[1] <= 39_000


def test_population_from_a_raster(tmp_path):
    path = tmp_path / "pop.tif"
    values = np.array([[10, 0, 5], [-9999, 20, 1]], dtype="float32")
    transform = Affine(100, 0, 757_000, 0, -100, 5_225_000)  # 100 m cells in UTM 32N
    with rasterio.open(path, "w", driver="GTiff", width=3, height=2, count=1, dtype="float32",
                       crs=UTM32N, transform=transform, nodata=-9999) as out:
        out.write(values, 1)
    people = population_from_raster(path)
    assert people["population"].tolist() == [10, 5, 20, 1]
    first = gpd.GeoSeries([people.geometry.iloc[0]], crs=4326).to_crs(UTM32N).iloc[0]
    assert (first.x, first.y) == pytest.approx((757_050, 5_224_950), abs=0.01)  # cell centre


def test_population_from_census_polygons(tmp_path):
    squares = gpd.GeoDataFrame({"population": [120, 30]},
                               geometry=[shapely.box(757_000, 5_224_000, 758_000, 5_225_000),
                                         shapely.box(758_000, 5_224_000, 759_000, 5_225_000)],
                               crs=UTM32N)
    path = tmp_path / "census.gpkg"
    squares.to_file(path)
    people = population_from_polygons(path)
    assert people["population"].tolist() == [120, 30]
    inside = people.to_crs(UTM32N).geometry.within(squares.geometry)
    assert inside.all()
    with pytest.raises(ValidationError, match="'residents' is not a column"):
        population_from_polygons(squares, column="residents")
    squares.loc[1, "population"] = -3
    with pytest.raises(ValidationError, match="rows 2 are missing, negative"):
        population_from_polygons(squares)


def test_demo_layers_are_deterministic(features):
    standards = load_standards()
    first = demo_layers(features, standards=standards, seed=0)
    again = demo_layers(features, standards=standards, seed=0)
    assert first["teams"].drop(columns="geometry").equals(again["teams"].drop(columns="geometry"))
    assert first["inventory"].equals(again["inventory"])


def test_demo_works_for_another_region_without_some_features(tmp_path):
    with Registry(str(tmp_path / "monaco.sqlite")) as registry:
        counts = build_demo(registry, osm_path=MONACO, total_population=38_350)
        assert counts["teams"] > 0 and counts["shelters"] > 0
        assert registry.demo["source"] == MONACO.name
        assert counts["depots"] == 0 and counts["inventory"] == 0  # no warehouses mapped there
        assert registry.layer("population")["population"].sum() == pytest.approx(38_350,
                                                                                rel=1e-12)
        assert registry.population_source == {
            "people": 38_350, "method": "given",
            "note": "38,350 people, the total given by the user, spread over residential floor "
                    "area"}
        assert not (registry.layer("hazards")["type"] == "flood_zone").any()  # no Rhine


def test_another_region_gets_its_own_estimate_not_liechtensteins(tmp_path):
    features = read_features(MONACO)
    homes = residential_buildings(features, metric_crs=metric_crs(features))
    levels = homes["levels"].fillna(DEFAULT_LEVELS)  # Monaco's extract has no building:levels
    expected = float((homes["footprint_m2"] * levels).sum()) / M2_PER_PERSON
    with Registry(str(tmp_path / "monaco.sqlite")) as registry:
        build_demo(registry, osm_path=MONACO)
        total = registry.layer("population")["population"].sum()
        source = registry.population_source
        note = registry.demo["note"]
    assert total == pytest.approx(expected, rel=1e-9)
    assert abs(total - LIECHTENSTEIN_POPULATION) > 1000
    assert 10_000 < total < 100_000  # Monaco has some 38,000 residents: the order is right
    assert source["method"] == "estimated" and source["people"] == pytest.approx(total)
    assert f"{total:,.0f} people estimated from" in source["note"]
    assert "40 m² per person, a planning assumption" in note  # what every output shows
    with pytest.raises(ValidationError, match="m2_per_person: expected a positive number"), \
            Registry(str(tmp_path / "other.sqlite")) as other:
        build_demo(other, osm_path=MONACO, m2_per_person=0)
