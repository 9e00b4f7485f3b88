"""Edge costs, whole and partial: what a search pays for all of an edge, or for a part of it.

Simplification merges OSM segments of different speeds into one edge, and a hazard may close or
slow only part of a road, so the cost of a part of an edge is not a share of the whole edge's
cost. Each geometry carries, at each of its points, the cost from its first point
(:attr:`RoadNetwork.geom_cum_time_s`); within one OSM segment speed is constant, so interpolating
between points is exact. :class:`RoadEffects` adds stretches of road that are blocked or slowed.

Everything is laid out on one line: a position at fraction ``f`` along geometry ``g`` has the
*key* ``2·g + f`` (the gap of 1 between geometries keeps keys of different roads apart), and the
cumulative cost is one non-decreasing array over all keys. The cost between two positions on a
road is then a difference of two interpolations, for any number of queries at once, and how far
a budget reaches an inverse one (service areas do that in compiled loops over
:attr:`EdgeCosts.kernel_arrays`: :mod:`geo.analysis.stretch_kernel`).

Costs do not depend on the direction of travel (speeds are per way); which *edge* is used only
decides whether that direction exists and which whole-edge ``cost_scale`` / ``blocked`` apply.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.snapping import Snapped

WEIGHTS = ("travel_time_s", "length_m")
# The network's cumulative array of each weight along its geometries.
_ALONG = {"travel_time_s": "geom_cum_time_s", "length_m": "geom_cum_length_m"}


@dataclass(frozen=True, eq=False)
class RoadEffects:
    """Stretches of road geometry where travel is slowed or blocked: stretch ``i`` covers
    geometry ``geom[i]`` from fraction ``start[i]`` to ``end[i]`` (``start == end`` for a line
    crossing the road) with cost ``factor[i]`` (≥ 1; ``inf`` blocks it). Where stretches overlap
    the largest factor applies."""

    geom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    factor: np.ndarray

    def __post_init__(self):
        for name in ("geom", "start", "end", "factor"):
            array = np.asarray(getattr(self, name), dtype=np.int64 if name == "geom" else float)
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        if not (len(self.geom) == len(self.start) == len(self.end) == len(self.factor)):
            raise ValidationError("effects: geom, start, end and factor must have one entry each")
        if len(self.factor) and not (self.factor >= 1).all():
            raise ValidationError("effects.factor: must be ≥ 1 (inf blocks)")

    @classmethod
    def none(cls) -> RoadEffects:
        return cls(np.empty(0), np.empty(0), np.empty(0), np.empty(0))

    def __len__(self) -> int:
        return len(self.geom)

    def combined(self, other: RoadEffects) -> RoadEffects:
        return RoadEffects(*(np.r_[getattr(self, n), getattr(other, n)]
                             for n in ("geom", "start", "end", "factor")))


class _Profile:
    """Cumulative cost over the key line of one network, weight and set of effects."""

    def __init__(self, net: RoadNetwork, weight: str, effects: RoadEffects | None):
        keys, cumulative = _point_profile(net, weight)
        blocks = np.empty((0, 2))
        if effects is not None and len(effects):
            keys, cumulative, blocks = _with_effects(keys, cumulative, effects)
        self.keys, self.cumulative = keys, cumulative
        self.keys_xy: tuple[np.ndarray, np.ndarray] | None = None  # see EdgeCosts.keys_xy
        self.block_start, self.block_end = (np.ascontiguousarray(blocks[:, 0]),
                                             np.ascontiguousarray(blocks[:, 1]))
        geoms = np.arange(net.n_geometries)
        self.road_start = self.at(geoms, np.zeros(len(geoms)))
        self.road_end = self.at(geoms, np.ones(len(geoms)))
        # The level at snapped points, per Snapped: the same team positions are costed in every
        # dispatch query, and each lookup is a binary search over every point of every road.
        self._levels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        whole_edge = self.road_end - self.road_start
        base = np.asarray(getattr(net, f"edge_{weight}"))
        if effects is None or len(effects) == 0:
            self.edge_costs, self.closes_roads = base, False
            return
        # Scale each edge's own total by its road's factor, so that untouched edges keep their
        # exact cost (and one blocked stretch closes the whole edge for a search through it).
        plain = _base_profile(net, weight)
        base_road = (plain.road_end - plain.road_start)[net.edge_geom]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(base_road > 0, whole_edge[net.edge_geom] / base_road, 1.0)
        costs = base * ratio
        costs[self.blocked(net.edge_geom, np.zeros(net.n_edges), np.ones(net.n_edges))] = np.inf
        costs.flags.writeable = False
        self.edge_costs = costs
        self.closes_roads = bool(np.isinf(costs).any())

    @cached_property
    def road_first(self) -> np.ndarray:
        """Index in :attr:`keys` of each road's first key (``2·geometry``), and one past the
        last key: road ``g``'s keys are ``keys[road_first[g]:road_first[g + 1]]``."""
        n_roads = len(self.road_start)
        return np.searchsorted(self.keys, 2.0 * np.arange(n_roads + 1)).astype(np.int64)

    def at(self, geom, fraction) -> np.ndarray:
        """The cumulative cost at ``fraction`` of road ``geom``."""
        return np.interp(2.0 * geom + fraction, self.keys, self.cumulative)

    def at_points(self, snapped: Snapped) -> np.ndarray:
        """The cumulative cost at each snapped point (nan off the network)."""
        levels = self._levels.get(snapped)
        if levels is None:
            on = snapped.geom >= 0
            levels = np.full(len(snapped), np.nan)
            levels[on] = self.at(snapped.geom[on], snapped.fraction[on])
            self._levels[snapped] = levels
        return levels

    def between(self, geom, lo, hi) -> np.ndarray:
        """Cost from fraction ``lo`` to ``hi`` (lo ≤ hi) of ``geom``; inf across a block."""
        geom = np.asarray(geom)
        n = geom.size
        ends = self.at(np.concatenate((geom.ravel(), geom.ravel())),
                       np.concatenate((np.ravel(lo), np.ravel(hi))))
        cost = (ends[n:] - ends[:n]).reshape(geom.shape)
        return self._unless_blocked(geom, lo, hi, cost)

    def point_to_end(self, snapped: Snapped, points, *, towards_end: bool) -> np.ndarray:
        """Cost from each snapped point to its road's end (or start); inf across a block."""
        geom, f = snapped.geom[points], snapped.fraction[points]
        level = self.at_points(snapped)[points]
        if towards_end:
            return self._unless_blocked(geom, f, np.ones(len(f)), self.road_end[geom] - level)
        return self._unless_blocked(geom, np.zeros(len(f)), f, level - self.road_start[geom])

    def _unless_blocked(self, geom, lo, hi, cost) -> np.ndarray:
        cost = np.maximum(cost, 0.0)
        if len(self.block_start) == 0:
            return cost
        return np.where(self.blocked(geom, lo, hi), np.inf, cost)

    def blocked(self, geom, lo, hi) -> np.ndarray:
        """Whether a blocked stretch touches fractions ``lo..hi`` of ``geom``."""
        if len(self.block_start) == 0:
            return np.zeros(np.shape(geom), dtype=bool)
        lo_key, hi_key = 2.0 * geom + lo, 2.0 * geom + hi
        i = np.searchsorted(self.block_end, lo_key, side="left")
        inside = i < len(self.block_end)
        return inside & (self.block_start[np.minimum(i, len(self.block_end) - 1)] <= hi_key)


def _point_profile(net: RoadNetwork, weight: str) -> tuple[np.ndarray, np.ndarray]:
    """(key, cumulative cost) at every point of every geometry."""
    offsets = np.asarray(net.geom_offsets)
    sizes = np.diff(offsets)
    geom_of_point = np.repeat(np.arange(len(sizes)), sizes)
    step = np.r_[0.0, np.hypot(*np.diff(net.geom_xy, axis=0).T)]
    step[offsets[:-1]] = 0.0
    along = np.cumsum(step)
    along -= np.repeat(along[offsets[:-1]], sizes)
    length = np.repeat(along[offsets[1:] - 1], sizes)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(length > 0, along / length, 0.0)
    fraction[offsets[1:] - 1] = 1.0  # the last point, even of a zero-length road
    within = np.asarray(getattr(net, _ALONG[weight]))
    increment = np.r_[0.0, np.diff(within)]
    increment[offsets[:-1]] = 0.0  # nothing is paid between the end of one road and the next
    return 2.0 * geom_of_point + fraction, np.cumsum(np.maximum(increment, 0.0))


def _with_effects(keys, cumulative, effects: RoadEffects):
    """The profile with the effects' stretch ends as extra points, each piece of road scaled by
    the largest factor over it; and the blocked stretches as sorted, merged key intervals."""
    lo = 2.0 * effects.geom + np.minimum(effects.start, effects.end)
    hi = 2.0 * effects.geom + np.maximum(effects.start, effects.end)
    all_keys = np.unique(np.r_[keys, lo, hi])
    base = np.interp(all_keys, keys, cumulative)
    factor = np.ones(len(all_keys) - 1)
    slow = np.isfinite(effects.factor)
    first = np.searchsorted(all_keys, lo[slow], side="left")
    last = np.searchsorted(all_keys, hi[slow], side="left")
    counts = last - first
    pieces = np.repeat(first, counts) + np.arange(counts.sum()) - np.repeat(
        np.cumsum(counts) - counts, counts)
    np.maximum.at(factor, pieces, np.repeat(effects.factor[slow], counts))
    scaled = np.r_[0.0, np.cumsum(np.diff(base) * factor)]
    return all_keys, scaled, _merged_intervals(lo[~slow], hi[~slow])


def _merged_intervals(lo, hi) -> np.ndarray:
    if len(lo) == 0:
        return np.empty((0, 2))
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    new = np.r_[True, lo[1:] > reach[:-1]]
    first = np.flatnonzero(new)
    return np.column_stack([lo[first], np.maximum.reduceat(hi, first)])


# Profiles are read-only once built; a race builds one twice, harmlessly. Keyed weakly by the
# network (and the effects), so they go when those do.
_base_profiles: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_effect_profiles: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _base_profile(net: RoadNetwork, weight: str) -> _Profile:
    per_net = _base_profiles.setdefault(net, {})
    if weight not in per_net:
        per_net[weight] = _Profile(net, weight, None)
    return per_net[weight]


def _effect_profile(net: RoadNetwork, weight: str, effects: RoadEffects) -> _Profile:
    per_net = _effect_profiles.setdefault(effects, weakref.WeakKeyDictionary()).setdefault(net, {})
    if weight not in per_net:
        per_net[weight] = _Profile(net, weight, effects)
    return per_net[weight]


@dataclass(frozen=True, eq=False)
class EdgeCosts:
    """Per-edge search costs (:attr:`full`, what the kernel uses) and exact costs of parts of
    edges. Build with :func:`edge_costs`."""

    net: RoadNetwork
    weight: str
    profile: _Profile
    scale: np.ndarray | None  # whole-edge factors given per edge, or None
    closed: np.ndarray | None  # whole edges closed per edge, or None

    @cached_property
    def full(self) -> np.ndarray:
        costs = self.profile.edge_costs
        if self.scale is not None:
            costs = costs * self.scale
        if self.closed is not None:
            costs = np.where(self.closed, np.inf, costs)
        if costs.flags.writeable:
            costs.flags.writeable = False  # lets the kernel keep them loaded between queries
        return costs

    @property
    def closes_any(self) -> bool:
        """Whether some edge cannot be used (blocked, whole or in part): then "not reached"
        may mean "cut off". Known without scanning the edges on every query."""
        return self.profile.closes_roads or (self.closed is not None and bool(self.closed.any()))

    @property
    def keys_xy(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y (projected) at each of the profile's keys (every road point and effect
        boundary), made once per profile."""
        if self.profile.keys_xy is None:
            keys, x, y = road_points(self.net)
            self.profile.keys_xy = ((x, y) if self.profile.keys is keys else
                                    (np.interp(self.profile.keys, keys, x),
                                     np.interp(self.profile.keys, keys, y)))
        return self.profile.keys_xy

    @cached_property
    def kernel_arrays(self) -> tuple[np.ndarray, ...]:
        """What compiled loops need to cost parts of edges, as one tuple (see
        :mod:`geo.analysis.stretch_kernel`): the keys (``2·geometry + fraction``) of every road
        point and effect boundary, ascending, with the cumulative cost at each before whole-edge
        factors (linear between two keys of one road), where each road's keys begin (one more
        entry: the end), the blocked stretches as sorted, merged key intervals (starts, ends),
        and per edge its geometry, :attr:`full` cost, whole-edge factor and closure (these two
        empty when none are given)."""
        scale = np.empty(0) if self.scale is None else np.asarray(self.scale, dtype=float)
        closed = (np.empty(0, dtype=bool) if self.closed is None
                  else np.asarray(self.closed, dtype=bool))
        return (self.profile.keys, self.profile.cumulative, self.profile.road_first,
                self.profile.block_start, self.profile.block_end,
                np.asarray(self.net.edge_geom), self.full, scale, closed)

    def span(self, edges, lo, hi) -> np.ndarray:
        """Cost of travelling ``edges`` over geometry fractions ``lo..hi`` (lo ≤ hi) of their
        roads, in either direction; inf where the edge is missing (-1) or blocked there. A span
        of zero length costs nothing: a point on a node is at that node."""
        edges = np.asarray(edges)
        lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
        cost = self.profile.between(self.net.edge_geom[np.maximum(edges, 0)], lo, hi)
        return self._on_edges(edges, cost, hi <= lo)

    def from_point(self, edges, snapped: Snapped, points, *, towards_end: bool) -> np.ndarray:
        """:meth:`span` from each snapped point to its road's end (``towards_end``) or start,
        along ``edges``."""
        edges = np.asarray(edges)
        cost = self.profile.point_to_end(snapped, points, towards_end=towards_end)
        f = snapped.fraction[points]
        return self._on_edges(edges, cost, f >= 1 if towards_end else f <= 0)

    def _on_edges(self, edges, cost, empty) -> np.ndarray:
        """Road costs as travelled on ``edges``: scaled per edge, inf on a missing (-1) or
        closed edge, except that an empty stretch costs nothing."""
        exists = edges >= 0
        safe = np.where(exists, edges, 0)
        if self.scale is not None:
            cost = cost * self.scale[safe]
        usable = exists if self.closed is None else exists & ~self.closed[safe]
        return np.where(empty, 0.0, np.where(usable, cost, np.inf))


def road_points(net: RoadNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key, x, y) of every point of ``net.geom_xy`` (keys ``2·geometry + fraction``, ascending),
    as contiguous arrays made once per network."""
    found = _road_points.get(net)
    if found is None:
        xy = np.asarray(net.geom_xy, dtype=float)
        found = _road_points[net] = (_base_profile(net, "length_m").keys,
                                     np.ascontiguousarray(xy[:, 0]),
                                     np.ascontiguousarray(xy[:, 1]))
    return found


_road_points: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def edge_costs(net: RoadNetwork, *, weight: str = "travel_time_s", blocked=None,
               cost_scale=None, effects: RoadEffects | None = None) -> EdgeCosts:
    """Search costs of ``weight``: with ``effects`` (stretches blocked or slowed, from hazards
    and barriers), ``cost_scale`` (a factor per edge) and ``blocked`` (whole edges closed)."""
    if weight not in WEIGHTS:
        raise ValidationError(
            f"weight: unknown weight {weight!r}; expected one of {', '.join(WEIGHTS)}")
    scale = closed = None
    if cost_scale is not None:
        scale = _edge_array(net, cost_scale, "cost_scale", float)
        if not (np.isfinite(scale).all() and (scale > 0).all()):
            raise ValidationError("cost_scale: factors must be finite and positive "
                                  "(use blocked= for impassable edges)")
    if blocked is not None:
        closed = _edge_array(net, blocked, "blocked", bool)
    if effects is not None and len(effects) and (
            (effects.geom < 0).any() or (effects.geom >= net.n_geometries).any()):
        raise ValidationError("effects.geom: road geometry ids must be in the network")
    profile = (_base_profile(net, weight) if effects is None or len(effects) == 0
               else _effect_profile(net, weight, effects))
    return EdgeCosts(net, weight, profile, scale, closed)


def _edge_array(net: RoadNetwork, values, name: str, dtype) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.shape != (net.n_edges,):
        raise ValidationError(f"{name}: expected one value per edge ({net.n_edges}), "
                              f"got shape {array.shape}")
    return array
