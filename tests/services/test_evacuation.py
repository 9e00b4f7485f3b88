"""Evacuation through the application layer: which hazards are evacuated, which others are
barriers, what a typo or an empty registry gets, and the demo registry's flood band."""

import shutil

import numpy as np
import pytest
import shapely

from geo import services
from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.evacuation import evacuation as evacuation_of
from geo.errors import ValidationError
from geo.registry import Registry
from geo.services import Context, NetworkSource
from tests.conftest import LIECHTENSTEIN

VADUZ = (9.5209, 47.1410)
SCHAAN = (9.5095, 47.1650)


def _near(net, centre, radius_m, n, rng) -> list[shapely.Point]:
    """``n`` lon/lat points on roads within ``radius_m`` of ``centre``."""
    middle = shapely.Point(net.to_xy.transform(*centre))
    disk = middle.buffer(radius_m)
    roads = net.geometries[net.edge_index.query(disk, predicate="intersects")]
    pieces = [p for p in shapely.get_parts(shapely.intersection(roads, disk))
              if p.geom_type == "LineString"]
    chosen = np.asarray(pieces, dtype=object)[rng.integers(0, len(pieces), n)]
    at = shapely.get_coordinates(shapely.line_interpolate_point(chosen, rng.uniform(0, 1, n),
                                                                normalized=True))
    lon, lat = net.to_lonlat.transform(at[:, 0], at[:, 1])
    return [shapely.Point(x, y) for x, y in zip(lon, lat)]


@pytest.fixture
def open_registry(tmp_path, cache_dir, li_walk):
    """``open_registry(hazards)`` → a Context on a registry with people and shelters around
    Vaduz and Schaan and the given hazard records."""
    opened = []

    def make(hazards, *, name="registry.sqlite"):
        rng = np.random.default_rng(6)
        path = tmp_path / name
        with Registry(str(path)) as registry:
            people = _near(li_walk, VADUZ, 300, 25, rng) + _near(li_walk, SCHAAN, 300, 25, rng)
            registry.add_many("population", [
                {"id": f"P{i}", "population": float(rng.integers(1, 30)), "geometry": point}
                for i, point in enumerate(people)])
            shelters = _near(li_walk, VADUZ, 1500, 8, rng)
            registry.add_many("shelters", [
                {"id": f"S{i}", "name": f"避难所 {i}", "shelter_class": "emergency",
                 "capacity_people": 120, "occupancy": 10 * i, "status": "open",
                 "geometry": point} for i, point in enumerate(shelters)])
            if hazards:
                registry.add_many("hazards", hazards)
        ctx = Context.open(db=str(path), source=NetworkSource(LIECHTENSTEIN,
                                                              cache_dir=cache_dir))
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()


def _hazard(hazard_id, kind, centre, radius_m, *, active=True):
    return {"id": hazard_id, "type": kind, "radius_m": radius_m, "active": active,
            "geometry": shapely.Point(centre)}


HAZARDS = [_hazard("H1", "fire", VADUZ, 300.0), _hazard("H2", "fire", SCHAAN, 300.0),
           {**_hazard("H3", "flood_zone", (9.49, 47.12), 200.0, active=False), "risk_level": 3}]


def _direct(ctx, evacuated, *, barrier_ids=()):
    """The analysis called with the inputs the service should decide on."""
    net = ctx.network("walk")
    zones = hazard_zones(ctx.layer("hazards"), crs=net.crs, active_only=False)
    barriers = road_barriers(net, zones[zones["hazard"].isin(barrier_ids).to_numpy()])
    return evacuation_of(net, zones[zones["hazard"].isin(evacuated).to_numpy()],
                         ctx.layer("population"), ctx.layer("shelters"), unsafe_zones=zones,
                         effects=barriers.effects if len(barriers.effects) else None)


def test_every_active_hazard_by_default(open_registry):
    ctx = open_registry(HAZARDS)
    result = services.evacuate(ctx)
    assert result.hazards == ("H1", "H2")
    expected = _direct(ctx, ["H1", "H2"])
    assert result.placed == expected.placed > 0
    assert result.total_person_s == pytest.approx(expected.total_person_s)
    assert result.population_inside == pytest.approx(
        ctx.layer("population")["population"].sum())  # all 50 points are in H1 or H2
    assert not any("planning scenario" in note for note in result.notes)


def test_other_active_hazards_are_barriers_and_inactive_ones_a_scenario(open_registry):
    ctx = open_registry(HAZARDS)
    only_vaduz = services.evacuate(ctx, hazards=["H1"])
    expected = _direct(ctx, ["H1"], barrier_ids=["H2"])
    assert only_vaduz.hazards == ("H1",)
    assert only_vaduz.total_person_s == pytest.approx(expected.total_person_s)
    assert "other active hazards block or slow the roads: H2" in only_vaduz.notes
    scenario = services.evacuate(ctx, hazards="H3")
    assert scenario.hazards == ("H3",)
    assert "not active, evacuated as a planning scenario: H3" in scenario.notes
    assert scenario.population_inside == 0 and scenario.placed == 0  # nobody lives there
    assert any("nobody lives inside" in note for note in scenario.notes)


@pytest.mark.parametrize("hazards, message", [
    (["H1", "h-1"], r"hazards: 'h-1' is not a hazard of the registry \(did you mean H1\?\) "
                    r"\(the registry has 3 hazards\)"),
    (["Hx", "fire"], r"hazards: 'Hx' is not a hazard of the registry.*; 'fire' is not a hazard"),
])
def test_an_unknown_hazard_id_is_an_error_naming_the_field(open_registry, hazards, message):
    ctx = open_registry(HAZARDS)
    with pytest.raises(ValidationError, match=message):
        services.evacuate(ctx, hazards=hazards)


def test_no_hazard_to_evacuate_is_an_error_saying_what_to_do(open_registry):
    none_active = open_registry([{**h, "active": False} for h in HAZARDS], name="calm.sqlite")
    with pytest.raises(ValidationError,
                       match=r"hazards: none of the registry's 3 hazards is active; name the "
                             r"hazards to evacuate \(as a planning scenario\), e\.g\. H3, H1, H2$"):
        services.evacuate(none_active)
    empty = open_registry([], name="empty.sqlite")
    with pytest.raises(ValidationError, match="hazards: the registry has no hazards"):
        services.evacuate(empty)
    with pytest.raises(ValidationError, match="mode"):
        services.evacuate(open_registry(HAZARDS, name="modes.sqlite"), mode="fly")


def test_the_demo_flood_band(demo_file, tmp_path, cache_dir):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, path)
    with Context.open(db=str(path), source=NetworkSource(LIECHTENSTEIN,
                                                         cache_dir=cache_dir)) as ctx:
        result = services.evacuate(ctx, hazards=["H-flood-rhine"])
        exposed = services.exposure(ctx, mode="walk").table.set_index("hazard")
        notes = " | ".join(result.notes)
    assert "demo registry" in notes and "planning scenario: H-flood-rhine" in notes
    assert result.population_inside == pytest.approx(exposed.loc["H-flood-rhine",
                                                                 "population"])
    assert result.placed > 0.9 * result.population_inside
    assert result.placed + result.unplaced == pytest.approx(result.population_inside)
    # No shelter in the flood band is used; they are listed as excluded.
    in_band = set(exposed.loc["H-flood-rhine", "shelters_ids"])
    assert in_band and in_band.isdisjoint(result.flows["shelter"])
    excluded = result.excluded_shelters.set_index("shelter")
    assert (excluded.loc[sorted(in_band), "reason"] == "inside_hazard_zone").all()
