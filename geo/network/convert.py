"""The network as other libraries' graphs, for reference tests and benchmarks (queries never use
these: they run on :mod:`geo.routing.kernel`)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from geo.network.model import RoadNetwork


def to_csr(net: RoadNetwork, weights: np.ndarray, *, reverse: bool = False) -> sp.csr_array:
    """Node-to-node adjacency weighted by ``weights[e]``, one entry per edge (parallel edges
    kept), forward or reversed."""
    indptr, targets, edges = net.csr_layout(reverse=reverse)
    return sp.csr_array((weights[edges], targets, indptr), shape=(net.n_nodes, net.n_nodes))


def to_networkx(net: RoadNetwork) -> nx.MultiDiGraph:
    """The same graph as a networkx MultiDiGraph: nodes ``0..n_nodes-1``, one edge per network
    edge keyed by its index, with ``travel_time_s`` and ``length_m``."""
    graph: nx.MultiDiGraph = nx.MultiDiGraph(crs=net.crs)
    graph.add_nodes_from(range(net.n_nodes))
    # The stubs know (u, v) and (u, v, data) only; a multigraph also takes (u, v, key, data).
    graph.add_edges_from(
        (int(u), int(v), int(e), {"travel_time_s": float(t), "length_m": float(m)})  # type: ignore[misc]
        for e, (u, v, t, m) in enumerate(zip(net.edge_tail, net.edge_head,
                                              net.edge_travel_time_s, net.edge_length_m)))
    return graph
