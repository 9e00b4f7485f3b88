"""Travel costs between many origins and many destinations, holding only the pairs within a cutoff.

The siting models and any "who can reach what" table need the cost of every origin–destination
pair within a bound, and nothing beyond it. :func:`cost_matrix` runs one bounded search per point
of the smaller side (over the reverse graph when that side is the arriving one), several searches
per kernel call, and reads each search's cost at every point of the other side at once, so there
is no Python loop over pairs. Both sides are snapped the same way as everywhere else: a point
joins the network part-way along its road, and two points on the same road also reach each other
along it directly.

Rows are origins, columns destinations, and ``direction`` says which way is travelled:

- ``"from"``: ``costs[i, j]`` is the cost of travelling from origin ``i`` to destination ``j``;
- ``"to"``: ``costs[i, j]`` is the cost of travelling from destination ``j`` to origin ``i``
  (so ``direction="to"`` equals the transpose of ``"from"`` with the two sides swapped).

For siting, make the demand the origins and the candidate sites the destinations: the matrix is
then demand × sites, the layout a p-median or maximal-covering model takes (as spopt's
``from_cost_matrix``), whichever way people move. People walking to a shelter use
``direction="from"`` (from their homes to the shelter); teams or supplies driven out from a depot
use ``direction="to"`` (arriving at the demand). On one-way streets the two differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo.core.validate import (
    check_choice,
    check_coordinates,
    check_cutoff,
    check_positive,
    lonlat_points,
)
from geo.network.model import RoadNetwork
from geo.routing import kernel
from geo.routing.costs import WEIGHTS, EdgeCosts, RoadEffects, edge_costs
from geo.routing.search import road_links, same_road, virtual_rows
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, Snapped, snap_points

DIRECTIONS = ("from", "to")

# Searches per kernel call are bounded so that one call's dense arrays (searches × nodes, and
# searches × points of the other side) hold about this many float64 values (32 MB).
_CHUNK_VALUES = 1 << 22


@dataclass(frozen=True, eq=False)  # compared by identity: arrays have no single truth value
class CostMatrix:
    """Costs between origins (rows) and destinations (columns), within the cutoff only.

    ``costs`` stores exactly the pairs within ``cutoff_s``, each as an explicit entry, **a cost
    of 0 included** (a destination at the origin's own position): a stored 0 means "0 s", an
    absent entry means "not within the cutoff" (or a point off the network). So never read it
    with ``costs.toarray()`` or ``costs[i, j]`` (both show absent pairs as 0) nor call
    ``eliminate_zeros()``; use :attr:`within` for the pattern, :meth:`to_dense` (absent → inf,
    or another ``fill``) or :meth:`pairs`. ``cutoff_s`` and the costs are in the unit of
    ``weight``: seconds for ``"travel_time_s"``, metres for ``"length_m"``.

    ``origin_snap`` / ``destination_snap`` are the snapping results: a point whose ``status``
    is not ``"ok"`` (``"far"`` from every road, or on an ``"island"`` cut off from the network,
    see ``snap_m`` and ``island_m``) has an empty row or column.
    """

    costs: sp.csr_array
    origin_ids: list
    destination_ids: list
    origin_snap: Snapped
    destination_snap: Snapped
    cutoff_s: float | None
    direction: str
    weight: str = "travel_time_s"

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.origin_ids), len(self.destination_ids)

    @property
    def within(self) -> sp.csr_array:
        """Boolean sparse pattern: True exactly at the pairs within the cutoff."""
        return sp.csr_array((np.ones(self.costs.nnz, dtype=bool), self.costs.indices.copy(),
                             self.costs.indptr.copy()), shape=self.shape)

    def to_dense(self, fill: float = np.inf) -> np.ndarray:
        """The full matrix, ``fill`` where a pair is not within the cutoff."""
        dense = np.full(self.shape, fill, dtype=float)
        rows, cols = self._coordinates()
        dense[rows, cols] = self.costs.data
        return dense

    def pairs(self) -> pd.DataFrame:
        """One row per pair within the cutoff: ``origin``, ``destination`` (ids) and the cost
        (a column named after ``weight``), ordered by origin then destination."""
        rows, cols = self._coordinates()
        return pd.DataFrame({
            "origin": pd.Series(self.origin_ids, dtype=object).to_numpy()[rows],
            "destination": pd.Series(self.destination_ids, dtype=object).to_numpy()[cols],
            self.weight: self.costs.data.copy(),
        })

    def _coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.costs.indptr))
        return rows, self.costs.indices


def cost_matrix(net: RoadNetwork, origins, destinations, *, cutoff_s: float | None,
                direction: str = "from", weight: str = "travel_time_s", blocked=None,
                cost_scale=None, effects: RoadEffects | None = None,
                max_snap_m: float = DEFAULT_MAX_SNAP_M) -> CostMatrix:
    """Costs between every origin and destination within ``cutoff_s`` (see the module notes).

    ``origins`` and ``destinations`` are points: a GeoDataFrame in any CRS (its index gives the
    ids) or ``(lon_array, lat_array)`` (ids 0..n-1). ``cutoff_s`` bounds every search (None: no
    bound, every reachable pair is stored). ``weight`` ``"travel_time_s"`` or ``"length_m"``;
    ``effects`` (stretches of road blocked or slowed), ``blocked`` (one bool per edge) and
    ``cost_scale`` (one factor per edge) apply barriers and hazards as in every other search.
    Points farther than ``max_snap_m`` from the network get an empty row or column.
    """
    check_choice("direction", direction, DIRECTIONS)
    check_choice("weight", weight, WEIGHTS)
    limit = check_cutoff("cutoff_s", cutoff_s)
    max_snap_m = check_positive("max_snap_m", max_snap_m)
    snaps, ids = [], []
    for name, points in (("origins", origins), ("destinations", destinations)):
        point_ids, lon, lat = lonlat_points(points, name=name)
        check_coordinates(name, lon, lat, point_ids)
        ids.append(point_ids)
        snaps.append(snap_points(net, lon, lat, max_snap_m=max_snap_m))
    costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale,
                       effects=effects)
    origin_snap, destination_snap = snaps
    forward = direction == "from"
    # Search from the side with fewer usable points: from origins along the travel direction, or
    # from destinations against it (over the reverse graph), and vice versa for "to".
    from_origins = origin_snap.on_network.sum() <= destination_snap.on_network.sum()
    sources, targets = (origin_snap, destination_snap) if from_origins else (
        destination_snap, origin_snap)
    s, t, cost = _costs_between(net, costs, sources, targets, reverse=bool(forward != from_origins),
                                limit=limit)
    rows, cols = (s, t) if from_origins else (t, s)
    matrix = _csr(rows, cols, cost, (len(origin_snap), len(destination_snap)))
    return CostMatrix(matrix, ids[0], ids[1], origin_snap, destination_snap,
                      None if cutoff_s is None else limit, direction, weight)


def _costs_between(net: RoadNetwork, costs: EdgeCosts, sources: Snapped, targets: Snapped, *,
                   reverse: bool, limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, target, cost) of every pair within ``limit``: one search per source (towards it
    when ``reverse``), a chunk of searches per kernel call."""
    n = net.n_nodes
    source_points = np.flatnonzero(sources.on_network)
    target_points = np.flatnonzero(targets.on_network)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(source_points) == 0 or len(target_points) == 0:
        return _concat(found)
    # How each target joins its road (the same links cost_to_points uses).
    (a_node, a_link, _), (b_node, b_link, _) = road_links(net, costs, targets, target_points,
                                                          leaving=reverse)
    chunk = max(1, _CHUNK_VALUES // (n + len(target_points)))
    for start in range(0, len(source_points), chunk):
        batch = source_points[start: start + chunk]
        k = len(batch)
        rows = virtual_rows(net, costs, sources.take(batch), np.arange(k), reverse, np.zeros(k))
        node_cost = kernel.search(net, costs.full, n + np.arange(k), reverse=reverse,
                                  virtual_rows=rows, limit=limit).reshape(k, -1)
        total = np.minimum(node_cost[:, a_node] + a_link, node_cost[:, b_node] + b_link)
        del node_cost
        # Points on the same road also reach each other along it.
        s, t, direct, _ = same_road(net, costs, sources, batch, targets, target_points,
                                    reverse=reverse)
        if len(s):
            r, c = np.searchsorted(batch, s), np.searchsorted(target_points, t)
            total[r, c] = np.minimum(total[r, c], direct)
        r, c = np.nonzero((total <= limit) & np.isfinite(total))
        found.append((batch[r], target_points[c], total[r, c]))
    return _concat(found)


def _concat(found) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    s, t, cost = zip(*found)
    return np.concatenate(s), np.concatenate(t), np.concatenate(cost)


def _csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
         shape: tuple[int, int]) -> sp.csr_array:
    """A canonical CSR array of the given entries, built directly so that zeros stay stored."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    matrix = sp.csr_array((values[order], cols[order].astype(np.int64), indptr), shape=shape)
    matrix.has_sorted_indices = True
    return matrix
