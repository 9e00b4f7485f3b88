"""Independent references for tests: networkx graphs built straight from the network arrays."""

import networkx as nx
import numpy as np


def split_graph(net, points: dict, costs=None) -> nx.MultiDiGraph:
    """networkx graph of ``net`` with each snapped point inserted as a node on its road.

    ``points`` maps a node name to a one-point Snapped. Each edge through a point's road is cut
    in proportion to where the point lies; edges whose cost is inf (blocked) are left out. Built
    without the routing code, so it checks it.
    """
    costs = np.asarray(net.edge_travel_time_s if costs is None else costs, dtype=float)
    cut = {}
    for name, snapped in points.items():
        if snapped.on_network[0]:
            cut.setdefault(int(snapped.geom[0]), []).append((float(snapped.fraction[0]), name))
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(points)
    for name, snapped in points.items():
        # A point exactly at a road's end *is* at that junction, whatever the road's direction.
        forward = int(net.geom_edges[snapped.geom[0], 0])
        for at, node in ((0.0, net.edge_tail[forward]), (1.0, net.edge_head[forward])):
            if snapped.on_network[0] and snapped.fraction[0] == at:
                graph.add_edge(int(node), name, weight=0.0)
                graph.add_edge(name, int(node), weight=0.0)
    for e in range(net.n_edges):
        if not np.isfinite(costs[e]):
            continue
        u, v, t = int(net.edge_tail[e]), int(net.edge_head[e]), float(costs[e])
        flip = bool(net.edge_reversed[e])
        on_road = cut.get(int(net.edge_geom[e]), [])
        stops = sorted(((1 - f if flip else f), name) for f, name in on_road)
        previous, previous_at = u, 0.0
        for at, name in stops:
            graph.add_edge(previous, name, weight=(at - previous_at) * t)
            previous, previous_at = name, at
        graph.add_edge(previous, v, weight=(1 - previous_at) * t)
    return graph


def path_cost(graph, source, target) -> float:
    try:
        return nx.dijkstra_path_length(graph, source, target)
    except nx.NetworkXNoPath:
        return np.inf
