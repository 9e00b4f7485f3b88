"""Nearest-resource dispatch for an incident: teams by ETA, depots by supplies, shelters by room.

All three rank candidates through the one pipeline of :mod:`geo.analysis.ranking`. Teams and
depots travel *to* the incident (one search over the reverse graph, bounded for teams and grown
until the k best are certain); people walk *from* the incident to a shelter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from geo.analysis.ranking import rank_by_cost
from geo.core.jsonable import jsonable
from geo.core.validate import check_count, lonlat_points, require_columns
from geo.core.vocabulary import ISLAND, SHELTER_OPEN, TEAM_AVAILABLE
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.search import edge_costs
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, Snapped, past_island, snap_point


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
        return jsonable({"id": self.id, "name": self.name, "eta_s": self.eta_s,
                         "travel_s": self.travel_s, "distance_m": self.distance_m,
                         "snap_m": self.snap_m, **self.details, "route": self.route})


@dataclass(frozen=True)
class Unreachable:
    id: object
    name: str
    reason: str  # one of geo.core.vocabulary.UNREACHABLE_REASONS
    snap_m: float

    def to_dict(self) -> dict:
        return jsonable({"id": self.id, "name": self.name, "reason": self.reason,
                         "snap_m": self.snap_m})


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


def nearest_teams(net: RoadNetwork, incident: tuple[float, float], teams: gpd.GeoDataFrame, *,
                  k: int = 5, types: Sequence[str] | None = None, min_headcount: int = 0,
                  blocked=None, cost_scale=None, effects=None,
                  max_snap_m: float = DEFAULT_MAX_SNAP_M,
                  route_islands: bool = False) -> TeamDispatch:
    """The k available teams with the smallest ETA to ``incident`` (lon, lat): ETA = turnout
    time + network travel time from the team to the incident.

    With ``types`` (canonical names, see :data:`geo.core.vocabulary.TEAM_TYPES`), the k nearest
    of *each* type, all in ETA order: a dispatcher asking for fire and medical teams needs both,
    and the k nearest of either could all be fire teams. ``route_islands`` as in
    :func:`~geo.routing.snapping.snap_points`. ``teams`` (current positions) needs columns
    ``type``, ``status``, ``headcount``, ``turnout_s`` and optionally ``name``.
    """
    k = check_count("k", k)
    require_columns(teams, ("type", "status", "headcount", "turnout_s"), "teams")
    at = snap_point(net, incident, field="incident", max_snap_m=max_snap_m,
                    route_islands=route_islands)
    # Work on arrays of the eligible rows, each column read once: subsetting the GeoDataFrame
    # (or reading a column) costs more than the search.
    columns = {name: teams[name].to_numpy()
               for name in ("type", "status", "headcount", "turnout_s", "name") if name in teams}
    groups = _eligible_groups(columns, types, min_headcount)
    eligible = sum(len(rows) for _, rows in groups)
    if not at.on_network[0]:
        return TeamDispatch(float(at.snap_m[0]), str(at.status[0]), [], [], eligible,
                            _incident_note(at))
    points = lonlat_points(teams)
    costs = edge_costs(net, blocked=blocked, cost_scale=cost_scale, effects=effects)
    options: list[Option] = []
    unreachable: list[Unreachable] = []
    notes = [_past_island_note(at)]
    for kind, rows in groups:
        found, lost = _rank_teams(net, at, columns, points, rows, k=k, costs=costs,
                                  max_snap_m=max_snap_m, route_islands=route_islands)
        options += found
        unreachable += lost
        notes.append(_team_note(len(rows), len(found), k, kind))
    options.sort(key=lambda option: option.eta_s)  # stable: each type's order is kept in ties
    return TeamDispatch(float(at.snap_m[0]), "ok", options, unreachable, eligible,
                        "; ".join(note for note in notes if note))


def _eligible_groups(columns, types, min_headcount) -> list[tuple[str | None, np.ndarray]]:
    """(type, row positions of its available teams) per requested type; one group of every
    available team (type None) when no type is requested."""
    mask = np.array(columns["status"] == TEAM_AVAILABLE, dtype=bool)
    if min_headcount:
        mask &= (columns["headcount"].astype(float) >= min_headcount)
    if not types:
        return [(None, np.flatnonzero(mask))]
    kinds = columns["type"]
    return [(kind, np.flatnonzero(mask & (kinds == kind))) for kind in dict.fromkeys(types)]


def _rank_teams(net, at: Snapped, columns, points, rows, *, k, costs, max_snap_m,
                route_islands) -> tuple[list[Option], list[Unreachable]]:
    """The k best of the teams at ``rows`` and the ones that cannot reach the incident."""
    if len(rows) == 0:
        return [], []
    all_ids, all_lon, all_lat = points
    ids = [all_ids[r] for r in rows]
    turnout = columns["turnout_s"].astype(float)[rows]
    ranked = rank_by_cost(net, at, all_lon[rows], all_lat[rows], costs=costs, inbound=True,
                          start_s=turnout, k=k, max_snap_m=max_snap_m,
                          route_islands=route_islands)
    names = columns["name"][rows] if "name" in columns else np.asarray(ids, dtype=object)
    # Only the teams listed get their details (plain values, not rows of the frame).
    kinds, counts = columns["type"][rows], columns["headcount"][rows]

    def details(i) -> dict:
        return {"type": kinds[i], "headcount": int(counts[i]), "turnout_s": float(turnout[i])}

    paths = ranked.routes(net, ranked.order) if len(ranked.order) else []
    options = [_team_option(ranked, i, path, ids[i], str(names[i]), details(i))
               for i, path in zip(ranked.order, paths)]
    unreachable = [Unreachable(ids[i], str(names[i]), str(ranked.reasons[i]),
                               float(ranked.candidates.snap_m[i]))
                   for i in np.flatnonzero(ranked.reasons != "")]
    return options, unreachable


def _team_option(ranked, i, path, team_id, name: str, details: dict) -> Option:
    return Option(team_id, name, float(ranked.total_s[i]), float(path.travel_time_s),
                  float(path.length_m), float(ranked.candidates.snap_m[i]), path.geometry,
                  details)


def _incident_note(at: Snapped) -> str:
    if at.status[0] == ISLAND:
        return (f"the incident lies on a road cut off from the network; the nearest connected "
                f"road is {at.snap_m[0]:.0f} m away")
    return f"the incident is {at.snap_m[0]:.0f} m from the nearest road: no route can be given"


def _past_island_note(at: Snapped) -> str:
    if not past_island(at)[0]:
        return ""
    return (f"the incident's nearest road ({at.island_m[0]:.0f} m away) is cut off from the "
            f"network: routed from the nearest connected road, {at.snap_m[0]:.0f} m away")


def _team_note(eligible: int, found: int, k: int, kind: str | None) -> str:
    wanted = f" of type {kind}" if kind else ""
    if eligible == 0:
        return f"no available team{wanted}"
    if found < k:
        return f"only {found} available team(s){wanted} can reach the incident (asked for {k})"
    return ""


# Supplies and shelters -------------------------------------------------------------------

def _parse_items(items: Mapping[str, object]) -> dict[str, float]:
    parsed = {}
    for item, quantity in items.items():
        try:
            value = float(quantity)  # type: ignore[arg-type]  # checked here
        except (TypeError, ValueError):
            raise ValidationError(f"items.{item}: quantity must be a number") from None
        if not (np.isfinite(value) and value > 0):
            raise ValidationError(f"items.{item}: quantity must be positive, got {quantity!r}")
        parsed[str(item)] = value
    return parsed


def depots_for_items(net: RoadNetwork, incident: tuple[float, float], depots: gpd.GeoDataFrame,
                     inventory, items: Mapping[str, object], *, blocked=None, cost_scale=None,
                     effects=None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                     route_islands: bool = False) -> dict:
    """Depots holding the requested items, nearest (travel time to the incident at (lon, lat))
    first, and how the requested quantities are covered: taken from the nearest depots first,
    split across depots when one is not enough.

    ``inventory`` is a table with ``depot`` (a depot index), ``item`` and ``quantity``.
    """
    wanted = _parse_items(items)
    at = snap_point(net, incident, field="incident", max_snap_m=max_snap_m,
                    route_islands=route_islands)
    stock = inventory[inventory["item"].isin(list(wanted)) & (inventory["quantity"] > 0)]
    holding = depots[depots.index.isin(stock["depot"].unique())]
    plan: dict = {"incident_snap_m": float(at.snap_m[0]), "depots": [], "allocation": [],
                  "shortfall": dict(wanted), "unreachable_depots": []}
    if not at.on_network[0] or len(holding) == 0:
        return plan
    ids, lon, lat = lonlat_points(holding)
    costs = edge_costs(net, blocked=blocked, cost_scale=cost_scale, effects=effects)
    ranked = rank_by_cost(net, at, lon, lat, costs=costs, inbound=True, max_snap_m=max_snap_m,
                          route_islands=route_islands)
    plan["unreachable_depots"] = jsonable([ids[i] for i in np.flatnonzero(ranked.reasons != "")])
    held_by_depot = _stock_by_depot(stock)
    names = _names(holding, ids)
    left = dict(wanted)
    for i in ranked.order:
        held = held_by_depot.get(ids[i], {})
        eta = float(ranked.total_s[i])
        taken = []
        for item, quantity in held.items():
            take = min(left.get(item, 0.0), float(quantity))
            if take > 0:
                taken.append(jsonable({"depot": ids[i], "item": item, "quantity": take,
                                       "eta_s": eta}))
                left[item] -= take
        plan["allocation"] += taken
        # Only the depots taken from get a route (traced, measured): the others are listed
        # by ETA, as alternatives.
        path = ranked.route(net, i) if taken else None
        plan["depots"].append(jsonable({
            "id": ids[i], "name": names[i], "eta_s": eta,
            "distance_m": None if path is None else path.length_m,
            "snap_m": ranked.candidates.snap_m[i], "items": held,
            "route": None if path is None else path.geometry}))
    plan["shortfall"] = {item: q for item, q in left.items() if q > 0}
    return plan


def _names(frame, ids) -> list[str]:
    """The ``name`` of each row (its id where it has none), read as one column."""
    if "name" not in frame:
        return [str(i) for i in ids]
    return [str(name) if isinstance(name, str) and name else str(i)
            for name, i in zip(frame["name"].to_numpy(), ids)]


def _stock_by_depot(stock) -> dict[object, dict[str, float]]:
    """depot → item → quantity, in one pass over the inventory rows (a handful: a loop beats
    a pandas group-by here)."""
    held: dict[object, dict[str, float]] = {}
    for depot, item, quantity in zip(stock["depot"].to_numpy(), stock["item"].to_numpy(),
                                     stock["quantity"].to_numpy(dtype=float)):
        items = held.setdefault(depot, {})
        items[str(item)] = items.get(str(item), 0.0) + float(quantity)
    return {depot: dict(sorted(items.items())) for depot, items in held.items()}


def _room(shelters) -> np.ndarray:
    return (shelters["capacity_people"].to_numpy(dtype=float)
            - shelters["occupancy"].to_numpy(dtype=float))


def shelters_with_room(walk_net: RoadNetwork, incident: tuple[float, float],
                       shelters: gpd.GeoDataFrame, *, k: int = 3, blocked=None, cost_scale=None,
                       effects=None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                       route_islands: bool = False) -> list[dict]:
    """The k nearest open shelters with free capacity, by walking time from the incident at
    (lon, lat). ``shelters`` needs ``status``, ``capacity_people`` and ``occupancy`` columns."""
    k = check_count("k", k)
    require_columns(shelters, ("status", "capacity_people", "occupancy"), "shelters")
    candidates = shelters[(shelters["status"] == SHELTER_OPEN).to_numpy()
                          & (_room(shelters) > 0)]
    at = snap_point(walk_net, incident, field="incident", max_snap_m=max_snap_m,
                    route_islands=route_islands)
    if not at.on_network[0] or len(candidates) == 0:
        return []
    ids, lon, lat = lonlat_points(candidates)
    costs = edge_costs(walk_net, blocked=blocked, cost_scale=cost_scale, effects=effects)
    ranked = rank_by_cost(walk_net, at, lon, lat, costs=costs, inbound=False, k=k,
                          max_snap_m=max_snap_m, route_islands=route_islands)
    room = _room(candidates)
    names = _names(candidates, ids)
    result = []
    for i in ranked.order:
        path = ranked.route(walk_net, i)
        result.append(jsonable({
            "id": ids[i], "name": names[i],
            "walk_s": ranked.total_s[i], "distance_m": path.length_m, "free_capacity": room[i],
            "snap_m": ranked.candidates.snap_m[i], "route": path.geometry}))
    return result


@dataclass(frozen=True)
class DispatchResult:
    """Everything a dispatcher gets for one incident at (lon, lat): the ranked teams, the depots
    covering the supplies asked for (None when none were asked for), the nearest open shelters
    with room (None when not asked for), and notes (a demo registry, a missing layer, ...)."""

    incident: tuple[float, float]
    teams: TeamDispatch
    supplies: dict | None = None
    shelters: list[dict] | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        payload = {"incident": {"lon": self.incident[0], "lat": self.incident[1]},
                   **self.teams.to_dict()}
        if self.supplies is not None:
            payload["supplies"] = self.supplies
        if self.shelters is not None:
            payload["shelters"] = self.shelters
        return {**payload, "notes": list(self.notes)}

    def features(self) -> gpd.GeoDataFrame:
        """The routes (EPSG:4326): ``kind`` team / depot / shelter, ``id``, ``name``, ``eta_s``."""
        rows = [("team", o.id, o.name, o.eta_s, o.route) for o in self.teams.options]
        rows += [("depot", d["id"], d["name"], d["eta_s"], d["route"])
                 for d in (self.supplies or {}).get("depots", [])]
        rows += [("shelter", s["id"], s["name"], s["walk_s"], s["route"])
                 for s in self.shelters or []]
        return gpd.GeoDataFrame(
            {"kind": [r[0] for r in rows], "id": [r[1] for r in rows],
             "name": [r[2] for r in rows], "eta_s": [r[3] for r in rows]},
            geometry=[None if r[4] is None else shapely.geometry.shape(r[4]) for r in rows],
            crs="EPSG:4326")
