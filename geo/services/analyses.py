"""One function per analysis (dispatch has its own module, :mod:`geo.services.dispatch`), called
by the command line and the web alike.

Every decision about defaults is written here, once:
- shelters are reached on foot (the walk network) by people coming *to* them; teams and depots
  drive *from* where they are, and a team's turnout time is added to its travel time (time only:
  never to breaks in metres);
- the registry's active hazards are applied unless asked not to, and ad-hoc barriers add to them;
- a layer the registry lacks is normal: the analysis runs and its notes say what was absent;
- every output of a demo registry says so in its notes.

Points are lon/lat (GeoJSON order) at this edge; breaks carry their unit in the argument name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from geo.analysis.barriers import hazard_zones
from geo.analysis.coverage import CoverageResult
from geo.analysis.coverage import coverage as coverage_of
from geo.analysis.exposure import ExposureResult, unsafe_shelters
from geo.analysis.exposure import exposure as exposure_of
from geo.analysis.service_areas import DIRECTIONS, ServiceAreaResult
from geo.analysis.service_areas import service_areas as service_areas_of
from geo.core.validate import check_choice
from geo.errors import ValidationError
from geo.network.build import check_mode
from geo.network.model import RoadNetwork
from geo.services.common import (
    FACILITY_DEFAULTS,
    as_of_one_moment,
    check_same_place,
    demo_notes,
    registry_layer,
    road_effects,
)
from geo.services.context import Context


@dataclass(frozen=True)
class _Plan:
    """The inputs of a facility analysis once every default is decided."""

    net: RoadNetwork
    facilities: gpd.GeoDataFrame
    direction: str
    breaks: np.ndarray
    weight: str
    extra_cost: np.ndarray | None
    barriers: dict  # blocked / cost_scale for the analysis, None where nothing changes
    notes: tuple[str, ...]


@as_of_one_moment
def service_areas(ctx: Context, *, layer: str = "shelters",
                  facilities: gpd.GeoDataFrame | None = None,
                  breaks_s: Sequence[float] | None = None,
                  breaks_m: Sequence[float] | None = None, mode: str | None = None,
                  direction: str | None = None, shape: str = "disks", overlap: str = "dissolve",
                  form: str = "band", buffer_m: float | None = None, fill_m: float | None = None,
                  hazards: bool = True,
                  barriers: gpd.GeoDataFrame | None = None) -> ServiceAreaResult:
    """Service areas of the ``layer`` facilities of the registry (or of ``facilities``, treated
    as that kind of facility), with the population each area reaches by network cost. By default
    one area per break for all facilities together, from one search (``overlap="overlap"``
    gives one per facility, one search each)."""
    plan = _plan(ctx, layer=layer, facilities=facilities, breaks_s=breaks_s, breaks_m=breaks_m,
                 mode=mode, direction=direction, hazards=hazards, barriers=barriers)
    notes = list(plan.notes)
    population = registry_layer(ctx, "population", notes)
    result = service_areas_of(plan.net, plan.facilities, breaks=plan.breaks, weight=plan.weight,
                              direction=plan.direction, extra_cost=plan.extra_cost,
                              shape=shape, overlap=overlap, form=form, buffer_m=buffer_m,
                              fill_m=fill_m, population=population,
                              **plan.barriers)
    if len(result.unreachable):
        notes.append(f"{len(result.unreachable)} of {len(plan.facilities)} facilities are off "
                     "the network and have no area (see unreachable_facilities)")
    return dataclasses.replace(result, notes=tuple(notes))


@as_of_one_moment
def coverage(ctx: Context, *, layer: str = "shelters",
             facilities: gpd.GeoDataFrame | None = None,
             demand: gpd.GeoDataFrame | None = None, demand_column: str = "population",
             breaks_s: Sequence[float] | None = None, breaks_m: Sequence[float] | None = None,
             mode: str | None = None, direction: str | None = None, hazards: bool = True,
             barriers: gpd.GeoDataFrame | None = None) -> CoverageResult:
    """Coverage of ``demand`` (default: the registry's population) by the ``layer`` facilities
    within each break, with the same defaults as :func:`service_areas` (turnout included)."""
    plan = _plan(ctx, layer=layer, facilities=facilities, breaks_s=breaks_s, breaks_m=breaks_m,
                 mode=mode, direction=direction, hazards=hazards, barriers=barriers)
    notes = list(plan.notes)
    if demand is None:
        demand = registry_layer(ctx, "population", notes)
    else:
        check_same_place(ctx, plan.net, demand, field="demand")
    capacity = "capacity_people" if "capacity_people" in plan.facilities else None
    result = coverage_of(plan.net, plan.facilities, demand, breaks=plan.breaks,
                         weight=plan.weight, direction=plan.direction,
                         demand_column=demand_column, capacity_column=capacity,
                         extra_cost=plan.extra_cost, **plan.barriers)
    return dataclasses.replace(result, notes=tuple(notes))


@as_of_one_moment
def exposure(ctx: Context, *, mode: str = "drive") -> ExposureResult:
    """Per hazard (active or not: safety distances concern every source), the population,
    shelters, depots and teams inside its zone and the length of ``mode`` roads there, and the
    shelters closer to a hazard source than its safety distance."""
    notes = demo_notes(ctx)
    net = ctx.network(check_mode(mode))
    hazards = ctx.layer("hazards")
    if len(hazards) == 0:
        notes.append("the registry has no hazards")
    zones = hazard_zones(hazards, crs=net.crs, rules=ctx.rules, active_only=False)
    layers = {name: registry_layer(ctx, name, notes) for name in ("shelters", "depots", "teams")}
    population = registry_layer(ctx, "population", notes)
    table = exposure_of(zones, layers=layers, population=population if len(population) else None,
                        net=net)
    unsafe = unsafe_shelters(layers["shelters"], zones)
    return ExposureResult(zones, table, unsafe, tuple(notes))


# ---- deciding the defaults ----------------------------------------------------------------


def _plan(ctx: Context, *, layer, facilities, breaks_s, breaks_m, mode, direction, hazards,
          barriers) -> _Plan:
    check_choice("layer", layer, tuple(FACILITY_DEFAULTS))
    defaults = FACILITY_DEFAULTS[layer]
    direction = direction or defaults.direction
    check_choice("direction", direction, DIRECTIONS)
    breaks, weight = _breaks(breaks_s, breaks_m)
    notes = demo_notes(ctx)
    net = ctx.network(check_mode(mode or defaults.mode))
    if facilities is None:
        facilities = registry_layer(ctx, layer, notes)
    else:
        check_same_place(ctx, net, facilities, field="facilities")
    extra_cost = _turnout(facilities, direction=direction, weight=weight, notes=notes)
    chosen = road_effects(ctx, net, hazards=hazards, extra=barriers, notes=notes)
    return _Plan(net, facilities, direction, breaks, weight, extra_cost, chosen, tuple(notes))


def _breaks(breaks_s, breaks_m) -> tuple[np.ndarray, str]:
    if (breaks_s is None) == (breaks_m is None):
        raise ValidationError("breaks_s / breaks_m: give the breaks in seconds or in metres "
                              "(one of the two)")
    if breaks_s is not None:
        return np.asarray(breaks_s, dtype=float), "travel_time_s"
    return np.asarray(breaks_m, dtype=float), "length_m"


def _turnout(facilities, *, direction: str, weight: str, notes: list[str]) -> np.ndarray | None:
    """Turnout time of facilities going out; time is only ever added to time."""
    if direction != "from" or "turnout_s" not in facilities or len(facilities) == 0:
        return None
    if weight != "travel_time_s":
        notes.append("turnout times are not added to breaks in metres")
        return None
    turnout = facilities["turnout_s"].to_numpy(dtype=float)
    if not (np.isfinite(turnout).all() and (turnout >= 0).all()):
        raise ValidationError("facilities.turnout_s: expected non-negative seconds for every "
                              "facility")
    return turnout
