"""The siting models as MILPs for HiGHS, one function per problem (see :mod:`geo.analysis.
siting` for what each solves and how the pairs are chosen). Each takes the validated
:class:`ModelInputs` and returns an :class:`Answer`: the open sites, the status and the proven
bound (and, for the capacitated models, the flows)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from geo.analysis.milp import (
    INFEASIBLE,
    OPTIMAL,
    OPTIMAL_GAP,
    TIME_LIMIT,
    Program,
    Progress,
    Solved,
)
from geo.analysis.pmedian_bounds import Bounds, Pairs, lagrangian
from geo.errors import GeoError, ValidationError

_FIRST_K = 8  # candidates per demand point in the first truncated p-median (at least)
# The capacitated p-median assigns each demand point among its nearest candidates only (the
# model otherwise holds every pair, which the solver cannot handle at the scale of a county).
CAPACITATED_NEAREST = 15
_ZERO = 1e-7  # solver values below this are zero
_BOUNDS_MIN_S, _BOUNDS_SHARE = 1.0, 0.3  # time for the p-median bounds: at least, share of limit


class NoSolutionError(GeoError):
    """The time limit came before the solver found any solution."""


def canonical_csr(matrix: sp.csr_array, rows, cols, values) -> sp.csr_array:
    """CSR with sorted indices and explicit zeros kept (scipy drops them in some builders)."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_array((np.asarray(values, dtype=float)[order],
                         np.asarray(cols, dtype=np.int64)[order], indptr), shape=matrix.shape)


@dataclass(frozen=True)
class ModelInputs:
    """The validated model inputs; masks and arrays over candidates (columns) and demand rows."""

    allowed: sp.csr_array  # costs of the pairs the model may use (allowed columns, cutoff)
    weights: np.ndarray
    served: np.ndarray  # demand rows with weight and at least one allowed pair
    fixed: np.ndarray  # bool per candidate
    free: np.ndarray  # bool per candidate: may be chosen
    capacities: np.ndarray | None
    p: int | None
    deadline: float
    notes: list[str] = field(default_factory=list)

    def seconds_left(self) -> float:
        return self.deadline - time.perf_counter()


@dataclass(frozen=True)
class Answer:
    status: str
    open: np.ndarray  # bool per candidate
    bound: float | None
    # capacitated models: (demand row, candidate, amount) from the solver's flows
    flows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def solve_model(problem: str, inputs: ModelInputs, say: Progress) -> Answer:
    solver = {"lscp": _lscp, "mclp": _mclp, "pmedian": _pmedian, "pcenter": _pcenter}[problem]
    return solver(inputs, say)


def _pattern_rows(allowed: sp.csr_array, rows: np.ndarray, columns: np.ndarray):
    """For the demand ``rows``: the coverage sets restricted to ``columns`` (bool per
    candidate), merged when identical. Returns (group of each row, column lists per group)."""
    sub = allowed[rows][:, np.flatnonzero(columns)] if len(rows) else None
    groups: dict[bytes, int] = {}
    members: list[np.ndarray] = []
    group_of = np.empty(len(rows), dtype=np.int64)
    if sub is None:
        return group_of, members
    sub = sp.csr_array(sub)
    sub.sort_indices()
    for r in range(len(rows)):
        cols = sub.indices[sub.indptr[r]:sub.indptr[r + 1]]
        key = cols.tobytes()
        g = groups.get(key)
        if g is None:
            g = groups[key] = len(members)
            members.append(cols)
        group_of[r] = g
    return group_of, members


def _covered_by_fixed(inputs: ModelInputs) -> np.ndarray:
    """Per demand row: whether a kept site already covers it (every allowed pair counts)."""
    if not inputs.fixed.any():
        return np.zeros(inputs.allowed.shape[0], dtype=bool)
    hits = inputs.allowed[:, np.flatnonzero(inputs.fixed)]
    return np.diff(sp.csr_array(hits).indptr) > 0


def _cover_rows(program: Program, y: np.ndarray, members: list[np.ndarray], *,
                extra: np.ndarray | None = None) -> None:
    """One row per group: Σ y over its coverage set (− its z, when given) ≥ 1 (≥ 0)."""
    sizes = np.array([len(c) for c in members], dtype=np.int64)
    row = np.repeat(np.arange(len(members)), sizes)
    col = y[np.concatenate(members)] if len(members) else np.empty(0, dtype=np.int64)
    coef = np.ones(len(col))
    lower = 1.0
    if extra is not None:
        row, col = np.r_[row, np.arange(len(members))], np.r_[col, extra]
        coef, lower = np.r_[coef, -np.ones(len(members))], 0.0
    program.add_rows(row, col, coef, lower=lower, upper=np.inf, n_rows=len(members))


def _choose_p(program: Program, y: np.ndarray, p: int | None, *, at_most: bool = False) -> None:
    count = int(p or 0)  # the models that call this were given p (checked in _inputs)
    program.add_rows(np.zeros(len(y)), y, 1.0, lower=-np.inf if at_most else count,
                     upper=count, n_rows=1)


def _opened(inputs: ModelInputs, solved: Solved, y: np.ndarray) -> np.ndarray:
    chosen = inputs.fixed.copy()
    chosen[np.flatnonzero(inputs.free)] = _values(solved)[y] > 0.5
    return chosen


def _values(solved: Solved) -> np.ndarray:
    if solved.values is None:  # callers have checked; an internal error otherwise
        raise GeoError("solver: no solution to read")
    return solved.values


def _require_solution(solved: Solved, inputs: ModelInputs) -> None:
    if solved.values is None and solved.status == TIME_LIMIT:
        raise NoSolutionError(f"time_limit_s: the solver found no solution within the time "
                              f"limit ({solved.seconds:.1f} s); allow more time")


def _lscp(inputs: ModelInputs, say: Progress) -> Answer:
    need = np.flatnonzero(inputs.served & ~_covered_by_fixed(inputs))
    if len(need) == 0:
        return Answer(OPTIMAL, inputs.fixed.copy(), 0.0)
    _, members = _pattern_rows(inputs.allowed, need, inputs.free)
    program = Program()
    y = program.add_columns(np.ones(int(inputs.free.sum())), integer=True)
    _cover_rows(program, y, members)
    solved = program.solve(time_limit_s=inputs.seconds_left(), progress=say)
    _require_solution(solved, inputs)
    return Answer(solved.status, _opened(inputs, solved, y), solved.bound)


def _mclp(inputs: ModelInputs, say: Progress) -> Answer:
    if inputs.capacities is not None:
        return _capacitated(inputs, say, maximise_cover=True)
    weights = inputs.weights
    already = _covered_by_fixed(inputs)
    need = np.flatnonzero(inputs.served & ~already)
    group_of, members = _pattern_rows(inputs.allowed, need, inputs.free)
    group_weight = np.bincount(group_of, weights=weights[need], minlength=len(members))
    useful = np.array([len(c) > 0 for c in members], dtype=bool)
    members = [c for c, u in zip(members, useful) if u]
    program = Program(maximise=True)
    n_free = int(inputs.free.sum())
    y = program.add_columns(np.zeros(n_free), integer=True)
    z = program.add_columns(group_weight[useful])
    _cover_rows(program, y, members, extra=z)
    _choose_p(program, y, inputs.p)
    start = _greedy_cover(members, group_weight[useful], n_free, int(inputs.p or 0))
    solved = program.solve(time_limit_s=inputs.seconds_left(), start=start, progress=say)
    _require_solution(solved, inputs)
    fixed_cover = float(weights[inputs.served & already].sum())
    bound = None if solved.bound is None else solved.bound + fixed_cover
    return Answer(solved.status, _opened(inputs, solved, y), bound)


def _greedy_cover(members: list[np.ndarray], weight: np.ndarray, n_sites: int,
                  p: int) -> np.ndarray:
    """A start for the MCLP: p sites, each the one covering the most demand not yet covered
    (y then z, as the model's columns). Only a start: the solver proves or improves it."""
    sizes = np.array([len(c) for c in members], dtype=np.int64)
    incidence = sp.csc_array((np.ones(int(sizes.sum())),
                              (np.repeat(np.arange(len(members)), sizes),
                               np.concatenate(members) if members else np.empty(0, int))),
                             shape=(len(members), n_sites))
    chosen = np.zeros(n_sites, dtype=bool)
    covered = np.zeros(len(members), dtype=bool)
    for _ in range(min(p, n_sites)):
        gain = incidence.T @ np.where(covered, 0.0, weight)
        gain[chosen] = -1.0
        site = int(np.argmax(gain))
        chosen[site] = True
        column = incidence[:, [site]]
        covered[column.indices] = True
    return np.r_[chosen.astype(float), covered.astype(float)]


def _pmedian(inputs: ModelInputs, say: Progress) -> Answer:
    """Bounds first (pmedian_bounds): when the Lagrangian bound meets the local search's
    solution it is proven optimal without a solver; otherwise the sites the bounds fix open or
    closed shrink the model HiGHS proves, started from that solution."""
    if inputs.capacities is not None:
        return _capacitated(inputs, say, maximise_cover=False)
    rows = np.flatnonzero(inputs.served)
    pairs = Pairs.of(sp.csr_array(inputs.allowed[rows]), inputs.weights[rows],
                     fixed=inputs.fixed, free=inputs.free, p=int(inputs.p or 0))
    budget = max(_BOUNDS_MIN_S, _BOUNDS_SHARE * inputs.seconds_left())
    bounds = lagrangian(pairs, deadline=min(inputs.deadline, time.perf_counter() + budget),
                        gap=OPTIMAL_GAP)
    if not np.isfinite(bounds.upper):  # no solution serves everyone: the solver decides
        return _pmedian_search(inputs, say)
    tolerance = pairs.tolerance(bounds.upper, OPTIMAL_GAP)
    say(f"solving pmedian: bounds {bounds.lower:.6g} .. {bounds.upper:.6g}, "
        f"{int(bounds.closed.sum())} candidates ruled out, {int(bounds.opened.sum())} in")
    if bounds.lower >= bounds.upper - tolerance:
        return Answer(OPTIMAL, bounds.best, bounds.upper)
    reduced = _reduced(inputs, pairs, bounds)
    if reduced is None:  # no solution better than the upper bound is left
        return Answer(OPTIMAL, bounds.best, bounds.upper)
    start = bounds.best if _consistent(reduced, bounds.best) else None
    try:
        answer = _pmedian_search(reduced, say, start=start)
    except NoSolutionError:
        return Answer(TIME_LIMIT, bounds.best, bounds.lower)
    if answer.status == INFEASIBLE:
        return Answer(OPTIMAL, bounds.best, bounds.upper)
    found = pairs.total(answer.open)
    best, cost = (answer.open, found) if found < bounds.upper else (bounds.best, bounds.upper)
    if answer.status == OPTIMAL:
        return Answer(OPTIMAL, best, cost)
    below = bounds.upper if answer.bound is None else min(bounds.upper, answer.bound)
    return Answer(answer.status, best, max(bounds.lower, below))


def _reduced(inputs: ModelInputs, pairs: Pairs, bounds: Bounds) -> ModelInputs | None:
    """The p-median over the solutions the bounds leave (better than the upper bound): ruled
    out sites excluded, ruled in ones kept, and each row's pairs no such solution assigns by
    dropped (those beyond its nearest kept site too). None when no such solution exists."""
    fixed = inputs.fixed | bounds.opened
    free = inputs.free & ~bounds.closed & ~bounds.opened
    p = int(inputs.p or 0) - int((bounds.opened & inputs.free).sum())
    if p < 0 or p > int(free.sum()):
        return None
    at_fixed = np.where(fixed[pairs.col], pairs.raw, np.inf)
    ceiling = np.full(pairs.n_rows, np.inf)
    np.minimum.at(ceiling, pairs.row, at_fixed)
    keep = ((fixed | free)[pairs.col] & (pairs.raw <= ceiling[pairs.row]) & ~bounds.unused)
    if len(np.unique(pairs.row[keep])) < pairs.n_rows:
        return None
    rows = np.flatnonzero(inputs.served)[pairs.row[keep]]
    allowed = canonical_csr(inputs.allowed, rows, pairs.col[keep], pairs.raw[keep])
    return replace(inputs, allowed=allowed, fixed=fixed, free=free, p=p)


def _consistent(inputs: ModelInputs, open_: np.ndarray) -> bool:
    return bool((open_[inputs.fixed]).all() and not (open_ & ~inputs.fixed & ~inputs.free).any()
                and int((open_ & inputs.free).sum()) == inputs.p)


def _pmedian_search(inputs: ModelInputs, say: Progress, *,
                    start: np.ndarray | None = None) -> Answer:
    """The truncated radius model, grown until no row needs a farther site (module notes)."""
    levels = _Levels.of(inputs)
    share = -(-inputs.allowed.shape[1] // (int(inputs.p or 1) + int(inputs.fixed.sum())))
    k = np.minimum(levels.per_row, max(_FIRST_K, 3 * share))
    while True:
        answer, farther = _pmedian_levels(inputs, levels, k, say, start=start)
        if answer.status != OPTIMAL or not farther.any():
            return answer
        say(f"solving pmedian: {int(farther.sum())} demand points need more candidates")
        k = np.where(farther, np.minimum(levels.per_row, 2 * k), k)


@dataclass(frozen=True)
class _Levels:
    """Each served row's allowed pairs sorted by cost and grouped into levels of equal cost."""

    rows: np.ndarray  # the served demand rows
    entry_row: np.ndarray  # per sorted pair: local row
    entry_col: np.ndarray  # per sorted pair: candidate
    entry_level: np.ndarray  # per sorted pair: its level's rank within the row
    level_row: np.ndarray  # per level (global, in row order): local row
    level_rank: np.ndarray  # per level: its rank within the row
    level_cost: np.ndarray
    first_level: np.ndarray  # per local row: index of its first level
    per_row: np.ndarray  # per local row: number of levels

    @classmethod
    def of(cls, inputs: ModelInputs) -> _Levels:
        rows = np.flatnonzero(inputs.served)
        sub = sp.csr_array(inputs.allowed[rows])
        entry_row = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        order = np.lexsort((sub.data, entry_row))
        row, col, cost = entry_row[order], sub.indices[order], sub.data[order]
        new = np.r_[True, (row[1:] != row[:-1]) | (cost[1:] != cost[:-1])]
        level = np.cumsum(new) - 1
        first = level[sub.indptr[:-1]]
        per_row = level[sub.indptr[1:] - 1] - first + 1
        level_row = row[new]
        return cls(rows, row, col, level - first[row], level_row,
                   np.arange(int(new.sum())) - first[level_row],
                   cost[new], first, per_row)


def _pmedian_levels(inputs: ModelInputs, levels: _Levels, k: np.ndarray, say: Progress, *,
                    start: np.ndarray | None = None) -> tuple[Answer, np.ndarray]:
    """The p-median over each row's ``k`` nearest cost levels, written with one variable per
    level, z = "no open site this near" (the radius formulation of Elloumi, 2010, in its chained
    form: each level's row holds only that level's sites, so the model grows with the pairs, not
    their square). The cost beyond the last kept level is charged at the next level's cost: a
    relaxation of the full model, exact when no row's last z is used. Returns the answer and the
    rows whose last kept z is used (then it is not yet proven for the full model)."""
    weights = inputs.weights[levels.rows]
    kept = levels.level_rank < k[levels.level_row]
    lrow, lrank = levels.level_row[kept], levels.level_rank[kept]
    lcost = levels.level_cost[kept]
    # the next level's cost (exists unless this is the row's last level of all)
    last_of_all = lrank == levels.per_row[lrow] - 1
    next_index = np.flatnonzero(kept) + 1
    next_cost = np.where(last_of_all, 0.0,
                         levels.level_cost[np.minimum(next_index, len(levels.level_cost) - 1)])
    program = Program()
    m = inputs.allowed.shape[1]
    y = program.add_columns(np.zeros(m), lower=inputs.fixed.astype(float),
                            upper=(inputs.fixed | inputs.free).astype(float), integer=True)
    z = program.add_columns(weights[lrow] * (next_cost - lcost),
                            upper=np.where(last_of_all, 0.0, 1.0))
    program.offset = float((weights * levels.level_cost[levels.first_level]).sum())
    # level row: z_previous − z_this − Σ y(sites at this level) ≤ 0; z_previous = 1 at rank 0
    n = len(lrow)
    position = np.full(len(levels.level_row), -1)
    position[kept] = np.arange(n)
    take = levels.entry_level < k[levels.entry_row]
    entry_level_index = levels.first_level[levels.entry_row[take]] + levels.entry_level[take]
    has_previous = lrank > 0
    rows = np.r_[np.arange(n), np.flatnonzero(has_previous), position[entry_level_index]]
    cols = np.r_[z, z[np.flatnonzero(has_previous) - 1], y[levels.entry_col[take]]]
    coefs = np.r_[-np.ones(n), np.ones(int(has_previous.sum())), -np.ones(int(take.sum()))]
    program.add_rows(rows, cols, coefs, lower=-np.inf, upper=np.where(has_previous, 0.0, -1.0),
                     n_rows=n)
    _choose_p(program, y[inputs.free], inputs.p)
    values = None
    if start is not None:  # y, and z = 1 on the levels nearer than the row's nearest open site
        entry_cost = levels.level_cost[levels.first_level[levels.entry_row] + levels.entry_level]
        nearest = np.full(len(levels.rows), np.inf)
        np.minimum.at(nearest, levels.entry_row[start[levels.entry_col]],
                      entry_cost[start[levels.entry_col]])
        values = np.r_[start.astype(float), (lcost < nearest[lrow]).astype(float)]
    solved = program.solve(time_limit_s=inputs.seconds_left(), progress=say, start=values)
    _require_solution(solved, inputs)
    if solved.status == INFEASIBLE:
        return Answer(INFEASIBLE, inputs.fixed.copy(), None), np.zeros(len(k), dtype=bool)
    truncated_last = (lrank == k[lrow] - 1) & ~last_of_all
    farther = np.zeros(len(k), dtype=bool)
    farther[lrow[truncated_last]] = _values(solved)[z[truncated_last]] > _ZERO
    chosen = _values(solved)[y] > 0.5
    return Answer(solved.status, chosen, solved.bound), farther


def _capacitated(inputs: ModelInputs, say: Progress, *, maximise_cover: bool) -> Answer:
    """Capacitated MCLP (maximise the demand assigned within the cutoff) or p-median (assign
    all demand, minimise the weighted cost), with flows x_ij ∈ [0, 1] (the share of row i
    going to site j)."""
    caps = inputs.capacities
    assert caps is not None
    rows = np.flatnonzero(inputs.served)
    sub = sp.csr_array(inputs.allowed[rows])
    pair_row = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    pair_col, pair_cost = sub.indices, sub.data
    weights = inputs.weights[rows]
    if not maximise_cover:
        _check_capacity(inputs, weights.sum())
        near = _nearest_pairs(pair_row, pair_cost, CAPACITATED_NEAREST)
        if not near.all():
            inputs.notes.append(f"capacitated pmedian: each demand point may go to one of its "
                                f"{CAPACITATED_NEAREST} nearest candidates")
        pair_row, pair_col, pair_cost = pair_row[near], pair_col[near], pair_cost[near]
    program = Program(maximise=maximise_cover)
    free_index = np.full(len(inputs.free), -1)
    free_index[inputs.free] = np.arange(int(inputs.free.sum()))
    y = program.add_columns(np.zeros(int(inputs.free.sum())), integer=True)
    amount = weights[pair_row]
    x = program.add_columns(amount if maximise_cover else amount * pair_cost)
    bound = (-np.inf, 1.0) if maximise_cover else (1.0, 1.0)
    program.add_rows(pair_row, x, 1.0, lower=bound[0], upper=bound[1], n_rows=len(rows))
    # load of each open site ≤ its capacity (× y for a site that may stay closed)
    sites = np.unique(pair_col)
    site_row = np.searchsorted(sites, pair_col)
    chosen = free_index[sites] >= 0
    program.add_rows(np.r_[site_row, np.flatnonzero(chosen)],
                     np.r_[x, y[free_index[sites[chosen]]]],
                     np.r_[amount, -caps[sites[chosen]]],
                     lower=-np.inf, upper=np.where(chosen, 0.0, caps[sites]),
                     n_rows=len(sites))
    on_free = free_index[pair_col] >= 0
    n_link = int(on_free.sum())
    program.add_rows(np.r_[np.arange(n_link), np.arange(n_link)],
                     np.r_[x[on_free], y[free_index[pair_col[on_free]]]],
                     np.r_[np.ones(n_link), -np.ones(n_link)], lower=-np.inf, upper=0.0,
                     n_rows=n_link)
    _choose_p(program, y, inputs.p)
    solved = program.solve(time_limit_s=inputs.seconds_left(), progress=say)
    _require_solution(solved, inputs)
    if solved.status == INFEASIBLE:
        return Answer(INFEASIBLE, inputs.fixed.copy(), None)
    share = _values(solved)[x]
    used = share > _ZERO
    flows = (rows[pair_row[used]], pair_col[used], share[used] * amount[used])
    return Answer(solved.status, _opened(inputs, solved, y), solved.bound, flows)


def _nearest_pairs(pair_row: np.ndarray, pair_cost: np.ndarray, k: int) -> np.ndarray:
    """Which pairs are among the ``k`` cheapest of their row (rows given in order)."""
    order = np.lexsort((pair_cost, pair_row))
    starts = np.searchsorted(pair_row[order], pair_row[order], side="left")
    keep = np.zeros(len(pair_row), dtype=bool)
    keep[order] = np.arange(len(order)) - starts < k
    return keep


def _check_capacity(inputs: ModelInputs, demand: float) -> None:
    """Refuse a capacitated p-median that no choice of p sites could hold."""
    caps = inputs.capacities
    assert caps is not None and inputs.p is not None
    best = float(caps[inputs.fixed].sum() + np.sort(caps[inputs.free])[::-1][:inputs.p].sum())
    if best < demand:
        raise ValidationError(
            f"capacities: the kept sites and the {inputs.p} largest candidates hold at most "
            f"{best:,.0f}, short of the demand of {demand:,.0f} by {demand - best:,.0f}; raise p, "
            "add candidates, or use the capacitated mclp (which covers what fits)")


def _pcenter(inputs: ModelInputs, say: Progress) -> Answer:
    """The smallest cost r such that ``p`` new sites (with the kept ones) put every served
    demand point within r: a binary search over the distinct costs, each step a covering
    feasibility problem."""
    rows = np.flatnonzero(inputs.served)
    sub = sp.csr_array(inputs.allowed[rows])
    values = np.unique(sub.data)
    nearest = np.minimum.reduceat(sub.data, sub.indptr[:-1])
    lo = int(np.searchsorted(values, nearest.max()))  # nobody can do better than this
    hi = len(values) - 1
    best = _cover_within(inputs, sub, values[hi])
    if best is None:
        raise ValidationError(f"p: {inputs.p} new sites cannot reach every demand point, "
                              "whatever the cost; raise p")
    if isinstance(best, str):
        raise NoSolutionError("time_limit_s: the solver found no solution within the time "
                              "limit; allow more time")
    status = OPTIMAL
    while lo < hi:
        mid = (lo + hi) // 2
        say(f"solving pcenter: can everyone be within {values[mid]:g}?")
        found = _cover_within(inputs, sub, values[mid])
        if isinstance(found, str):
            status = TIME_LIMIT
            break
        if found is None:
            lo = mid + 1
        else:
            best, hi = found, mid
    return Answer(status, _fill_to_p(inputs, rows, best), float(values[lo]))


def _fill_to_p(inputs: ModelInputs, rows: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """Open sites up to ``p`` new ones when fewer already give the least worst cost (a further
    site cannot make it worse): each the one that most lowers the demand-weighted cost."""
    open_ = open_.copy()
    sub = sp.csr_array(inputs.allowed[rows])
    entry_row = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    weights = inputs.weights[rows]
    while int((open_ & inputs.free).sum()) < int(inputs.p or 0):
        current = np.full(len(rows), np.inf)
        at_open = open_[sub.indices]
        np.minimum.at(current, entry_row[at_open], sub.data[at_open])
        saving = weights[entry_row] * np.maximum(np.where(np.isfinite(current[entry_row]),
                                                          current[entry_row], 0.0)
                                                 - sub.data, 0.0)
        gain = np.bincount(sub.indices, weights=saving, minlength=len(open_))
        gain[~inputs.free | open_] = -1.0
        open_[int(np.argmax(gain))] = True
    return open_


def _cover_within(inputs: ModelInputs, within: sp.csr_array, radius: float):
    """Open sites putting every row of ``within`` (the served rows' allowed costs) within
    ``radius`` with at most p new ones; None when impossible, "time" when the time limit came
    first."""
    keep = within.data <= radius
    entry_row = np.repeat(np.arange(within.shape[0]), np.diff(within.indptr))
    local = canonical_csr(within, entry_row[keep], within.indices[keep], within.data[keep])
    fixed_hit = (np.diff(sp.csr_array(local[:, np.flatnonzero(inputs.fixed)]).indptr) > 0
                 if inputs.fixed.any() else np.zeros(within.shape[0], dtype=bool))
    need = np.flatnonzero(~fixed_hit)
    if len(need) == 0:
        return inputs.fixed.copy()
    _, members = _pattern_rows(local, need, inputs.free)
    if any(len(c) == 0 for c in members):
        return None
    program = Program()
    # the fewest sites: the rest up to p are then chosen for the shortest trips (_fill_to_p)
    y = program.add_columns(np.ones(int(inputs.free.sum())), integer=True)
    _cover_rows(program, y, members)
    _choose_p(program, y, inputs.p, at_most=True)
    if inputs.seconds_left() <= 0:
        return "time"
    solved = program.solve(time_limit_s=inputs.seconds_left())
    if solved.status == INFEASIBLE:
        return None
    if solved.values is None:
        return "time"
    return _opened(inputs, solved, y)
