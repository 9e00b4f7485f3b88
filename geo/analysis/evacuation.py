"""Evacuation: the people inside hazard zones, assigned to safe shelters with room.

The people inside the evacuated zones walk (or drive) to open shelters that lie outside every
hazard zone and its safety distance, within each shelter's free capacity, so that first as many
people as possible are placed and then, among all such placements, the total travel time
(person-seconds) is the least. That is a transportation problem; it is solved exactly as a
linear programme on its network-flow form (HiGHS' simplex):

- one supply row per demand point: its flows to the shelters it can reach plus an ``unplaced``
  slack equal its people;
- one capacity row per shelter: its inflows at most its free capacity;
- phase 1 minimises the unplaced people; phase 2 minimises the person-seconds with the unplaced
  people held to phase 1's minimum by one more row (the slacks flowing into a dummy sink of that
  capacity).

Every column has at most two ones, in rows of the two sides of a bipartite graph, so the
constraint matrix is totally unimodular: for whole people and capacities the simplex' vertex
solution is whole, with no rounding. Fractional people (a population spread over floor area) are
fine: the flows are then fractions too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.optimize import linprog

from geo.analysis.barriers import road_barriers
from geo.analysis.exposure import unsafe_shelters
from geo.core.crs import check_projected, to_crs
from geo.core.jsonable import jsonable
from geo.core.validate import check_cutoff, require_columns
from geo.core.vocabulary import CUT_OFF, ISLAND, OFF_NETWORK, SHELTER_OPEN
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.costs import RoadEffects
from geo.routing.matrix import CostMatrix, cost_matrix
from geo.routing.paths import Route, routes_from_pieces, traces
from geo.routing.search import edge_costs, search_from_points
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, FAR

# Why people cannot be placed.
CAPACITY_SHORT = "capacity_short"  # they reach shelters, but those are full
NO_REACHABLE_SHELTER = "no_reachable_shelter"  # no usable shelter can be reached at all
UNPLACED_REASONS = (CAPACITY_SHORT, NO_REACHABLE_SHELTER)
# ... and, for no_reachable_shelter, the cause (besides OFF_NETWORK, ISLAND and CUT_OFF).
NO_SHELTER = "no_usable_shelter"  # every shelter was excluded
BEYOND_MAX_TIME = "beyond_max_time"  # shelters exist, none within max_time_s

_CAUSE_WORDS = {OFF_NETWORK: "too far from a road", ISLAND: "on a road cut off from the network",
                CUT_OFF: "cut off by hazards or barriers", NO_SHELTER: "no usable shelter at all",
                BEYOND_MAX_TIME: "no shelter within the time limit"}

# Why a shelter takes no evacuees (besides OFF_NETWORK and ISLAND: it cannot be reached).
NOT_OPEN = "not_open"
CAPACITY_UNKNOWN = "capacity_unknown"
NO_FREE_CAPACITY = "no_free_capacity"
INSIDE_HAZARD_ZONE = "inside_hazard_zone"
WITHIN_SAFETY_DISTANCE = "within_safety_distance"

STAGES = ("finding the people inside", "travel times", "solving", "routes")

# Amounts of people below this (relative to a point's people) are the solver's rounding.
_NOISE = 1e-6

_EXCLUDED_COLUMNS = ["shelter", "name", "reason", "hazard", "detail"]


@dataclass(frozen=True, eq=False)
class EvacuationResult:
    """The assignment of the people inside the evacuated ``hazards``' zones to shelters.

    ``flows``: ``point``, ``shelter``, ``people``, ``travel_time_s`` (one row per demand point
    and shelter with people assigned). ``shelters``: per usable shelter ``shelter``, ``name``,
    ``free_capacity`` (before), ``load``, ``remaining``. ``unplaced_points``: ``point``,
    ``people`` (not placed), ``reason`` (one of :data:`UNPLACED_REASONS`), ``cause`` (for
    ``no_reachable_shelter``: off the network, on an island, cut off by barriers, no usable
    shelter, or none within ``max_time_s``) and ``snap_m``. ``excluded_shelters``: every shelter
    not used, with the reason (and the hazard concerned). ``routes``: one line per flow
    (EPSG:4326). ``clearance_time_s``: the longest travel time of any placed person (None when
    nobody is placed).
    """

    hazards: tuple
    population_inside: float
    placed: float
    unplaced_by_reason: dict
    total_person_s: float
    clearance_time_s: float | None
    flows: pd.DataFrame
    shelters: pd.DataFrame
    unplaced_points: pd.DataFrame
    excluded_shelters: pd.DataFrame
    routes: gpd.GeoDataFrame
    solve_status: str
    notes: tuple[str, ...] = ()

    @property
    def unplaced(self) -> float:
        return float(sum(self.unplaced_by_reason.values()))

    def summary(self) -> str:
        """Who was placed and who not, and why, in one sentence with the numbers."""
        text = (f"{_count(self.placed)} of {_count(self.population_inside)} people placed")
        if self.unplaced <= 0:
            return text
        short = self.unplaced_by_reason[CAPACITY_SHORT]
        stranded = self.unplaced_by_reason[NO_REACHABLE_SHELTER]
        parts = []
        if short > 0:
            parts.append(f"{_count(short)} because the shelters they reach are full (capacity "
                         f"short by {_count(short)})")
        if stranded > 0:
            causes = self.unplaced_points.groupby("cause", sort=False)["people"].sum()
            why = ", ".join(f"{_count(n)} {_CAUSE_WORDS.get(str(cause), str(cause))}"
                            for cause, n in causes.items() if cause)
            parts.append(f"{_count(stranded)} with no reachable shelter ({why})")
        return f"{text}; {_count(self.unplaced)} cannot be placed: {', '.join(parts)}"

    def to_dict(self) -> dict:
        mean = self.total_person_s / self.placed if self.placed > 0 else None
        return jsonable({
            "hazards": list(self.hazards),
            "population_inside": self.population_inside, "placed": self.placed,
            "unplaced": self.unplaced, "unplaced_by_reason": self.unplaced_by_reason,
            "clearance_time_s": self.clearance_time_s, "total_person_s": self.total_person_s,
            "mean_travel_time_s": mean, "solve_status": self.solve_status,
            "summary": self.summary(),
            "flows": self.flows.to_dict("records"),
            "shelters": self.shelters.to_dict("records"),
            "unplaced_points": self.unplaced_points.to_dict("records"),
            "excluded_shelters": self.excluded_shelters.to_dict("records"),
            "notes": list(self.notes)})

    def features(self) -> gpd.GeoDataFrame:
        """The evacuation routes (EPSG:4326), one LineString per flow along the roads from the
        demand point's road to its shelter's: ``point``, ``shelter``, ``people``,
        ``travel_time_s`` (of the route as traced), ``length_m``."""
        return self.routes


def evacuation(net: RoadNetwork, zones: gpd.GeoDataFrame, population: gpd.GeoDataFrame,
               shelters: gpd.GeoDataFrame, *, unsafe_zones: gpd.GeoDataFrame | None = None,
               population_column: str = "population", effects: RoadEffects | None = None,
               blocked=None, cost_scale=None, max_time_s: float | None = None,
               max_snap_m: float = DEFAULT_MAX_SNAP_M,
               progress: Callable[[str], None] | None = None) -> EvacuationResult:
    """Assign the people inside the evacuated ``zones`` to safe shelters with room, placing as
    many as possible and, among those placements, minimising the total travel time.

    ``zones``: the zones to evacuate (:func:`~geo.analysis.barriers.hazard_zones`, projected).
    ``unsafe_zones``: the zones of *every* hazard, active or not (``hazard_zones(...,
    active_only=False)``): a shelter inside an evacuated or an active zone, or nearer to any
    hazard's source than its safety distance, is not used. ``population``: points (or polygons,
    by a point inside) with ``population_column``; those inside an evacuated zone are evacuated.
    ``shelters``: ``status``, ``capacity_people``, optional ``occupancy`` (missing: 0) and
    ``name``; open ones with free capacity (capacity − occupancy > 0) may be used.

    Travel is from each demand point to each shelter (``direction="from"``), over the roads with
    ``effects`` / ``blocked`` / ``cost_scale``. **The evacuated zones must not trap their own
    people**: give as ``effects`` the barriers of the *other* active hazards and ad-hoc
    barriers only, never the evacuated zones' own blocks. Inside the evacuated zones their slow
    effects (a flood's factor) are applied here; their blocks are not, so their people can walk
    out (a route may also cross an evacuated zone). ``max_time_s`` bounds the travel time
    (None: any reachable shelter). ``progress(stage)`` is called as each of :data:`STAGES`
    starts.

    Travel times are free-flow: no congestion, no departure delay; the clearance time is the
    longest travel time of anyone placed, not a traffic simulation.
    """
    report = progress or (lambda stage: None)
    limit = check_cutoff("max_time_s", max_time_s)
    check_projected(zones.crs, field="zones")
    if len(zones) == 0:
        raise ValidationError("zones: no hazard zone to evacuate")
    zones = to_crs(zones, net.crs, field="zones")
    others = None if unsafe_zones is None else to_crs(unsafe_zones, net.crs, field="unsafe_zones")
    require_columns(shelters, ("status", "capacity_people"), "shelters")
    hazards = tuple(jsonable(h) for h in zones["hazard"])

    report(STAGES[0])
    inside = _people_inside(zones, population, population_column)
    usable, excluded = _usable_shelters(shelters, zones, others)

    report(STAGES[1])
    evacuated_slow = road_barriers(net, zones[(zones["road_effect"] == "slow").to_numpy()])
    combined = evacuated_slow.effects if effects is None else effects.combined(
        evacuated_slow.effects)
    barriers = {"effects": combined, "blocked": blocked, "cost_scale": cost_scale}
    people = inside[population_column].to_numpy(dtype=float)
    candidates = shelters[shelters.index.isin(usable.index)]
    room = usable["free_capacity"].to_numpy(dtype=float)
    matrix = None
    if len(inside) and len(candidates):
        matrix = cost_matrix(net, inside, candidates, cutoff_s=max_time_s, direction="from",
                             max_snap_m=max_snap_m, **barriers)
        excluded = pd.concat([excluded, _off_network(candidates, matrix)], ignore_index=True)

    report(STAGES[2])
    flow, status = _solve(matrix, people, room)

    report(STAGES[3])
    flows = _flow_table(matrix, flow)
    routes = _routes(net, matrix, flows, barriers)
    load: np.ndarray = np.zeros(len(candidates))
    if matrix is not None and len(flows):
        positions = pd.Index(matrix.destination_ids).get_indexer(flows["shelter"])
        load = np.bincount(positions, weights=flows["people"].to_numpy(), minlength=len(room))
    table = pd.DataFrame({"shelter": usable.index.to_numpy(), "name": usable["name"].to_numpy(),
                          "free_capacity": room, "load": load, "remaining": room - load})
    if matrix is not None:  # the unreachable ones are listed with the excluded
        table = table[matrix.destination_snap.on_network].reset_index(drop=True)
    unplaced = _unplaced(inside, people, matrix, flow, len(candidates) > 0, limit)
    by_reason = {reason: float(unplaced["people"][unplaced["reason"] == reason].sum())
                 for reason in UNPLACED_REASONS}
    placed = float(flows["people"].sum())
    times = flows["travel_time_s"][flows["people"] > 0]
    total = float((flows["people"] * flows["travel_time_s"]).sum())
    return EvacuationResult(
        hazards, float(people.sum()), placed, by_reason, total,
        float(times.max()) if len(times) else None, flows, table, unplaced, excluded, routes,
        status, tuple(_notes(people, hazards)))


# ---- who is inside, which shelters may be used ----------------------------------------------


def _people_inside(zones: gpd.GeoDataFrame, population: gpd.GeoDataFrame,
                   column: str) -> gpd.GeoDataFrame:
    """The population features inside any of ``zones`` (by a point inside each feature)."""
    if column not in population:
        raise ValidationError(f"population: missing column {column!r}")
    people = population[column].to_numpy(dtype=float)
    if not (np.isfinite(people).all() and (people >= 0).all()):
        raise ValidationError(f"population.{column}: expected finite, non-negative numbers")
    if len(population) == 0:
        return population
    points = population.geometry.to_crs(zones.crs).representative_point().to_numpy()
    _, point_index = shapely.STRtree(points).query(zones.geometry.to_numpy(),
                                                   predicate="intersects")
    inside = np.zeros(len(population), dtype=bool)
    inside[point_index] = True
    return population[inside]


def _usable_shelters(shelters: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                     others: gpd.GeoDataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(usable shelters with ``name`` and ``free_capacity``, excluded shelters with why)."""
    ids = shelters.index.to_numpy()
    names = _names(shelters)
    capacity = pd.to_numeric(shelters["capacity_people"], errors="coerce").to_numpy(dtype=float)
    occupancy = (pd.to_numeric(shelters["occupancy"], errors="coerce").fillna(0.0)
                 .to_numpy(dtype=float) if "occupancy" in shelters else np.zeros(len(ids)))
    room = capacity - occupancy
    reason = np.full(len(ids), "", dtype=object)
    hazard = np.full(len(ids), None, dtype=object)
    detail = np.full(len(ids), "", dtype=object)
    status = shelters["status"].to_numpy()
    closed = status != SHELTER_OPEN
    reason[closed] = NOT_OPEN
    detail[closed] = [f"status {s}" for s in status[closed]]
    unknown = (reason == "") & ~np.isfinite(capacity)
    reason[unknown] = CAPACITY_UNKNOWN
    full = (reason == "") & ~(room > 0)
    reason[full] = NO_FREE_CAPACITY
    detail[full] = [f"capacity {c:g}, occupancy {o:g}" for c, o in zip(capacity[full],
                                                                     occupancy[full])]
    # Inside an evacuated zone or an active one; then nearer a source than its safety distance.
    inside_zones = zones if others is None else pd.concat(
        [zones, others[others["active"].astype(bool).to_numpy()]], ignore_index=True)
    geometries = shelters.geometry.to_crs(zones.crs).to_numpy() if len(shelters) else np.array([])
    zone_index, shelter_index = shapely.STRtree(geometries).query(
        inside_zones.geometry.to_numpy(), predicate="intersects")
    for z, s in zip(zone_index, shelter_index):
        if reason[s] == "":
            reason[s], hazard[s] = INSIDE_HAZARD_ZONE, jsonable(inside_zones["hazard"].iloc[z])
            detail[s] = f"inside the zone of hazard {hazard[s]} ({inside_zones['type'].iloc[z]})"
    distance_zones = zones if others is None else pd.concat([zones, others], ignore_index=True)
    close = unsafe_shelters(shelters, gpd.GeoDataFrame(distance_zones, crs=zones.crs))
    position = shelters.index.get_indexer(close["shelter"])
    for s, row in zip(position, close.itertuples()):
        if reason[s] == "":
            reason[s], hazard[s] = WITHIN_SAFETY_DISTANCE, jsonable(row.hazard)
            detail[s] = (f"{row.distance_m:.0f} m from hazard {row.hazard} ({row.type}), "
                         f"{row.required_m:g} m required")
    ok = reason == ""
    usable = pd.DataFrame({"name": np.asarray(names, dtype=object)[ok], "free_capacity": room[ok]},
                          index=shelters.index[ok])
    excluded = pd.DataFrame({"shelter": ids[~ok], "name": np.asarray(names, dtype=object)[~ok],
                             "reason": reason[~ok], "hazard": hazard[~ok],
                             "detail": detail[~ok]}, columns=_EXCLUDED_COLUMNS)
    return usable, excluded


def _names(frame) -> list[str]:
    if "name" not in frame:
        return [str(i) for i in frame.index]
    return [str(name) if isinstance(name, str) and name else str(i)
            for name, i in zip(frame["name"].to_numpy(), frame.index)]


def _off_network(candidates: gpd.GeoDataFrame, matrix: CostMatrix) -> pd.DataFrame:
    """Usable shelters that cannot be reached at all: too far from a road, or on an island."""
    snap = matrix.destination_snap
    off = ~snap.on_network
    reason = np.where(snap.status[off] == FAR, OFF_NETWORK, ISLAND)
    return pd.DataFrame({
        "shelter": candidates.index.to_numpy()[off],
        "name": np.asarray(_names(candidates), dtype=object)[off], "reason": reason,
        "hazard": None,
        "detail": [f"{m:.0f} m from the nearest road" for m in snap.snap_m[off]]},
        columns=_EXCLUDED_COLUMNS)


# ---- the transportation problem -------------------------------------------------------------


def _solve(matrix: CostMatrix | None, people: np.ndarray,
           room: np.ndarray) -> tuple[np.ndarray, str]:
    """People per stored pair of ``matrix`` (in its CSR order): the most people placed, then the
    least person-seconds among such placements."""
    if matrix is None or matrix.costs.nnz == 0 or not (people > 0).any():
        return np.zeros(0 if matrix is None else matrix.costs.nnz), "nothing to solve"
    costs = matrix.costs
    n_points, n_shelters = matrix.shape
    pair_point = np.repeat(np.arange(n_points), np.diff(costs.indptr))
    pair_shelter = costs.indices
    m = costs.nnz
    # Supply rows (x and the unplaced slack u), then capacity rows.
    columns = np.arange(m + n_points)
    supply = sp.csr_array((np.ones(m + n_points), (np.r_[pair_point, np.arange(n_points)],
                                                   columns)), shape=(n_points, m + n_points))
    capacity = sp.csr_array((np.ones(m), (pair_shelter, np.arange(m))),
                            shape=(n_shelters, m + n_points))
    bounds = (0, None)
    # (scipy takes sparse constraint matrices; its type stubs list only dense ones, hence the
    # ignores below.)
    first = linprog(np.r_[np.zeros(m), np.ones(n_points)], A_ub=capacity, b_ub=room,
                    A_eq=supply, b_eq=people, bounds=bounds,
                    method="highs-ds")  # type: ignore[call-overload]
    _check(first, "placing the most people")
    # Held to phase 1's minimum exactly: HiGHS' own feasibility tolerance (1e-7) absorbs its
    # rounding, so at most that much more may stay unplaced (cleared as noise below).
    fewest_unplaced = max(float(first.fun), 0.0)
    sink = sp.csr_array((np.ones(n_points), (np.zeros(n_points, dtype=np.int64),
                                             np.arange(m, m + n_points))),
                        shape=(1, m + n_points))
    second = linprog(np.r_[costs.data, np.zeros(n_points)], A_ub=sp.vstack([capacity, sink]),
                     b_ub=np.r_[room, fewest_unplaced], A_eq=supply, b_eq=people,
                     bounds=bounds, method="highs-ds")  # type: ignore[call-overload]
    _check(second, "minimising the travel time")
    flow = np.clip(second.x[:m], 0.0, None)
    if _whole(people) and _whole(room):
        flow = np.round(flow)  # a vertex of a totally unimodular system: whole already
    else:
        flow[flow < _NOISE] = 0.0
    return flow, "optimal"


def _whole(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def _check(result, what: str) -> None:
    if result.status != 0:  # always feasible (the slack) and bounded (costs ≥ 0): a solver fault
        raise RuntimeError(f"evacuation: HiGHS failed {what}: {result.message}")


def _flow_table(matrix: CostMatrix | None, flow: np.ndarray) -> pd.DataFrame:
    columns = ["point", "shelter", "people", "travel_time_s"]
    if matrix is None or len(flow) == 0:
        return pd.DataFrame(columns=columns)
    pairs = matrix.pairs()
    used = flow > 0
    return pd.DataFrame({"point": pairs["origin"].to_numpy()[used],
                         "shelter": pairs["destination"].to_numpy()[used],
                         "people": flow[used],
                         "travel_time_s": pairs["travel_time_s"].to_numpy()[used]},
                        columns=columns).reset_index(drop=True)


def _unplaced(inside: gpd.GeoDataFrame, people: np.ndarray, matrix: CostMatrix | None,
              flow: np.ndarray, any_shelter: bool, limit: float) -> pd.DataFrame:
    """Per demand point with people left over: how many, and why."""
    placed: np.ndarray = np.zeros(len(people))
    reachable = np.zeros(len(people), dtype=bool)
    cause = np.full(len(people), NO_SHELTER if not any_shelter else "", dtype=object)
    snap_m = np.full(len(people), np.nan)
    if matrix is not None:
        counts = np.diff(matrix.costs.indptr)
        reachable = counts > 0
        if len(flow):
            placed = np.bincount(np.repeat(np.arange(len(people)), counts), weights=flow,
                                 minlength=len(people))
        snap = matrix.origin_snap
        snap_m = snap.snap_m
        cause = np.where(snap.status == FAR, OFF_NETWORK, np.where(
            snap.status == ISLAND, ISLAND, BEYOND_MAX_TIME if np.isfinite(limit) else CUT_OFF))
    left = np.where(reachable, np.maximum(people - placed, 0.0), people)
    left[left < _NOISE * np.maximum(people, 1.0)] = 0.0  # the solver's rounding, not people
    rows = left > 0
    return pd.DataFrame({
        "point": inside.index.to_numpy()[rows], "people": left[rows],
        "reason": np.where(reachable, CAPACITY_SHORT, NO_REACHABLE_SHELTER)[rows],
        "cause": np.where(reachable, "", cause)[rows], "snap_m": snap_m[rows]},
        columns=["point", "people", "reason", "cause", "snap_m"])


# ---- routes ---------------------------------------------------------------------------------


def _routes(net: RoadNetwork, matrix: CostMatrix | None, flows: pd.DataFrame,
            barriers: dict) -> gpd.GeoDataFrame:
    """Each flow's route: one search per shelter used, over the reverse graph (from every node
    to the shelter), bounded by its longest flow, and each of its points traced along it."""
    columns: dict[str, list] = {"point": [], "shelter": [], "people": [], "travel_time_s": [],
                                "length_m": []}
    lines = []
    if matrix is not None and len(flows):
        costs = edge_costs(net, **barriers)
        origins = pd.Index(matrix.origin_ids)
        destinations = pd.Index(matrix.destination_ids)
        for shelter, group in flows.groupby("shelter", sort=False):
            j = destinations.get_loc(shelter)
            bound = float(group["travel_time_s"].max())
            search = search_from_points(net, matrix.destination_snap.take([j]), costs=costs,
                                        reverse=True, cutoff=bound * (1 + 1e-9) + 1e-6)
            rows = origins.get_indexer(group["point"])
            flows_of = list(group.itertuples())
            for t, path in _routes_to(net, search, matrix.origin_snap.take(rows), costs):
                flow = flows_of[t]
                for key, value in (("point", flow.point), ("shelter", shelter),
                                   ("people", flow.people),
                                   ("travel_time_s", path.travel_time_s),
                                   ("length_m", path.length_m)):
                    columns[key].append(value)
                lines.append(shapely.LineString(path.geometry["coordinates"]))
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(lines, crs="EPSG:4326"),
                            crs="EPSG:4326")


def _routes_to(net: RoadNetwork, search, targets, costs) -> list[tuple[int, Route]]:
    """(index, route) of each of ``targets`` reached in ``search``, all traced and built
    together (a target not reached cannot happen here: the matrix reached each one within the
    search's bound)."""
    traced = [(t, pieces) for t, pieces in
              enumerate(traces(net, search, targets, range(len(targets))))
              if pieces is not None]
    if not traced:
        return []
    routes = routes_from_pieces(net, [pieces for _, pieces in traced], time_s=costs,
                                snap_m=[(targets.snap_m[t], 0.0) for t, _ in traced])
    return [(t, route) for (t, _), route in zip(traced, routes)]


def _count(people: float) -> str:
    """People as a whole number, or with one decimal when spread as fractions."""
    return f"{people:.0f}" if abs(people - round(people)) < 1e-6 else f"{people:.1f}"


def _notes(people: np.ndarray, hazards: tuple) -> list[str]:
    notes = []
    if float(people.sum()) == 0:
        notes.append("nobody lives inside the evacuated zone(s) "
                     f"({', '.join(map(str, hazards))}): nobody to place")
    notes.append("travel times are free-flow (no congestion, no departure delay): the clearance "
                 "time is the longest trip of anyone placed")
    return notes
