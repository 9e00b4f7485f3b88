"""The application layer's decisions: defaults, turnout, missing layers, and the answers it must
refuse rather than give wrong."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import services
from geo.analysis.coverage import coverage as coverage_of
from geo.analysis.service_areas import service_areas as service_areas_of
from geo.errors import SourceError, ValidationError
from geo.registry import Registry
from geo.services import Context, NetworkSource
from tests.conftest import LIECHTENSTEIN

ALL = ("shelters", "teams", "depots", "population", "hazards")
VADUZ = (9.5209, 47.1410)


def test_shelters_walk_to_and_teams_drive_from_with_turnout(make_context, li_walk, li_drive):
    ctx = make_context(li_drive, ALL)
    shelters = services.coverage(ctx, breaks_s=[600.0], hazards=False)
    people = ctx.layer("population")
    expected = coverage_of(li_walk, ctx.layer("shelters"), people, breaks=[600.0],
                           direction="to", capacity_column="capacity_people")
    assert shelters.summary["covered"].iloc[0] == expected.summary["covered"].iloc[0]
    teams = ctx.layer("teams")
    with_turnout = coverage_of(li_drive, teams, people, breaks=[300.0], direction="from",
                               extra_cost=teams["turnout_s"].to_numpy())
    without = coverage_of(li_drive, teams, people, breaks=[300.0], direction="from")
    driven = services.coverage(ctx, layer="teams", breaks_s=[300.0], hazards=False)
    # Coverage by teams counts their turnout, as their service areas do.
    assert driven.summary["covered"].iloc[0] == with_turnout.summary["covered"].iloc[0]
    assert with_turnout.summary["covered"].iloc[0] < without.summary["covered"].iloc[0]


def test_turnout_seconds_are_never_added_to_metres(make_context, li_drive):
    ctx = make_context(li_drive, ALL)
    result = services.service_areas(ctx, layer="teams", breaks_m=[1000.0], hazards=False)
    plain = service_areas_of(li_drive, ctx.layer("teams"), breaks=[1000.0], weight="length_m",
                             direction="from")
    np.testing.assert_allclose(result.areas["area_m2"], plain.areas["area_m2"])
    assert any("not added to breaks in metres" in n for n in result.notes)
    timed = services.service_areas(ctx, layer="teams", breaks_s=[300.0], hazards=False)
    late = service_areas_of(li_drive, ctx.layer("teams"), breaks=[300.0], direction="from",
                            extra_cost=ctx.layer("teams")["turnout_s"].to_numpy())
    np.testing.assert_allclose(timed.areas["area_m2"], late.areas["area_m2"])


def test_a_registry_without_hazards_depots_or_shelters_still_answers(make_context, li_drive):
    ctx = make_context(li_drive, ("teams", "population"))
    sent = services.dispatch(ctx, at=VADUZ, k=2, items={"water": 100})
    assert len(sent.teams.options) == 2
    assert sent.supplies["shortfall"] == {"water": 100.0} and sent.shelters == []
    notes = " | ".join(sent.notes)
    for absent in ("no hazards", "no depots", "no shelters"):
        assert absent in notes
    covered = services.coverage(ctx, breaks_s=[600.0])
    assert covered.summary["covered"].iloc[0] == 0 and covered.summary["total"].iloc[0] == 6000
    assert "the registry has no shelters" in covered.notes
    areas = services.service_areas(ctx, layer="teams", breaks_s=[300.0], overlap="overlap")
    assert len(areas.areas) == 12 and (areas.areas["population"] > 0).any()
    exposed = services.exposure(ctx)
    assert exposed.table.empty and "the registry has no hazards" in exposed.notes


def test_a_registry_of_another_place_is_refused_naming_both_extents(tmp_path, cache_dir):
    path = tmp_path / "helsinki.sqlite"
    with Registry(str(path)) as registry:
        registry.add_many("shelters", [
            {"id": f"S{i}", "shelter_class": "emergency", "capacity_people": 100,
             "geometry": shapely.Point(24.93 + i / 100, 60.17)} for i in range(3)])
    ctx = Context.open(db=str(path), source=NetworkSource(LIECHTENSTEIN, cache_dir=cache_dir))
    with pytest.raises(ValidationError) as error:
        services.coverage(ctx, breaks_s=[600.0])
    message = str(error.value)
    assert "longitude 24.9300..24.9500, latitude 60.1700..60.1700" in message
    assert "walk network of liechtenstein.osm.pbf covers longitude 9.4" in message
    ctx.close()


def test_a_missing_registry_is_an_error_not_a_demo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GEO_DB_URL", raising=False)
    with pytest.raises(SourceError, match="no registry at .*registry demo"):
        Context.open()
    assert not (tmp_path / "instance").exists()


def test_facilities_from_a_file_of_another_place_are_refused(make_context, li_walk):
    ctx = make_context(li_walk, ALL)
    helsinki = gpd.GeoDataFrame(geometry=[shapely.Point(24.94, 60.17)], crs="EPSG:4326")
    with pytest.raises(ValidationError, match="facilities: the features cover longitude 24"):
        services.service_areas(ctx, facilities=helsinki, breaks_s=[300.0])


def test_service_areas_and_coverage_count_the_same_people(make_context, li_walk):
    ctx = make_context(li_walk, ALL)
    breaks = [300.0, 600.0, 900.0]
    areas = services.service_areas(ctx, breaks_s=breaks, overlap="dissolve").areas
    covered = services.coverage(ctx, breaks_s=breaks).summary["covered"]
    np.testing.assert_allclose(areas.sort_values("to_break")["population"], covered)


def test_bad_choices_name_the_argument(make_context, li_walk):
    ctx = make_context(li_walk, ALL)
    with pytest.raises(ValidationError, match="layer: 'incidents' is not one of"):
        services.coverage(ctx, layer="incidents", breaks_s=[300.0])
    with pytest.raises(ValidationError, match="breaks_s / breaks_m"):
        services.coverage(ctx, breaks_s=[300.0], breaks_m=[100.0])
    with pytest.raises(ValidationError, match="mode: unknown mode 'bike'"):
        services.service_areas(ctx, breaks_s=[300.0], mode="bike")
    with pytest.raises(ValidationError, match="direction: 'up' is not one of"):
        services.service_areas(ctx, breaks_s=[300.0], direction="up")
