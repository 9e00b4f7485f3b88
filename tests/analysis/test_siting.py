"""Siting models against a brute force over every combination of sites on small instances.

The references are independent of the code under test: plain numpy over all combinations for
the uncapacitated models, and networkx flows (maximum flow for the capacitated MCLP, minimum-cost
flow for the capacitated p-median) for the best assignment to each combination of sites.
"""

import itertools
import re

import networkx as nx
import numpy as np
import pytest

from geo.analysis.siting import NoSolutionError, SitingMatrix, solve_siting
from geo.errors import ValidationError


def instance(seed: int, n: int = 18, m: int = 7, *, unreachable: float = 0.1):
    """Integer costs (some pairs unreachable) and integer weights."""
    rng = np.random.default_rng(seed)
    demand, sites = rng.random((n, 2)), rng.random((m, 2))
    costs = np.rint(1000 * np.hypot(*(demand[:, None] - sites[None]).transpose(2, 0, 1)))
    costs[rng.random((n, m)) < unreachable] = np.inf
    return costs, rng.integers(1, 50, n).astype(float)


def nearest(costs, sites):
    return costs[:, list(sites)].min(axis=1) if sites else np.full(len(costs), np.inf)


def combinations(m, p, fixed=(), excluded=()):
    free = [j for j in range(m) if j not in fixed and j not in excluded]
    for chosen in itertools.combinations(free, p):
        yield tuple(chosen), tuple(sorted((*fixed, *chosen)))


def brute_mclp(costs, weights, p, cutoff, fixed=(), excluded=()):
    return max((weights * (nearest(costs, open_) <= cutoff)).sum()
               for _, open_ in combinations(costs.shape[1], p, fixed, excluded))


def served_rows(costs, weights, excluded=(), cutoff=np.inf):
    usable = np.delete(costs, list(excluded), axis=1) <= cutoff
    return usable.any(axis=1) & (weights > 0)


def brute_pmedian(costs, weights, p, fixed=(), excluded=()):
    rows = served_rows(costs, weights, excluded)
    return min((weights[rows] * nearest(costs[rows], open_)).sum()
               for _, open_ in combinations(costs.shape[1], p, fixed, excluded))


def brute_pcenter(costs, weights, p, fixed=(), excluded=()):
    rows = served_rows(costs, weights, excluded)
    return min(nearest(costs[rows], open_).max()
               for _, open_ in combinations(costs.shape[1], p, fixed, excluded))


def brute_lscp(costs, weights, cutoff, fixed=(), excluded=()):
    rows = served_rows(costs, weights, excluded, cutoff)
    m = costs.shape[1]
    for count in range(0, m + 1):
        for _, open_ in combinations(m, count, fixed, excluded):
            if (nearest(costs[rows], open_) <= cutoff).all():
                return count
    raise AssertionError("no cover")


def flow_graph(costs, weights, open_, cutoff, capacities):
    graph = nx.DiGraph()
    for i in range(len(costs)):
        graph.add_edge("s", ("d", i), capacity=int(weights[i]), weight=0)
        for j in open_:
            if costs[i, j] <= cutoff:
                graph.add_edge(("d", i), ("c", j), capacity=int(weights[i]),
                               weight=int(costs[i, j]))
    for j in open_:
        graph.add_edge(("c", j), "t", capacity=int(capacities[j]), weight=0)
    return graph


def brute_capacitated_mclp(costs, weights, p, cutoff, capacities, fixed=()):
    return max(nx.maximum_flow_value(flow_graph(costs, weights, open_, cutoff, capacities),
                                     "s", "t")
               for _, open_ in combinations(costs.shape[1], p, fixed))


def brute_capacitated_pmedian(costs, weights, p, capacities, fixed=()):
    best = np.inf
    for _, open_ in combinations(costs.shape[1], p, fixed):
        graph = flow_graph(costs, weights, open_, np.inf, capacities)
        if nx.maximum_flow_value(graph, "s", "t") < weights.sum():
            continue  # these sites cannot hold everyone
        flow = nx.max_flow_min_cost(graph, "s", "t")
        best = min(best, nx.cost_of_flow(graph, flow))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_mclp_equals_brute_force(seed):
    costs, weights = instance(seed)
    matrix = SitingMatrix.from_dense(costs, weights)
    result = solve_siting(matrix, "mclp", p=2, cutoff=350)
    assert result.status == "optimal" and result.gap == 0
    assert result.objective == pytest.approx(brute_mclp(costs, weights, 2, 350))
    # the objective is what the chosen sites really cover
    assert result.objective == pytest.approx(
        (weights * (nearest(costs, result.sites) <= 350)).sum())
    assert len(result.sites) == 2


@pytest.mark.parametrize("seed", range(6))
def test_pmedian_equals_brute_force(seed):
    costs, weights = instance(seed, n=25, m=8)
    result = solve_siting(SitingMatrix.from_dense(costs, weights), "pmedian", p=3)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_pmedian(costs, weights, 3))
    assignment = result.assignment
    # every served point goes to its nearest chosen site
    rows = assignment["demand"].to_numpy(dtype=int)
    assert np.allclose(assignment["cost"], nearest(costs[rows], result.sites))


def test_pmedian_grows_the_truncated_model_until_exact():
    # Many candidates, few sites: the nearest open site of most points lies beyond the first
    # candidates the model holds, so the "farther" variables must be expanded to prove it.
    costs, weights = instance(11, n=40, m=30, unreachable=0.0)
    result = solve_siting(SitingMatrix.from_dense(costs, weights), "pmedian", p=1)
    best = min((weights * costs[:, j]).sum() for j in range(30))
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", range(5))
def test_pcenter_equals_brute_force(seed):
    costs, weights = instance(seed, n=20, m=8)
    result = solve_siting(SitingMatrix.from_dense(costs, weights), "pcenter", p=3)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_pcenter(costs, weights, 3))
    assert len(result.sites) == 3  # p sites, even where fewer give the same worst cost


@pytest.mark.parametrize("seed", range(5))
def test_lscp_equals_brute_force(seed):
    costs, weights = instance(seed, n=20, m=8)
    result = solve_siting(SitingMatrix.from_dense(costs, weights), "lscp", cutoff=450)
    assert result.status == "optimal"
    assert result.objective == brute_lscp(costs, weights, 450)
    reachable = served_rows(costs, weights, cutoff=450)
    assert (nearest(costs[reachable], result.sites) <= 450).all()
    # demand no candidate reaches is reported with its amount, not made infeasible
    assert result.unreachable["amount"].sum() == pytest.approx(weights[~reachable].sum())


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_mclp_equals_max_flow_brute_force(seed):
    costs, weights = instance(seed, n=15, m=6)
    capacities = np.random.default_rng(seed).integers(40, 160, 6).astype(float)
    result = solve_siting(SitingMatrix.from_dense(costs, weights), "mclp", p=2, cutoff=400,
                          capacities=capacities)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(
        brute_capacitated_mclp(costs, weights, 2, 400, capacities))
    loads = result.loads.set_index("site")
    assert (loads["load"] <= loads["capacity"] + 1e-6).all()
    assert (result.assignment["cost"] <= 400).all()


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_pmedian_equals_min_cost_flow_brute_force(seed):
    costs, weights = instance(seed, n=12, m=6, unreachable=0.0)
    capacities = np.full(6, np.ceil(weights.sum() / 2.5))
    result = solve_siting(SitingMatrix.from_dense(costs, weights), "pmedian", p=3,
                          capacities=capacities)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(
        brute_capacitated_pmedian(costs, weights, 3, capacities))
    loads = result.loads
    assert (loads["load"] <= loads["capacity"] + 1e-6).all()
    assert result.covered_demand == pytest.approx(weights.sum())


@pytest.mark.parametrize("problem, options", [
    ("mclp", {"p": 2, "cutoff": 350}), ("pmedian", {"p": 2}), ("pcenter", {"p": 2}),
    ("lscp", {"cutoff": 450})])
def test_kept_sites_are_open_and_excluded_never_chosen(problem, options):
    costs, weights = instance(4, n=20, m=8)
    matrix = SitingMatrix.from_dense(costs, weights, candidate_ids=list("ABCDEFGH"))
    result = solve_siting(matrix, problem, fixed=["B"], excluded=["C", "E"], **options)
    assert result.kept == ("B",)
    assert "C" not in result.sites and "E" not in result.sites and "B" not in result.sites
    assert set(result.loads["site"]) <= {"B", *result.sites}
    index = {c: j for j, c in enumerate("ABCDEFGH")}
    fixed, excluded = (index["B"],), (index["C"], index["E"])
    expected = {
        "mclp": lambda: brute_mclp(costs, weights, 2, 350, fixed, excluded),
        "pmedian": lambda: brute_pmedian(costs, weights, 2, fixed, excluded),
        "pcenter": lambda: brute_pcenter(costs, weights, 2, fixed, excluded),
        "lscp": lambda: brute_lscp(costs, weights, 450, fixed, excluded),
    }[problem]()
    assert result.objective == pytest.approx(expected)


def test_time_limit_gives_the_best_solution_with_its_gap_never_optimal():
    rng = np.random.default_rng(0)
    demand, sites = rng.random((1500, 2)), rng.random((150, 2))
    costs = 1000 * np.hypot(*(demand[:, None] - sites[None]).transpose(2, 0, 1))
    matrix = SitingMatrix.from_dense(costs, rng.integers(1, 100, 1500))
    try:
        result = solve_siting(matrix, "mclp", p=15, cutoff=90, time_limit_s=0.5)
    except NoSolutionError as exc:  # a slow machine may find none at all: said so
        assert "time_limit_s" in str(exc)
        return
    if result.status != "optimal":
        assert result.status == "time_limit"
        assert result.gap is not None and result.gap > 0
        assert result.bound >= result.objective


@pytest.mark.parametrize("call, field", [
    (lambda m: solve_siting(m, "mclp", p=9, cutoff=300), "p: 9 new sites asked for, but only 7"),
    (lambda m: solve_siting(m, "mclp", p=0, cutoff=300), "p: expected at least 1"),
    (lambda m: solve_siting(m, "mclp", p=-2, cutoff=300), "p: expected at least 1"),
    (lambda m: solve_siting(m, "mclp", p=2.5, cutoff=300), "p: expected a whole number"),
    (lambda m: solve_siting(m, "mclp", p=2), "cutoff: mclp needs a cutoff"),
    (lambda m: solve_siting(m, "mclp", p=2, cutoff=1), "cutoff: no candidate is within 1 "),
    (lambda m: solve_siting(m, "pmedian"), "p: pmedian needs the number"),
    (lambda m: solve_siting(m, "lscp", p=2, cutoff=300), "p: lscp finds the number"),
    (lambda m: solve_siting(m, "median", p=2), "problem"),
    (lambda m: solve_siting(m, "pmedian", p=2, fixed=["Z"]), "fixed: 'Z' is not among"),
    (lambda m: solve_siting(m, "pmedian", p=2, fixed=[1], excluded=[1]), "excluded: 1 are also"),
    (lambda m: solve_siting(m, "pmedian", p=6, excluded=[0, 1]),
     "p: 6 new sites asked for, but only 5 candidates can be chosen \\(2 of the 7 are excluded"),
    (lambda m: solve_siting(m, "pcenter", p=2, capacities=[1] * 7), "capacities: only mclp"),
    (lambda m: solve_siting(m, "pmedian", p=2, capacities=[1] * 6), "capacities: 6 values"),
    (lambda m: solve_siting(m, "pmedian", p=2, capacities=[10] * 7),
     "capacities: the kept sites and the 2 largest candidates hold at most 20, short of the "
     "demand of .* by "),
    (lambda m: solve_siting(m, "pmedian", p=2, time_limit_s=0), "time_limit_s"),
])
def test_bad_input_is_named(call, field):
    costs, weights = instance(1, m=7)
    with pytest.raises(ValidationError, match=field):
        call(SitingMatrix.from_dense(costs, weights))


@pytest.mark.parametrize("costs, weights, ids, message", [
    ([[1, 2], [3, 4]], [1, 2, 3], None, "weights: 3 weights for the 2 demand rows of costs"),
    ([[1, -2], [3, 4]], [1, 2], None, "costs: 1 cost\\(s\\) are NaN or negative, e.g. negative"),
    ([[1, np.nan], [3, 4]], [1, 2], None, "costs: .* NaN at demand 0, candidate 1"),
    ([["a", 2], [3, 4]], [1, 2], None, "costs: expected numbers"),
    ([[1, 2], [3, 4]], [1, -1], None, "weights: expected finite, non-negative"),
    ([[1, 2], [3, 4]], [0, 0], None, "weights: the total demand is zero"),
    ([[1, 2], [3, 4]], [1, 1], ["a", "a"], "costs: duplicate candidate ids: 'a'"),
])
def test_bad_matrices_are_named(costs, weights, ids, message):
    with pytest.raises(ValidationError, match=message):
        matrix = SitingMatrix.from_dense(costs, weights, candidate_ids=ids)
        solve_siting(matrix, "pmedian", p=1)


def test_no_candidates_is_an_error():
    with pytest.raises(ValidationError, match="candidates: there are no candidate sites"):
        solve_siting(SitingMatrix.from_dense(np.zeros((3, 0)), [1, 2, 3]), "pmedian", p=1)


def test_infeasible_pmedian_within_a_cutoff_is_said_not_solved():
    # two far-apart groups, one site: no single site serves both within the cutoff
    costs = np.array([[10, 900], [12, 880], [900, 8], [870, 11]], dtype=float)
    result = solve_siting(SitingMatrix.from_dense(costs, [1, 1, 1, 1]), "pmedian", p=1,
                          cutoff=100)
    assert result.status == "infeasible" and result.sites == ()
    assert "infeasible" in result.notes[-1]


def test_progress_is_reported():
    costs, weights = instance(2)
    said = []
    solve_siting(SitingMatrix.from_dense(costs, weights), "mclp", p=2, cutoff=350,
                 progress=said.append)
    assert re.match(r"solving mclp: \d+ demand points, 7 candidates", said[0])


# ---- p-median bounds (geo.analysis.pmedian_bounds) --------------------------------------------


def pmedian_pairs(costs, weights, p, fixed=()):
    from geo.analysis.pmedian_bounds import Pairs
    matrix = SitingMatrix.from_dense(costs, weights)
    kept = np.zeros(costs.shape[1], dtype=bool)
    kept[list(fixed)] = True
    return Pairs.of(matrix.costs, matrix.weights, fixed=kept, free=~kept, p=p)


@pytest.mark.parametrize("seed", range(6))
def test_pmedian_bounds_enclose_the_brute_force_optimum_and_fix_only_what_it_allows(seed):
    from geo.analysis.pmedian_bounds import lagrangian
    costs, weights = instance(seed, n=30, m=10, unreachable=0.0)
    fixed = (seed % 3,) if seed % 2 else ()
    pairs = pmedian_pairs(costs, weights, 3, fixed)
    bounds = lagrangian(pairs, deadline=np.inf, gap=1e-9)
    best = brute_pmedian(costs, weights, 3, fixed)
    assert bounds.lower <= best + 1e-6 <= bounds.upper + 1e-6
    assert pairs.total(bounds.best) == pytest.approx(bounds.upper)
    # every solution strictly better than the upper bound respects every fixing
    for _, open_ in combinations(costs.shape[1], 3, fixed):
        cost = (weights * nearest(costs, open_)).sum()
        if cost < bounds.upper - 1e-6:
            mask = np.isin(np.arange(costs.shape[1]), open_)
            assert not (bounds.closed & mask).any() and not (bounds.opened & ~mask).any()
            d1, site, _ = pairs.nearest_two(mask)
            used = (pairs.col == site[pairs.row]) & (pairs.cost == d1[pairs.row])
            assert not (used & bounds.unused).any()


def test_pmedian_local_search_reaches_a_swap_optimum():
    from geo.analysis.pmedian_bounds import greedy, local_search
    costs, weights = instance(3, n=40, m=12, unreachable=0.0)
    pairs = pmedian_pairs(costs, weights, 4)
    open_, cost = local_search(pairs, greedy(pairs), deadline=np.inf)
    assert open_.sum() == 4 and cost == pytest.approx((weights * costs[:, open_].min(1)).sum())
    for j_in in np.flatnonzero(~open_):  # no single swap improves it
        for j_out in np.flatnonzero(open_):
            trial = open_.copy()
            trial[[j_in, j_out]] = True, False
            assert (weights * costs[:, trial].min(1)).sum() >= cost - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_pmedian_with_fixings_and_a_solver_finish_equals_brute_force(seed, monkeypatch):
    # A weak bound phase (few iterations) leaves a gap, so the fixed sites and dropped pairs
    # shape the smaller model the solver finishes; the answer must still be the optimum.
    import geo.analysis.pmedian_bounds as bounds_module
    calls = []
    real = bounds_module.lagrangian

    def short(pairs, **options):
        found = real(pairs, **{**options, "max_iterations": 30 + 10 * seed})
        calls.append(found)
        return found

    monkeypatch.setattr("geo.analysis.siting_models.lagrangian", short)
    costs, weights = instance(20 + seed, n=60, m=14, unreachable=0.05)
    result = solve_siting(SitingMatrix.from_dense(costs, weights), "pmedian", p=4)
    assert calls and result.status == "optimal"
    assert result.objective == pytest.approx(brute_pmedian(costs, weights, 4))


def test_pmedian_fixings_trigger_on_a_larger_instance():
    from geo.analysis.pmedian_bounds import lagrangian
    costs, weights = instance(5, n=120, m=16, unreachable=0.0)
    pairs = pmedian_pairs(costs, weights, 3)
    bounds = lagrangian(pairs, deadline=np.inf, gap=1e-9, max_iterations=60)
    best = brute_pmedian(costs, weights, 3)
    assert bounds.lower <= best + 1e-6 <= bounds.upper + 1e-6
    assert bounds.closed.any() and bounds.unused.any()


def test_pcenter_opens_p_sites_even_when_fewer_give_the_least_worst_cost():
    # only A reaches the third point (7): A alone already gives the least worst cost
    costs = np.array([[4, 1, np.inf], [6, np.inf, 2], [7, np.inf, np.inf]])
    result = solve_siting(SitingMatrix.from_dense(costs, [1, 10, 1],
                                                  candidate_ids=list("ABC")), "pcenter", p=2)
    assert result.objective == 7.0 and result.status == "optimal"
    assert len(result.sites) == 2 and "A" in result.sites
    assert result.sites == ("A", "C")  # C saves 10 × (6 − 2), B only 1 × (4 − 1)


@pytest.mark.parametrize("seed", range(3))
def test_the_bound_known_without_a_solver_holds_for_the_brute_force_optimum(seed):
    """What a time-limited result reports when the solver stopped before it had a bound."""
    import time

    from geo.analysis.siting import _inputs, _plain_bound

    costs, weights = instance(seed, n=15, m=6)
    matrix = SitingMatrix.from_dense(costs, weights)

    def bound(problem, **options):
        inputs = _inputs(matrix, problem, capacities=None, fixed=(), excluded=(),
                         time_limit_s=10.0, began=time.perf_counter(), **options)
        return _plain_bound(problem, inputs)

    assert bound("mclp", p=2, cutoff=350) >= brute_mclp(costs, weights, 2, 350)
    assert bound("pmedian", p=2, cutoff=None) <= brute_pmedian(costs, weights, 2)
    assert bound("pcenter", p=2, cutoff=None) <= brute_pcenter(costs, weights, 2)
    assert bound("lscp", p=None, cutoff=450) <= brute_lscp(costs, weights, 450)
