"""Shelter siting for the command line and the web: every default decided here, once.

- People walk to shelters (the walk network); the cutoff defaults to the walking minutes of the
  shelter class (``emergency``: 10 minutes, ``data/shelter_standards.yaml``).
- Demand is the registry's population unless other weighted points are given.
- Candidates come from the extract's own OSM features (``"osm"``: schools, halls, grounds,
  parks, squares ...), a registry layer, or features given by the caller. Their capacity is
  ``capacity_people`` where given, else their effective area over the per-capita area of their
  shelter class.
- The registry's active hazards slow or block the roads, and every hazard's zone and safety
  distance excludes the candidates too close to it (unless ``hazards=False``).
- Today's open shelters are the "before" of the comparison and, with ``keep_existing``, stay open
  in the solution.

A cost matrix from another tool is solved by :func:`site_matrix` with the same models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.barriers import hazard_zones
from geo.analysis.shelter_siting import SitingResult, site_shelters
from geo.analysis.siting import (
    DEFAULT_TIME_LIMIT_S,
    NEEDS_CUTOFF,
    PROBLEMS,
    SitingMatrix,
    SitingSolution,
    check_p,
    solve_siting,
)
from geo.core.standards import ShelterStandards, load_standards
from geo.core.validate import check_choice
from geo.errors import ValidationError
from geo.io.shelter_sites import osm_candidate_sites
from geo.network.build import check_mode
from geo.network.cache import default_cache_dir
from geo.services.common import as_of_one_moment, check_same_place, demo_notes, road_effects
from geo.services.context import Context

# check_p and NEEDS_CUTOFF: for the command line and the web to check a request early
__all__ = ["CANDIDATE_LAYERS", "NEEDS_CUTOFF", "OSM_CANDIDATES", "check_p", "site", "site_matrix"]

OSM_CANDIDATES = "osm"
CANDIDATE_LAYERS = ("shelters", "depots")
DEFAULT_SHELTER_CLASS = "emergency"


@as_of_one_moment
def site(ctx: Context, *, problem: str, p: int | None = None, minutes: float | None = None,
         capacitated: bool = False, keep_existing: bool = False,
         candidates: str | gpd.GeoDataFrame = OSM_CANDIDATES, shelter_class: str | None = None,
         demand: gpd.GeoDataFrame | None = None, demand_column: str = "population",
         time_limit_s: float = DEFAULT_TIME_LIMIT_S, mode: str = "walk", hazards: bool = True,
         barriers: gpd.GeoDataFrame | None = None,
         progress: Callable[[str], None] | None = None) -> SitingResult:
    """Choose shelter sites (``problem`` one of lscp, mclp, pmedian, pcenter; ``p`` new sites)
    for the population by walking time within ``minutes``; see the module notes."""
    check_choice("problem", problem, PROBLEMS)
    standards = _standards(ctx)
    cutoff_s = _cutoff_s(problem, minutes, standards, shelter_class)
    notes = demo_notes(ctx)
    net = ctx.network(check_mode(mode))
    demand = _demand(ctx, net, demand, demand_column)
    sites = _candidates(ctx, net, candidates, standards=standards, shelter_class=shelter_class)
    chosen = road_effects(ctx, net, hazards=hazards, extra=barriers, notes=notes)
    zones = (hazard_zones(ctx.layer("hazards"), crs=net.crs, rules=ctx.rules, active_only=False)
             if hazards else None)
    existing = _with_capacity(ctx.layer("shelters"), standards, shelter_class=None)
    result = site_shelters(net, demand, sites, problem=problem, p=p, cutoff_s=cutoff_s,
                           capacitated=capacitated, existing=existing,
                           keep_existing=keep_existing, zones=zones,
                           demand_column=demand_column, time_limit_s=time_limit_s,
                           effects=chosen.get("effects"), progress=progress)
    if len(existing) == 0:
        notes.append("the registry has no shelters: 'before' has none")
    return dataclasses.replace(result, notes=(*notes, *result.notes))


def site_matrix(*, problem: str, costs: pd.DataFrame, weights, p: int | None = None,
                cutoff: float | None = None, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
                progress: Callable[[str], None] | None = None) -> SitingSolution:
    """The same models on a cost matrix from another tool (rows: demand ids, columns: candidate
    ids; ``inf`` unreachable), ``cutoff`` in the matrix's own units; sites are named by the
    matrix's column names."""
    check_choice("problem", problem, PROBLEMS)
    matrix = SitingMatrix.from_dense(costs.to_numpy(dtype=float), weights,
                                     demand_ids=list(costs.index),
                                     candidate_ids=list(costs.columns),
                                     fields=("cost_matrix", "weights"))
    return solve_siting(matrix, problem, p=p, cutoff=cutoff, time_limit_s=time_limit_s,
                        progress=progress)


def _standards(ctx: Context) -> ShelterStandards:
    return ctx.registry.standards if ctx.registry is not None else load_standards()


def _cutoff_s(problem: str, minutes, standards: ShelterStandards,
              shelter_class: str | None) -> float | None:
    """The cutoff in seconds: ``minutes`` if given; for the covering models, else the walking
    minutes of the shelter class."""
    if minutes is None:
        if problem not in NEEDS_CUTOFF:
            return None
        minutes = standards.get(shelter_class or DEFAULT_SHELTER_CLASS).walk_minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) \
            or not np.isfinite(minutes) or minutes <= 0:
        raise ValidationError(f"minutes: expected a positive number of minutes, got {minutes!r}")
    return float(minutes) * 60.0


def _demand(ctx: Context, net, demand, demand_column: str) -> gpd.GeoDataFrame:
    if demand is None:
        demand = ctx.layer("population")
        if len(demand) == 0:
            raise ValidationError("demand: the registry has no population; import it, or give "
                                  "weighted demand points")
    else:
        check_same_place(ctx, net, demand, field="demand")
    if demand_column not in demand:
        raise ValidationError(f"demand_column: the demand points have no column "
                              f"{demand_column!r}")
    weights = pd.to_numeric(demand[demand_column], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise ValidationError(f"demand.{demand_column}: expected finite, non-negative numbers")
    if weights.sum() <= 0:
        raise ValidationError(f"demand.{demand_column}: the total demand is zero; there is "
                              "nobody to shelter")
    return demand


def _candidates(ctx: Context, net, candidates, *, standards: ShelterStandards,
                shelter_class: str | None) -> gpd.GeoDataFrame:
    if isinstance(candidates, gpd.GeoDataFrame):
        check_same_place(ctx, net, candidates, field="candidates")
        frame = candidates
    elif candidates == OSM_CANDIDATES:
        frame = ctx.cached(f"osm-candidates:{shelter_class}", lambda: osm_candidate_sites(
            ctx.source.osm_path, standards=standards, shelter_class=shelter_class,
            cache_dir=ctx.source.cache_dir or default_cache_dir()))
    else:
        check_choice("candidates", candidates, (OSM_CANDIDATES, *CANDIDATE_LAYERS))
        frame = ctx.layer(str(candidates))
    if len(frame) == 0:
        raise ValidationError("candidates: there are no candidate sites"
                              + (f" in the {candidates} layer" if isinstance(candidates, str)
                                 else ""))
    if frame.index.has_duplicates:
        raise ValidationError(f"candidates: duplicate ids: "
                              f"{', '.join(map(repr, frame.index[frame.index.duplicated()][:5]))}")
    return _with_capacity(frame, standards, shelter_class=shelter_class)


def _with_capacity(frame: gpd.GeoDataFrame, standards: ShelterStandards, *,
                   shelter_class: str | None) -> gpd.GeoDataFrame:
    """``capacity_people`` where given; else effective area ÷ per-capita area of the site's
    class (``shelter_class`` if given, else its own, else emergency); NaN if unknown."""
    if len(frame) == 0:
        return frame
    given = (pd.to_numeric(frame["capacity_people"], errors="coerce")
             if "capacity_people" in frame else pd.Series(np.nan, index=frame.index))
    if given.notna().all() or "effective_area_m2" not in frame:
        return frame.assign(capacity_people=given)
    area = pd.to_numeric(frame["effective_area_m2"], errors="coerce")
    own = (frame["shelter_class"] if "shelter_class" in frame
           else pd.Series(None, index=frame.index))
    classes = own.where(own.notna(), shelter_class or DEFAULT_SHELTER_CLASS) \
        if shelter_class is None else pd.Series(shelter_class, index=frame.index)
    # the standards' own rule (area ÷ per-capita area, rounded down) where the area is known
    derived = pd.Series([standards.capacity_people(a, str(c)) if np.isfinite(a) else np.nan
                         for a, c in zip(area, classes)], index=frame.index, dtype=float)
    return frame.assign(capacity_people=given.where(given.notna(), derived))


