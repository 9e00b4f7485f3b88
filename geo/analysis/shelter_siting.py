"""Shelter siting on the road network: the models of :mod:`geo.analysis.siting` on walking
times from demand points to candidate sites, with hazards applied, unsafe candidates left out
with the reason, today's shelters kept open when asked, and a before/after table.

- Candidates inside an active hazard zone, or closer to any hazard source than its safety
  distance (``data/hazard_rules.yaml``), are excluded before the model is built; the result lists
  each with its reason.
- Kept shelters are fixed open sites: they count toward coverage and capacity, and ``p`` counts
  only the new sites.
- The before/after table compares today's open shelters with the solution's open sites (kept
  and new): demand covered within each break, demand-weighted mean and worst travel time to the
  nearest open site, and the people over capacity when everyone goes to their nearest one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import coverage
from geo.analysis.exposure import unsafe_shelters
from geo.analysis.milp import Progress
from geo.analysis.siting import (
    DEFAULT_TIME_LIMIT_S,
    SitingMatrix,
    SitingSolution,
    solve_siting,
)
from geo.core.crs import to_crs
from geo.core.jsonable import jsonable
from geo.core.vocabulary import SHELTER_OPEN
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.matrix import cost_matrix

BEFORE, AFTER = "before", "after"


@dataclass(frozen=True)
class SitingResult:
    """A solved siting model placed on the map.

    ``solution``: the model's answer (:class:`~geo.analysis.siting.SitingSolution`); ``sites``:
    every open site (kept and new, EPSG:4326) with ``new``, ``name``, ``load`` and
    ``capacity_people``; ``excluded``: candidates left out, with ``reason``; ``comparison``: the
    before/after table, one row per scenario and break."""

    solution: SitingSolution
    sites: gpd.GeoDataFrame
    excluded: pd.DataFrame
    comparison: pd.DataFrame
    unit: str = "s"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        solved = self.solution.to_dict()
        return {**solved, "unit": self.unit,
                "new_sites": jsonable(self._site_rows(new=True)),
                "kept_sites": jsonable(self._site_rows(new=False)),
                "excluded_candidates": jsonable(self.excluded.to_dict("records")),
                "before_after": jsonable(self.comparison.to_dict("records")),
                "notes": [*solved["notes"], *self.notes]}

    def _site_rows(self, *, new: bool) -> list[dict]:
        chosen = self.sites[self.sites["new"] == new]
        points = chosen.geometry
        return [{"id": i, "name": row["name"], "load": row["load"],
                 "capacity_people": row["capacity_people"], "lon": p.x, "lat": p.y}
                for (i, row), p in zip(chosen.iterrows(), points)]

    def features(self) -> gpd.GeoDataFrame:
        """The open sites (points, EPSG:4326, indexed by id: the GeoJSON features' ids) with
        ``id``, ``new``, ``name``, ``load`` and capacity."""
        frame = self.sites.copy()
        frame.insert(0, "id", frame.index)
        return frame


def site_shelters(net: RoadNetwork, demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *,
                  problem: str, p: int | None = None, cutoff_s: float | None = None,
                  capacitated: bool = False, existing: gpd.GeoDataFrame | None = None,
                  keep_existing: bool = False, zones: gpd.GeoDataFrame | None = None,
                  breaks_s: Sequence[float] | None = None, demand_column: str = "population",
                  time_limit_s: float = DEFAULT_TIME_LIMIT_S, effects=None,
                  progress: Progress | None = None) -> SitingResult:
    """Choose shelter sites among ``candidates`` for ``demand`` by walking time on ``net``.

    ``candidates`` and ``existing`` carry ``capacity_people`` (needed when ``capacitated``) and
    may carry ``name``; ``zones``: every hazard's zone (:func:`~geo.analysis.barriers.
    hazard_zones` with ``active_only=False``), used to exclude unsafe candidates; ``effects``:
    the road barriers of the active hazards, applied to the travel times. ``breaks_s`` for the
    before/after table (default: half, once and one and a half times the cutoff, or 5/10/15
    minutes)."""
    say = progress or (lambda message: None)
    if demand_column not in demand:
        raise ValidationError(f"demand: missing column {demand_column!r}")
    existing = _open_shelters(existing)
    candidates = _without_kept(candidates, existing if keep_existing else None, crs=net.crs)
    excluded = _unsafe(candidates, zones, crs=net.crs)
    usable = candidates.drop(index=excluded["candidate"])
    sites = pd.concat([existing, usable]) if keep_existing else usable
    kept = list(existing.index) if keep_existing else []
    if len(usable) == 0:
        raise ValidationError("candidates: none left to choose from"
                              + (f" ({len(excluded)} excluded as unsafe)" if len(excluded)
                                 else ""))
    say(f"travel times from {len(demand)} demand points to {len(sites)} sites")
    # bounded by the cutoff when there is one: no pair beyond it is ever used
    costs = cost_matrix(net, demand, sites, cutoff_s=cutoff_s, direction="from", effects=effects)
    matrix = SitingMatrix.from_cost_matrix(costs, demand[demand_column].to_numpy(dtype=float),
                                           weight_field=f"demand.{demand_column}")
    capacities = _capacities(sites) if capacitated else None
    solution = solve_siting(matrix, problem, p=p, cutoff=cutoff_s, capacities=capacities,
                            fixed=kept, time_limit_s=time_limit_s, unit=" s", progress=say)
    say("comparing before and after")
    chosen = sites.loc[[*solution.kept, *solution.sites]]
    breaks = _breaks(breaks_s, cutoff_s)
    comparison = pd.concat([
        _scenario(BEFORE, net, existing, demand, breaks, demand_column, effects),
        _scenario(AFTER, net, chosen, demand, breaks, demand_column, effects)],
        ignore_index=True)
    notes = _notes(existing, keep_existing)
    if not capacitated and _more_over_capacity(comparison):
        notes += ("more people are over capacity after: this model does not weigh capacities "
                  "(everyone counted at their nearest site); the capacitated form does",)
    return SitingResult(solution, _site_frame(chosen, solution), excluded, comparison,
                        notes=notes)


def _open_shelters(existing: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if existing is None or len(existing) == 0:
        return gpd.GeoDataFrame({"capacity_people": []}, geometry=gpd.GeoSeries([], crs=4326))
    if "status" in existing:
        existing = existing[existing["status"] == SHELTER_OPEN]
    return existing


def _without_kept(candidates: gpd.GeoDataFrame, kept: gpd.GeoDataFrame | None, *, crs: str):
    """Candidates that are kept shelters already (the same id, or a point inside a kept
    shelter's footprint, as an OSM school that is already a shelter) are not candidates
    twice."""
    if kept is None or len(kept) == 0 or len(candidates) == 0:
        return candidates
    same_id = candidates.index.isin(kept.index)
    shapes = candidates.geometry.to_crs(crs).to_numpy()
    kept_shapes = kept.geometry.to_crs(crs).to_numpy()
    inside = np.zeros(len(candidates), dtype=bool)
    # a candidate's point in a kept footprint, or a kept point in a candidate's footprint
    hit, _ = shapely.STRtree(kept_shapes).query(shapely.point_on_surface(shapes),
                                                predicate="intersects")
    inside[hit] = True
    _, hit = shapely.STRtree(shapely.point_on_surface(kept_shapes)).query(
        shapes, predicate="intersects")
    inside[hit] = True
    return candidates[~same_id & ~inside]


def _unsafe(candidates: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None, *,
            crs: str) -> pd.DataFrame:
    """One row per excluded candidate: inside an active hazard zone, or closer to a hazard
    source than its safety distance."""
    columns = ["candidate", "hazard", "reason"]
    if zones is None or len(zones) == 0 or len(candidates) == 0:
        return pd.DataFrame(columns=columns)
    zones = to_crs(zones, crs, field="zones")
    shapes = candidates.geometry.to_crs(crs).to_numpy()
    rows: dict = {}
    active = zones[zones["active"].astype(bool)] if "active" in zones else zones
    if len(active):
        zone, hit = shapely.STRtree(shapes).query(active.geometry.to_numpy(),
                                                  predicate="intersects")
        for z, c in zip(zone, hit):
            hazard = active.iloc[z]
            rows.setdefault(candidates.index[c], (hazard["hazard"],
                                                  f"inside the zone of hazard "
                                                  f"{hazard['hazard']} ({hazard['type']})"))
    close = unsafe_shelters(candidates.to_crs(crs), zones)
    for _, row in close.iterrows():
        rows.setdefault(row["shelter"], (row["hazard"],
                                         f"{row['distance_m']:.0f} m from hazard {row['hazard']} "
                                         f"({row['type']}), closer than its safety distance "
                                         f"{row['required_m']:.0f} m"))
    return pd.DataFrame([(c, h, r) for c, (h, r) in rows.items()], columns=columns)


def _capacities(sites: gpd.GeoDataFrame) -> np.ndarray:
    if "capacity_people" not in sites:
        raise ValidationError("candidates.capacity_people: a capacitated model needs each "
                              "site's capacity")
    values = pd.to_numeric(sites["capacity_people"], errors="coerce").to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    if missing.any():
        raise ValidationError(f"candidates.capacity_people: missing for "
                              f"{', '.join(map(repr, sites.index[missing][:5]))}; a "
                              "capacitated model needs each site's capacity")
    return values


def _breaks(breaks_s, cutoff_s) -> np.ndarray:
    if breaks_s is not None:
        return np.asarray(breaks_s, dtype=float)
    if cutoff_s is not None:
        return np.array([0.5, 1.0, 1.5]) * cutoff_s
    return np.array([300.0, 600.0, 900.0])


def _scenario(name: str, net: RoadNetwork, sites: gpd.GeoDataFrame, demand, breaks,
              demand_column: str, effects) -> pd.DataFrame:
    """Coverage within each break, weighted mean and worst time to the nearest open site, and
    the people over capacity (everyone at their nearest site) of one set of open sites."""
    weights = demand[demand_column].to_numpy(dtype=float)
    base = {"scenario": name, "sites": len(sites)}
    if len(sites) == 0:
        return pd.DataFrame([{**base, "break": b, "covered": 0.0, "percent_covered": 0.0,
                              "mean_time_s": np.nan, "worst_time_s": np.nan,
                              "unreachable": float(weights.sum()), "over_capacity": 0.0}
                             for b in breaks])
    capacity = "capacity_people" if "capacity_people" in sites else None
    result = coverage(net, sites, demand, breaks=breaks, direction="to",
                      demand_column=demand_column, capacity_column=capacity, bounded=False,
                      **({"effects": effects} if effects is not None else {}))
    cost = result.demand["cost"].to_numpy(dtype=float)
    reached = np.isfinite(cost) & (weights > 0)
    mean = float(np.average(cost[reached], weights=weights[reached])) if reached.any() \
        else np.nan
    worst = float(cost[reached].max()) if reached.any() else np.nan
    over = _over_capacity(result.demand, weights, sites, capacity)
    return pd.DataFrame([{**base, "break": row["break"], "covered": row["covered"],
                          "percent_covered": row["percent_covered"], "mean_time_s": mean,
                          "worst_time_s": worst, "unreachable": float(weights[~reached].sum()),
                          "over_capacity": over}
                         for _, row in result.summary.iterrows()])


def _over_capacity(table, weights, sites, capacity: str | None) -> float:
    if capacity is None:
        return float("nan")
    load = pd.Series(weights, index=table.index).groupby(table["facility"].to_numpy()).sum()
    caps = pd.to_numeric(sites[capacity], errors="coerce")
    excess = (load.reindex(caps.index, fill_value=0.0) - caps).clip(lower=0)
    return float(excess.sum())


def _more_over_capacity(comparison: pd.DataFrame) -> bool:
    over = comparison.groupby("scenario")["over_capacity"].first()
    return bool(over.get(AFTER, 0.0) > over.get(BEFORE, 0.0))


def _site_frame(chosen: gpd.GeoDataFrame, solution: SitingSolution) -> gpd.GeoDataFrame:
    loads = solution.loads.set_index("site")["load"]
    points = shapely.point_on_surface(chosen.geometry.to_crs("EPSG:4326").to_numpy())
    names = chosen["name"] if "name" in chosen else pd.Series("", index=chosen.index)
    capacity = (chosen["capacity_people"] if "capacity_people" in chosen
                else pd.Series(np.nan, index=chosen.index))
    return gpd.GeoDataFrame({"new": ~chosen.index.isin(solution.kept),
                             "name": names.fillna("").astype(str).to_numpy(),
                             "load": loads.reindex(chosen.index, fill_value=0.0).to_numpy(),
                             "capacity_people": pd.to_numeric(capacity, errors="coerce")
                             .to_numpy(dtype=float)},
                            geometry=points, index=chosen.index, crs="EPSG:4326")


def _notes(existing: gpd.GeoDataFrame, keep_existing: bool) -> tuple[str, ...]:
    notes = ["before/after: times are to the nearest open site, loads with everyone at their "
             "nearest one"]
    if keep_existing:
        notes.append(f"{len(existing)} open shelters kept: 'after' is them plus the new sites")
    else:
        notes.append("today's shelters not kept: 'after' is the chosen sites alone")
    return tuple(notes)
