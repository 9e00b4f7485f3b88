"""Nearest-resource dispatch for an incident: teams by ETA, depots by supplies, shelters by room.

Teams: one search over the reverse graph from the incident (costs *to* the incident), bounded
and grown until the k best eligible teams are certain: a team not yet reached within bound L has
ETA > L + the smallest turnout among such teams, so once the k-th best known ETA is below that,
no unseen team can beat it. Never one search per team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np

from geo.core.validate import lonlat_points
from geo.errors import ValidationError
from geo.routing.paths import route_from_pieces, trace
from geo.routing.search import Search, cost_to_points, edge_costs, search_from_points
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, Snapped, check_lonlat, snap_points

AVAILABLE = "available"
# The first search bound guesses the k-th team's travel time from its straight-line distance
# at this speed, with this margin; a wrong guess costs another, larger search, never a wrong
# answer.
GUESS_SPEED_MPS = 50 / 3.6
GUESS_MARGIN = 2.5
MIN_BOUND_S = 60.0
OPEN = "open"


@dataclass(frozen=True)
class Option:
    """One resource offered for the incident, with its route (GeoJSON, lon/lat)."""

    id: object
    name: str
    eta_s: float
    travel_s: float
    distance_m: float
    snap_m: float
    route: dict | None
    details: Mapping = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": _plain(self.id), "name": self.name, "eta_s": self.eta_s,
                "travel_s": self.travel_s, "distance_m": self.distance_m, "snap_m": self.snap_m,
                **{k: _plain(v) for k, v in self.details.items()}, "route": self.route}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Unreachable:
    id: object
    name: str
    reason: str  # "off_network", "island" or "cut_off_by_hazard"
    snap_m: float

    def to_dict(self) -> dict:
        return {"id": _plain(self.id), "name": self.name, "reason": self.reason,
                "snap_m": self.snap_m}


@dataclass(frozen=True)
class TeamDispatch:
    incident_snap_m: float
    incident_status: str  # "ok", "far" or "island"
    options: list[Option]
    unreachable: list[Unreachable]
    eligible: int
    note: str

    def to_dict(self) -> dict:
        return {"incident_snap_m": self.incident_snap_m, "incident_status": self.incident_status,
                "eligible_teams": self.eligible, "note": self.note,
                "teams": [o.to_dict() for o in self.options],
                "unreachable_teams": [u.to_dict() for u in self.unreachable]}


def _check_k(k) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValidationError(f"k: expected a positive whole number, got {k!r}")
    return int(k)


def _snap_incident(net, incident, max_snap_m) -> Snapped:
    lat, lon = incident
    check_lonlat(net, lon, lat, field="incident", margin_m=max_snap_m)
    return snap_points(net, lon, lat, max_snap_m=max_snap_m)


def nearest_teams(net, incident: tuple[float, float], teams: gpd.GeoDataFrame, *, k: int = 5,
                  types: Sequence[str] | None = None, min_headcount: int = 0,
                  blocked=None, cost_scale=None,
                  max_snap_m: float = DEFAULT_MAX_SNAP_M) -> TeamDispatch:
    """The k available teams of the requested types with the smallest ETA to ``incident``
    (lat, lon): ETA = turnout time + network travel time from the team to the incident.

    ``teams`` (EPSG:4326, current positions) needs columns ``type``, ``status``, ``headcount``,
    ``turnout_s`` and optionally ``name``.
    """
    k = _check_k(k)
    _require_columns(teams, ("type", "status", "headcount", "turnout_s"), "teams")
    at = _snap_incident(net, incident, max_snap_m)
    # Work on arrays of the eligible rows: subsetting the GeoDataFrame cost more than the search.
    rows = np.flatnonzero(_eligible(teams, types, min_headcount))
    if not at.on_network[0]:
        return TeamDispatch(float(at.snap_m[0]), str(at.status[0]), [], [], len(rows),
                            _incident_note(at))
    all_ids, all_lon, all_lat = lonlat_points(teams)
    ids = [all_ids[r] for r in rows]
    snapped = snap_points(net, all_lon[rows], all_lat[rows], max_snap_m=max_snap_m)
    turnout = teams["turnout_s"].to_numpy(dtype=float)[rows]
    costs = edge_costs(net, blocked=blocked, cost_scale=cost_scale)
    search, travel = _grow_until_certain(net, at, snapped, turnout, costs, k)
    eta = turnout + travel
    ranked = np.argsort(eta, kind="stable")
    order = ranked[np.isfinite(eta[ranked])][:k]
    options = [_option(net, search, snapped, i, ids[i], teams.iloc[rows[i]], eta[i], costs)
               for i in order]
    cut_off = np.isinf(travel) & snapped.on_network if search.cutoff == np.inf else (
        _cut_off(net, at, snapped, costs))
    names = (teams["name"].to_numpy()[rows] if "name" in teams
             else np.asarray(ids, dtype=object))
    unreachable = _unreachable(snapped, cut_off, ids, names)
    note = _team_note(len(rows), len(options), k, types)
    return TeamDispatch(float(at.snap_m[0]), "ok", options, unreachable, len(rows), note)


def _require_columns(frame, columns, name):
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ValidationError(f"{name}: missing column(s) {', '.join(missing)}")


def _eligible(teams, types, min_headcount) -> np.ndarray:
    mask = np.array(teams["status"] == AVAILABLE, dtype=bool)
    if types:
        mask &= teams["type"].isin(list(types)).to_numpy()
    if min_headcount:
        mask &= (teams["headcount"].to_numpy(dtype=float) >= min_headcount)
    return mask


def _grow_until_certain(net, at, snapped, turnout, costs, k) -> tuple[Search, np.ndarray]:
    bound = _first_bound(at, snapped, k)
    while True:
        search = search_from_points(net, at, costs=costs, reverse=True, cutoff=bound)
        travel, _ = cost_to_points(net, search, snapped)
        known = np.isfinite(travel)
        unseen = snapped.on_network & ~known
        if bound == np.inf or not unseen.any():
            return search, travel
        eta = np.sort(turnout[known] + travel[known])
        if len(eta) >= k and eta[k - 1] <= bound + turnout[unseen].min():
            return search, travel
        # Past every finite edge cost sum the bound is useless: finish with an unbounded search.
        longest = np.where(np.isfinite(costs), costs, 0).sum()
        bound = np.inf if bound * 4 > longest else bound * 4


def _first_bound(at: Snapped, snapped: Snapped, k: int) -> float:
    """A travel-time bound likely to hold the k nearest teams (straight-line guess)."""
    on = snapped.on_network
    if not on.any():
        return MIN_BOUND_S
    straight = np.hypot(*(snapped.snapped_xy[on] - at.snapped_xy[0]).T)
    kth = np.partition(straight, min(k, len(straight)) - 1)[min(k, len(straight)) - 1]
    return max(MIN_BOUND_S, GUESS_MARGIN * kth / GUESS_SPEED_MPS)


def _cut_off(net, at, snapped, costs) -> np.ndarray:
    """Teams on the network that cannot reach the incident at all (only possible with barriers)."""
    if not np.isinf(costs).any():
        return np.zeros(len(snapped), dtype=bool)
    search = search_from_points(net, at, costs=costs, reverse=True)
    travel, _ = cost_to_points(net, search, snapped)
    return snapped.on_network & np.isinf(travel)


def _option(net, search, snapped, i, team_id, row, eta, time_s) -> Option:
    pieces = trace(net, search, snapped, i)
    path = route_from_pieces(net, pieces, time_s=time_s, snap_m=(snapped.snap_m[i], 0.0))
    return Option(team_id, str(row.get("name", team_id)), float(eta),
                  float(path.travel_time_s), float(path.length_m), float(snapped.snap_m[i]),
                  path.geometry,
                  {"type": row["type"], "headcount": int(row["headcount"]),
                   "turnout_s": float(row["turnout_s"])})


def _unreachable(snapped, cut_off, ids, names) -> list[Unreachable]:
    reasons = np.where(snapped.status == "far", "off_network",
                       np.where(snapped.status == "island", "island",
                                np.where(cut_off, "cut_off_by_hazard", "")))
    return [Unreachable(ids[i], str(names[i]), str(reasons[i]), float(snapped.snap_m[i]))
            for i in np.flatnonzero(reasons != "")]


def _incident_note(at: Snapped) -> str:
    if at.status[0] == "island":
        return (f"the incident lies on a road cut off from the network; the nearest connected "
                f"road is {at.snap_m[0]:.0f} m away")
    return f"the incident is {at.snap_m[0]:.0f} m from the nearest road: no route can be given"


def _team_note(eligible: int, found: int, k: int, types) -> str:
    wanted = f" of type {', '.join(types)}" if types else ""
    if eligible == 0:
        return f"no available team{wanted}"
    if found < k:
        return f"only {found} available team(s){wanted} can reach the incident (asked for {k})"
    return ""


# Supplies and shelters -------------------------------------------------------------------

def _parse_items(items: Mapping[str, float]) -> dict[str, float]:
    parsed = {}
    for item, quantity in items.items():
        try:
            value = float(quantity)
        except (TypeError, ValueError):
            raise ValidationError(f"items.{item}: quantity must be a number") from None
        if not (np.isfinite(value) and value > 0):
            raise ValidationError(f"items.{item}: quantity must be positive, got {quantity!r}")
        parsed[str(item)] = value
    return parsed


def depots_for_items(net, incident: tuple[float, float], depots: gpd.GeoDataFrame,
                     inventory, items: Mapping[str, float], *, blocked=None, cost_scale=None,
                     max_snap_m: float = DEFAULT_MAX_SNAP_M) -> dict:
    """Depots holding the requested items, nearest (travel time to the incident) first, and how
    the requested quantities are covered: taken from the nearest depots first, split across
    depots when one is not enough.

    ``inventory`` is a table with ``depot`` (a depot index), ``item`` and ``quantity``.
    """
    wanted = _parse_items(items)
    at = _snap_incident(net, incident, max_snap_m)
    stock = inventory[inventory["item"].isin(list(wanted)) & (inventory["quantity"] > 0)]
    holding = depots[depots.index.isin(stock["depot"].unique())]
    plan = {"incident_snap_m": float(at.snap_m[0]), "depots": [], "allocation": [],
            "shortfall": dict(wanted), "unreachable_depots": []}
    if not at.on_network[0] or len(holding) == 0:
        return plan
    ids, lon, lat = lonlat_points(holding)
    snapped = snap_points(net, lon, lat, max_snap_m=max_snap_m)
    costs = edge_costs(net, blocked=blocked, cost_scale=cost_scale)
    search = search_from_points(net, at, costs=costs, reverse=True)
    travel, _ = cost_to_points(net, search, snapped)
    left = dict(wanted)
    for i in np.argsort(travel, kind="stable"):
        if not np.isfinite(travel[i]):
            plan["unreachable_depots"].append(_plain(ids[i]))
            continue
        path = route_from_pieces(net, trace(net, search, snapped, i), time_s=costs,
                                 snap_m=(snapped.snap_m[i], 0.0))
        rows = stock[stock["depot"] == ids[i]]
        held = rows.groupby("item")["quantity"].sum().to_dict()
        name = str(holding.iloc[i].get("name", ids[i]))
        plan["depots"].append({"id": _plain(ids[i]), "name": name,
                               "eta_s": float(travel[i]), "distance_m": path.length_m,
                               "snap_m": float(snapped.snap_m[i]), "items": held,
                               "route": path.geometry})
        for item, quantity in held.items():
            take = min(left.get(item, 0.0), float(quantity))
            if take > 0:
                plan["allocation"].append({"depot": _plain(ids[i]), "item": item, "quantity": take,
                                           "eta_s": float(travel[i])})
                left[item] -= take
    plan["shortfall"] = {item: q for item, q in left.items() if q > 0}
    return plan


def _room(shelters) -> np.ndarray:
    return (shelters["capacity_people"].to_numpy(dtype=float)
            - shelters["occupancy"].to_numpy(dtype=float))


def shelters_with_room(walk_net, incident: tuple[float, float], shelters: gpd.GeoDataFrame, *,
                       k: int = 3, blocked=None, cost_scale=None,
                       max_snap_m: float = DEFAULT_MAX_SNAP_M) -> list[dict]:
    """The k nearest open shelters with free capacity, by walking time from the incident.

    ``shelters`` needs ``status``, ``capacity_people`` and ``occupancy`` columns."""
    k = _check_k(k)
    _require_columns(shelters, ("status", "capacity_people", "occupancy"), "shelters")
    candidates = shelters[(shelters["status"] == OPEN).to_numpy() & (_room(shelters) > 0)]
    at = _snap_incident(walk_net, incident, max_snap_m)
    if not at.on_network[0] or len(candidates) == 0:
        return []
    ids, lon, lat = lonlat_points(candidates)
    snapped = snap_points(walk_net, lon, lat, max_snap_m=max_snap_m)
    costs = edge_costs(walk_net, blocked=blocked, cost_scale=cost_scale)
    search = search_from_points(walk_net, at, costs=costs)
    walk_s, _ = cost_to_points(walk_net, search, snapped)
    room = _room(candidates)
    result = []
    for i in [i for i in np.argsort(walk_s, kind="stable") if np.isfinite(walk_s[i])][:k]:
        path = route_from_pieces(walk_net, trace(walk_net, search, snapped, i), time_s=costs,
                                 snap_m=(0.0, snapped.snap_m[i]))
        result.append({"id": _plain(ids[i]), "name": str(candidates.iloc[i].get("name", ids[i])),
                       "walk_s": float(walk_s[i]), "distance_m": path.length_m,
                       "free_capacity": float(room[i]), "snap_m": float(snapped.snap_m[i]),
                       "route": path.geometry})
    return result
