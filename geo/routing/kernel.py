"""The shortest-path kernel: scipy's compiled Dijkstra on reusable CSR buffers.

Building a CSR matrix per query costs several times the search itself on a large network, and a
search from snapped points needs extra "virtual" rows for the points. So each thread keeps, per
network and direction, one set of buffers laid out as the network's CSR followed by spare room
for virtual rows: a query writes only the rows of its points (and the edge costs when they
differ from the last query's) and hands scipy views of the buffers. Buffers are thread-local
because concurrent requests must not share them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geo.network.model import RoadNetwork

_local = threading.local()
# scipy-stubs type dijkstra's result per literal flag; the flags here are runtime values.
_dijkstra: Callable[..., Any] = dijkstra


class _Buffers:
    """CSR arrays of one network in one direction, with room for ``capacity`` virtual rows."""

    def __init__(self, net: RoadNetwork, reverse: bool, capacity: int):
        indptr, targets, edges = net.csr_layout(reverse=reverse)
        self.order = np.asarray(edges, dtype=np.int64)
        self.n_nodes, self.n_edges = net.n_nodes, net.n_edges
        self.capacity = capacity
        self.indptr = np.empty(self.n_nodes + 1 + capacity, dtype=np.int32)
        self.indptr[: self.n_nodes + 1] = indptr
        self.indices = np.empty(self.n_edges + 2 * capacity, dtype=np.int32)
        self.indices[: self.n_edges] = targets
        self.data = np.empty(self.n_edges + 2 * capacity)
        self.loaded: np.ndarray | None = None  # the costs whose values data[:n_edges] holds

    def load(self, costs: np.ndarray) -> None:
        if self.loaded is not costs:
            self.data[: self.n_edges] = costs[self.order]
            self.loaded = costs if costs.flags.writeable is False else None

    def graph(self, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> sp.csr_array:
        """The CSR with one virtual row per (targets, costs) pair appended."""
        n, e = self.n_nodes, self.n_edges
        at = e
        for i, (targets, costs) in enumerate(rows):
            self.indices[at: at + len(targets)] = targets
            self.data[at: at + len(targets)] = costs
            at += len(targets)
            self.indptr[n + 1 + i] = at
        size = n + len(rows)
        return sp.csr_array((self.data[:at], self.indices[:at], self.indptr[: size + 1]),
                            shape=(size, size))


def _buffers(net: RoadNetwork, reverse: bool, capacity: int) -> _Buffers:
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = weakref.WeakKeyDictionary()
    per_net = cache.setdefault(net, {})
    buffers = per_net.get(reverse)
    if buffers is None or buffers.capacity < capacity:
        buffers = per_net[reverse] = _Buffers(net, reverse, max(capacity, 64))
    return buffers


def loaded_csr(net: RoadNetwork, costs: np.ndarray, *,
               reverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's CSR (indptr, target nodes, ``costs`` in CSR order), in reverse when
    ``reverse``: views of this thread's buffers (see :mod:`geo.routing.compiled_search`)."""
    buffers = _buffers(net, reverse, 0)
    buffers.load(costs)
    n, e = buffers.n_nodes, buffers.n_edges
    return buffers.indptr[: n + 1], buffers.indices[:e], buffers.data[:e]


def search(net: RoadNetwork, costs: np.ndarray, sources, *, reverse: bool,
           virtual_rows: Sequence[tuple[np.ndarray, np.ndarray]] = (), limit: float = np.inf,
           min_only: bool = False, return_predecessors: bool = False) -> Any:
    """Dijkstra from ``sources`` over the network's edges with ``costs`` (in reverse when
    ``reverse``), plus virtual nodes ``n_nodes + i`` whose out-links are ``virtual_rows[i]``
    = (target nodes, link costs)."""
    buffers = _buffers(net, reverse, len(virtual_rows))
    buffers.load(costs)
    return _dijkstra(buffers.graph(virtual_rows), directed=True, indices=sources, limit=limit,
                     min_only=min_only, return_predecessors=return_predecessors)
