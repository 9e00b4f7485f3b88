"""Registries for the application-layer tests: real SQLite files, positions on real roads."""

import numpy as np
import pytest
import shapely

from geo.registry import Registry
from geo.services import Context, NetworkSource
from tests.analysis_inputs import points_along_roads
from tests.conftest import LIECHTENSTEIN


def fill(registry: Registry, net, *, layers, seed=3) -> None:
    """Put the chosen layers in ``registry``, at seeded points along ``net``'s roads."""
    lon, lat = points_along_roads(net, 800, np.random.default_rng(seed))
    point = iter(zip(lon, lat))
    if "shelters" in layers:
        registry.add_many("shelters", [
            {"id": f"S{i}", "name": f"避难所 {i}", "shelter_class": "emergency",
             "capacity_people": 300, "occupancy": 50 * (i % 3), "status": "open",
             "geometry": shapely.Point(next(point))} for i in range(6)])
    if "teams" in layers:
        registry.add_many("teams", [
            {"id": f"T{i}", "name": f"Team {i}", "type": ["fire", "medical"][i % 2],
             "headcount": 4 + i % 5, "turnout_s": 60 + 30 * (i % 4),
             "status": ["available", "available", "off_duty"][i % 3],
             "geometry": shapely.Point(next(point))} for i in range(12)])
    if "depots" in layers:
        registry.add_many("depots", [{"id": f"D{i}", "name": f"Depot {i}",
                                      "geometry": shapely.Point(next(point))} for i in range(3)])
        for i in range(3):
            registry.set_stock(f"D{i}", "water", 200.0)
    if "population" in layers:
        registry.add_many("population", [
            {"id": f"P{i}", "population": 10.0, "geometry": shapely.Point(next(point))}
            for i in range(600)])
    if "hazards" in layers:
        registry.add("hazards", {"id": "H1", "type": "fuel_station", "radius_m": 80.0,
                                 "geometry": shapely.Point(next(point))})


@pytest.fixture
def make_context(tmp_path, cache_dir):
    """``make_context(net, layers)`` → a Context on a new registry holding those layers."""
    opened = []

    def make(net, layers, *, name="registry.sqlite"):
        path = tmp_path / name
        with Registry(str(path)) as registry:
            fill(registry, net, layers=layers)
        ctx = Context.open(db=str(path), source=NetworkSource(LIECHTENSTEIN, cache_dir=cache_dir))
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()
