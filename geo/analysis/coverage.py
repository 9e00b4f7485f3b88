"""Coverage: which demand reaches its nearest facility within each break, and which cannot.

Demand (population points or polygons, or any weighted features) is snapped once and assigned to
its nearest facility by network cost in one multi-source pass. Demand that cannot be reached at
all is counted apart, with the reason: off the network (too far from a road), on a road cut off
from the network, or cut off by hazards.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.service_areas import DIRECTIONS
from geo.core.jsonable import jsonable
from geo.core.validate import check_breaks, check_choice, lonlat_points, per_point_costs
from geo.core.vocabulary import CUT_OFF, ISLAND, OFF_NETWORK
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.search import cost_to_points, edge_costs, search_from_points
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, snap_points


@dataclass(frozen=True)
class CoverageResult:
    """``demand``: the input rows plus ``cost`` (to the nearest facility; NaN if unreachable),
    ``facility`` (its index; None if unreachable), ``snap_m`` and ``reason``.
    ``summary``: per break, total / covered / uncovered / unreachable demand and percent covered.
    ``facilities``: per facility and break, the demand assigned within the break, the capacity
    and whether it is exceeded."""

    breaks: np.ndarray
    demand: gpd.GeoDataFrame
    summary: pd.DataFrame
    facilities: pd.DataFrame
    unit: str = "s"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        unreachable = self.unreachable()
        return {"unit": self.unit, "summary": jsonable(self.summary.to_dict("records")),
                "unreachable_by_reason": jsonable(unreachable["reason"].value_counts().to_dict()),
                "facilities": jsonable(self.facilities.to_dict("records")),
                "notes": list(self.notes)}

    def features(self) -> gpd.GeoDataFrame:
        """Every demand feature (EPSG:4326) with its ``cost``, ``facility``, ``snap_m`` and
        ``reason``; :meth:`uncovered` and :meth:`unreachable` select from it."""
        return self.demand.to_crs("EPSG:4326")

    def uncovered(self, within: float | None = None) -> gpd.GeoDataFrame:
        """Reachable demand not covered within ``within`` (default: the largest break)."""
        limit = self.breaks[-1] if within is None else within
        reachable = self.demand["reason"] == ""
        return self.demand[reachable & ~(self.demand["cost"] <= limit)]

    def unreachable(self) -> gpd.GeoDataFrame:
        return self.demand[self.demand["reason"] != ""]


def coverage(net: RoadNetwork, facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *, breaks,
             weight: str = "travel_time_s", direction: str = "to",
             demand_column: str = "population", capacity_column: str | None = None,
             extra_cost=None, blocked=None, cost_scale=None, effects=None,
             max_snap_m: float = DEFAULT_MAX_SNAP_M, bounded: bool = True) -> CoverageResult:
    """Coverage of ``demand`` by ``facilities`` within each break (seconds or metres, by
    ``weight``).

    ``direction="to"``: people travelling to the facility (shelters); ``"from"``: the facility
    travelling out (teams, depots). ``extra_cost``: one value per facility added to everything
    it reaches (a team's turnout time), in the unit of the weight. ``bounded=False`` searches
    the whole network, so that ``cost`` is known beyond the largest break too (mean and worst
    travel times).
    """
    breaks = check_breaks(breaks)
    check_choice("direction", direction, DIRECTIONS)
    if demand_column not in demand:
        raise ValidationError(f"demand: missing column {demand_column!r}")
    weights = demand[demand_column].to_numpy(dtype=float)
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise ValidationError(f"demand.{demand_column}: expected finite, non-negative numbers")
    ids, lon, lat = lonlat_points(facilities)
    sources = snap_points(net, lon, lat, max_snap_m=max_snap_m)
    costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale,
                       effects=effects)
    # Unbounded only when barriers may cut demand off: then "not reached" must mean "cannot".
    cutoff = None if costs.closes_any or not bounded else breaks[-1]
    search = search_from_points(net, sources, costs=costs, reverse=direction == "to",
                                cutoff=cutoff,
                                start_cost=per_point_costs("extra_cost", extra_cost, len(ids)))
    _, demand_lon, demand_lat = lonlat_points(demand)
    targets = snap_points(net, demand_lon, demand_lat, max_snap_m=max_snap_m)
    cost, label = cost_to_points(net, search, targets)
    reason = np.where(targets.status == "far", OFF_NETWORK,
                      np.where(targets.status == "island", ISLAND, ""))
    if costs.closes_any:
        reason = np.where((reason == "") & np.isinf(cost), CUT_OFF, reason)
    table = demand.copy()
    table["cost"] = np.where(np.isfinite(cost), cost, np.nan)
    table["facility"] = [ids[i] if i >= 0 else None for i in label]
    table["snap_m"] = targets.snap_m
    table["reason"] = reason
    summary = _summary(breaks, weights, cost, reason)
    per_facility = _per_facility(breaks, weights, cost, label, ids, facilities, capacity_column)
    return CoverageResult(breaks, table, summary, per_facility,
                          unit="s" if weight == "travel_time_s" else "m")


def _summary(breaks, weights, cost, reason) -> pd.DataFrame:
    reachable = reason == ""
    rows = []
    for b in breaks:
        covered = weights[reachable & (cost <= b)].sum()
        unreachable = weights[~reachable].sum()
        total = weights.sum()
        rows.append({"break": b, "total": total, "covered": covered,
                     "uncovered": total - covered - unreachable, "unreachable": unreachable,
                     "percent_covered": 100.0 * covered / total if total else 0.0})
    return pd.DataFrame(rows)


def _per_facility(breaks, weights, cost, label, ids, facilities, capacity_column) -> pd.DataFrame:
    capacity = np.full(len(ids), np.nan)
    if capacity_column is not None:
        if capacity_column not in facilities:
            raise ValidationError(f"facilities: missing column {capacity_column!r}")
        capacity = facilities[capacity_column].to_numpy(dtype=float)
    rows = []
    for b in breaks:
        within = (label >= 0) & (cost <= b)
        assigned = np.bincount(label[within], weights=weights[within], minlength=len(ids))
        for i, facility in enumerate(ids):
            rows.append({"facility": facility, "break": b, "assigned": assigned[i],
                         "capacity": capacity[i],
                         "over_capacity": bool(assigned[i] > capacity[i])})
    return pd.DataFrame(rows)
