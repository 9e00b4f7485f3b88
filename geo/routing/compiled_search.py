"""A bounded multi-source Dijkstra compiled with numba, for searches that reach a small part of a
large network (service areas: a 15-minute walk reaches a few hundred of 250,000 nodes).

scipy's Dijkstra (:mod:`geo.routing.kernel`, everything else's kernel) sets up every node of the
network on each call, and answers with arrays over every node: about 2 ms on a 250,000-node
network, most of a walking area's search. This one touches only what it reaches: its per-node
scratch arrays are kept per thread and network between searches (only the entries a search
wrote are reset), and it answers with the reached nodes alone, in the order it settled them
(ascending cost), so the nodes within any smaller budget are a prefix.

Only modules that already import numba use it (service areas), so that a dispatch does not pay
for importing numba; the tests hold both kernels to networkx.
"""

from __future__ import annotations

import threading
import weakref

import numba
import numpy as np

from geo.network.model import RoadNetwork
from geo.routing import kernel

NO_PREDECESSOR = -9999  # scipy's marker, kept so that both kernels' answers read the same

_local = threading.local()


def search_within(net: RoadNetwork, costs: np.ndarray, link_nodes: np.ndarray,
                  link_costs: np.ndarray, link_points: np.ndarray, *, reverse: bool,
                  limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The nodes within ``limit`` of virtual source points (of which the points are within
    ``limit``, when ``reverse``): point ``link_points[i]`` reaches node ``link_nodes[i]`` at
    ``link_costs[i]``.

    Returns (node, cost, point, predecessor), one entry per reached node by ascending cost: the
    index of the point it is reached from, and the node before it (``n_nodes + point`` for a
    node linked to its point directly, as scipy numbers virtual nodes)."""
    indptr, targets, data = kernel.loaded_csr(net, costs, reverse=reverse)
    return _dijkstra(indptr, targets, data, _scratch(net),
                     np.asarray(link_nodes, dtype=np.int64),
                     np.asarray(link_costs, dtype=np.float64),
                     np.asarray(link_points, dtype=np.int64), float(limit))


def _scratch(net: RoadNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This thread's (cost, point, predecessor) arrays over the network's nodes; cost is inf
    everywhere between searches."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = weakref.WeakKeyDictionary()
    scratch = cache.get(net)
    if scratch is None:
        n = net.n_nodes
        scratch = cache[net] = (np.full(n, np.inf), np.empty(n, dtype=np.int64),
                                np.empty(n, dtype=np.int64))
    return scratch


@numba.njit(cache=True, nogil=True)
def _dijkstra(indptr, targets, data, scratch, link_nodes, link_costs, link_points,
              limit):  # pragma: no cover
    cost, point, predecessor = scratch
    n_nodes = len(cost)
    settled = np.empty(64, dtype=np.int64)
    done = 0
    # A binary heap of (cost, node); a node reached again more cheaply is pushed again and its
    # stale entry skipped when popped.
    heap_cost = np.empty(64)
    heap_node = np.empty(64, dtype=np.int64)
    size = 0
    for i in range(len(link_nodes)):
        node, c = link_nodes[i], link_costs[i]
        if c < cost[node] and c <= limit:
            cost[node] = c
            point[node] = link_points[i]
            predecessor[node] = n_nodes + link_points[i]
            heap_cost, heap_node, size = _push(heap_cost, heap_node, size, c, node)
    while size > 0:
        c, node = heap_cost[0], heap_node[0]
        size = _pop(heap_cost, heap_node, size)
        if c > cost[node]:
            continue
        if done == len(settled):
            settled = _grown(settled)
        settled[done] = node
        done += 1
        for slot in range(indptr[node], indptr[node + 1]):
            target = targets[slot]
            reached = c + data[slot]
            if reached < cost[target] and reached <= limit:
                cost[target] = reached
                point[target] = point[node]
                predecessor[target] = node
                heap_cost, heap_node, size = _push(heap_cost, heap_node, size, reached, target)
    nodes = settled[:done].copy()
    answer = (nodes, cost[nodes], point[nodes], predecessor[nodes])
    cost[nodes] = np.inf  # every node written was settled: the scratch is clean again
    return answer


@numba.njit(cache=True, nogil=True)
def _grown(values):  # pragma: no cover
    grown = np.empty(2 * len(values), dtype=values.dtype)
    grown[: len(values)] = values
    return grown


@numba.njit(cache=True, nogil=True)
def _push(heap_cost, heap_node, size, c, node):  # pragma: no cover
    if size == len(heap_cost):
        heap_cost, heap_node = _grown(heap_cost), _grown(heap_node)
    at = size
    while at > 0:
        parent = (at - 1) // 2
        if heap_cost[parent] <= c:
            break
        heap_cost[at], heap_node[at] = heap_cost[parent], heap_node[parent]
        at = parent
    heap_cost[at], heap_node[at] = c, node
    return heap_cost, heap_node, size + 1


@numba.njit(cache=True, nogil=True)
def _pop(heap_cost, heap_node, size):  # pragma: no cover
    """Remove the top entry; returns the new size."""
    size -= 1
    c, node = heap_cost[size], heap_node[size]
    at = 0
    while True:
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and heap_cost[child + 1] < heap_cost[child]:
            child += 1
        if heap_cost[child] >= c:
            break
        heap_cost[at], heap_node[at] = heap_cost[child], heap_node[child]
        at = child
    if size > 0:
        heap_cost[at], heap_node[at] = c, node
    return size
