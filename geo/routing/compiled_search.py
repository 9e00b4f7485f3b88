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


# Written as one loop: numba counts references to arrays handed to a compiled function it does
# not inline, or reassigned in a loop (growing an array as needed), and either doubled the time
# of a search reaching 50,000 nodes. So the arrays are made as large as they can need to be:
# untouched memory costs nothing.
@numba.njit(cache=True, nogil=True)
def _dijkstra(indptr, targets, data, scratch, link_nodes, link_costs, link_points,
              limit):  # pragma: no cover
    cost, point, predecessor = scratch
    n_nodes = len(cost)
    settled = np.empty(n_nodes, dtype=np.int64)
    done = 0
    # A binary heap of (cost, node); a node reached again more cheaply is added again and its
    # stale entry skipped when it comes up. Each link and each edge adds at most one entry.
    heap_cost = np.empty(len(link_nodes) + len(targets))
    heap_node = np.empty(len(link_nodes) + len(targets), dtype=np.int64)
    size = 0
    for i in np.argsort(link_costs):  # in ascending order: a valid heap as it stands
        node, c = link_nodes[i], link_costs[i]
        if c < cost[node] and c <= limit:
            cost[node] = c
            point[node] = link_points[i]
            predecessor[node] = n_nodes + link_points[i]
            heap_cost[size], heap_node[size] = c, node
            size += 1
    while size > 0:
        c, node = heap_cost[0], heap_node[0]
        size -= 1
        last_cost, last_node = heap_cost[size], heap_node[size]
        at = 0
        while True:  # the last entry down from the top
            child = 2 * at + 1
            if child >= size:
                break
            if child + 1 < size and heap_cost[child + 1] < heap_cost[child]:
                child += 1
            if heap_cost[child] >= last_cost:
                break
            heap_cost[at], heap_node[at] = heap_cost[child], heap_node[child]
            at = child
        heap_cost[at], heap_node[at] = last_cost, last_node
        if c > cost[node]:
            continue
        settled[done] = node
        done += 1
        for slot in range(indptr[node], indptr[node + 1]):
            target = targets[slot]
            reached = c + data[slot]
            if not (reached < cost[target] and reached <= limit):
                continue
            cost[target] = reached
            point[target] = point[node]
            predecessor[target] = node
            at = size
            size += 1
            while at > 0:  # the new entry up from the bottom
                parent = (at - 1) >> 1
                if heap_cost[parent] <= reached:
                    break
                heap_cost[at], heap_node[at] = heap_cost[parent], heap_node[parent]
                at = parent
            heap_cost[at], heap_node[at] = reached, target
    nodes = settled[:done].copy()
    answer = (nodes, cost[nodes], point[nodes], predecessor[nodes])
    cost[nodes] = np.inf  # every node written was settled: the scratch is clean again
    return answer
