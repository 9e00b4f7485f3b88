"""The compiled bounded search (service areas' kernel) against networkx on the network cut back
into its OSM segments, and against scipy's kernel on the same queries."""

import threading

import networkx as nx
import numpy as np
import pytest

from geo.routing.search import cost_to_points, edge_costs, search_from_points
from geo.routing.snapping import snap_points
from tests.analysis_inputs import points_along_roads
from tests.reference import split_graph

CASES = [(region, mode) for region in ("liechtenstein", "monaco") for mode in ("drive", "walk")]


def _query(net, rng, n_points):
    """Snapped points on the network, start costs, effects and a cutoff drawn at random."""
    lon, lat = points_along_roads(net, n_points, rng, offset_m=5.0)
    snapped = snap_points(net, lon, lat)
    start = rng.choice([0.0, 30.0, 120.0], n_points)
    blocked = rng.random(net.n_edges) < 0.05 if rng.random() < 0.5 else None
    scale = rng.uniform(1.0, 2.0, net.n_edges) if rng.random() < 0.5 else None
    cutoff = float(rng.choice([120.0, 300.0, 900.0, 3600.0]))
    return snapped, start, edge_costs(net, blocked=blocked, cost_scale=scale), cutoff


def _networkx_costs(net, snapped, start, costs, cutoff, reverse):
    """Costs of every network node from the nearest point, start cost included (to it, when
    reverse), by networkx on the split graph with a super-source joined to the points."""
    names = {f"P{i}": snapped.take([i]) for i in range(len(snapped))}
    graph = split_graph(net, names, np.asarray(costs.full))
    if reverse:
        graph = graph.reverse(copy=True)
    for i, name in enumerate(names):
        graph.add_edge("SOURCE", name, weight=float(start[i]))
    found = nx.single_source_dijkstra_path_length(graph, "SOURCE", cutoff=cutoff)
    expected = np.full(net.n_nodes, np.inf)
    for node, cost in found.items():
        if isinstance(node, (int, np.integer)):
            expected[node] = cost
    return expected


@pytest.mark.parametrize("region, mode", CASES)
def test_reached_costs_equal_networkx_with_start_costs_effects_and_cutoffs(networks, region,
                                                                           mode, rng):
    net = networks(region, mode)
    for trial in range(4):
        snapped, start, costs, cutoff = _query(net, rng, 1 + trial)
        reverse = bool(trial % 2)
        search = search_from_points(net, snapped, costs=costs, start_cost=start, cutoff=cutoff,
                                    reverse=reverse, compiled=True)
        expected = _networkx_costs(net, snapped, start, costs, cutoff, reverse)
        np.testing.assert_allclose(search.cost, expected, atol=1e-6, rtol=0)
        # only the reached nodes are kept, each once, by ascending cost
        reached = search.reached
        assert reached is not None
        np.testing.assert_array_equal(np.sort(reached.node), np.flatnonzero(np.isfinite(expected)))
        assert (np.diff(reached.cost) >= 0).all() and (reached.cost <= cutoff).all()


@pytest.mark.parametrize("region, mode", CASES)
def test_same_answers_as_scipy_kernel(networks, region, mode, rng):
    net = networks(region, mode)
    for trial in range(6):
        snapped, start, costs, cutoff = _query(net, rng, 1 + 2 * trial)
        reverse = bool(trial % 2)
        kw = {"costs": costs, "start_cost": start, "cutoff": cutoff, "reverse": reverse}
        ours = search_from_points(net, snapped, compiled=True, **kw)
        scipy_search = search_from_points(net, snapped, **kw)
        np.testing.assert_allclose(ours.cost, scipy_search.cost, atol=1e-9, rtol=0)
        reached = np.isfinite(scipy_search.cost)
        # the source is the nearest point's (either one where two are equally near)
        second = _second_nearest(net, snapped, kw)
        unique = reached & (second > scipy_search.cost + 1e-6)
        np.testing.assert_array_equal(ours.source[unique], scipy_search.source[unique])
        _check_search_tree(net, ours, costs)
        # reached points and their sources, from the reached nodes alone and from the arrays
        targets = snap_points(net, *points_along_roads(net, 30, rng))
        sparse = cost_to_points(net, search_from_points(net, snapped, compiled=True, **kw),
                                targets)
        full = cost_to_points(net, scipy_search, targets)
        np.testing.assert_allclose(sparse[0], full[0], atol=1e-9, rtol=0)


def _second_nearest(net, snapped, kw):
    """Per node, the cost from the second nearest point (inf with one point)."""
    each = np.stack([search_from_points(net, snapped.take([i]), **{
        **kw, "start_cost": kw["start_cost"][[i]]}).cost for i in range(len(snapped))])
    return np.sort(each, axis=0)[1] if len(each) > 1 else np.full(net.n_nodes, np.inf)


def _check_search_tree(net, search, costs):
    """Every reached node's predecessor is a reached node (or its point) one edge before it, at
    that edge's cost; the points it leads back to are the nodes' sources."""
    n = net.n_nodes
    reached = search.reached
    by_pair = {}
    full = np.asarray(costs.full)
    for e in range(net.n_edges):
        tail, head = int(net.edge_tail[e]), int(net.edge_head[e])
        a, b = (head, tail) if search.reverse else (tail, head)
        by_pair[(a, b)] = min(by_pair.get((a, b), np.inf), full[e])
    for node, cost, source, before in zip(reached.node, reached.cost, reached.source,
                                          reached.predecessor):
        if before >= n:
            assert before - n == source
            continue
        assert search.source[before] == source
        assert cost == pytest.approx(search.cost[before] + by_pair[(int(before), int(node))],
                                     abs=1e-9)


def test_a_search_leaves_nothing_behind_for_the_next(li_walk, rng):
    """Searches share their scratch arrays per thread: a wide search followed by a narrow one,
    and the same narrow one again, give the narrow one's answer."""
    net = li_walk
    snapped, start, costs, _ = _query(net, rng, 3)
    narrow = {"costs": costs, "start_cost": start, "cutoff": 120.0}
    alone = search_from_points(net, snapped, compiled=True, **narrow)
    search_from_points(net, snapped.take([0]), costs=costs, cutoff=7200.0, compiled=True)
    after = search_from_points(net, snapped, compiled=True, **narrow)
    for field in ("node", "cost", "source", "predecessor"):
        np.testing.assert_array_equal(getattr(after.reached, field),
                                      getattr(alone.reached, field))


def test_threads_searching_at_once_get_their_own_answers(li_walk, rng):
    net = li_walk
    queries = [_query(net, rng, 2) for _ in range(4)]

    def ask(query):
        snapped, start, costs, cutoff = query
        return search_from_points(net, snapped, costs=costs, start_cost=start,
                                  cutoff=cutoff, compiled=True).cost

    expected = [ask(query) for query in queries]
    results: dict[int, list] = {i: [] for i in range(len(queries))}

    def work(i):
        for _ in range(20):
            results[i].append(ask(queries[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(queries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, answers in results.items():
        for answer in answers:
            np.testing.assert_array_equal(answer, expected[i])
