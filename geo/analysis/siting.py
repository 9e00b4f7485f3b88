"""Location-allocation models on a sparse demand × candidate cost matrix, solved exactly by HiGHS.

- ``lscp``: the fewest new sites so that all demand is within ``cutoff`` of an open site;
- ``mclp``: ``p`` new sites covering the most demand within ``cutoff``;
- ``pmedian``: ``p`` new sites minimising the demand-weighted cost to the nearest open site;
- ``pcenter``: ``p`` new sites minimising the worst cost of any demand point to its nearest one.

``mclp`` and ``pmedian`` also come **capacitated**: no site takes more demand than its capacity
(demand points may then be split between sites, as a neighbourhood's people may go to two
shelters). **Fixed** candidates (existing shelters kept open) are open in every solution and count
toward coverage and capacity; ``p`` counts the *new* sites. **Excluded** candidates are never
chosen. Demand that no allowed candidate reaches (within ``cutoff`` when one is given) cannot be
served by any choice: it is reported with its amount and left out of the model rather than
making it infeasible.

Only the pairs that matter are modelled: those within ``cutoff``, and for the uncapacitated
p-median each demand point's ``k`` nearest candidates plus one "farther" variable priced at its
next-nearest cost. That truncated model is a relaxation of the full one, so when its optimum uses
no "farther" variable it is the optimum of the full problem; otherwise ``k`` grows for the
points that used it and it is solved again. The p-center is a search over the distinct costs,
each step asking whether ``p`` sites can cover everyone within that cost. Identical coverage sets
are merged (their demand summed) before the covering models are built.

Every result says whether it is proven optimal; when the time limit stops the solver first, it is
the best solution found with its gap to the proven bound, never called optimal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
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
from geo.core.jsonable import jsonable
from geo.core.validate import check_choice
from geo.errors import GeoError, ValidationError
from geo.routing.matrix import CostMatrix

PROBLEMS = ("lscp", "mclp", "pmedian", "pcenter")
CAPACITATED = ("mclp", "pmedian")
NEEDS_CUTOFF = ("lscp", "mclp")
NEEDS_P = ("mclp", "pmedian", "pcenter")
DEFAULT_TIME_LIMIT_S = 60.0
_FIRST_K = 8  # candidates per demand point in the first truncated p-median (at least)
# The capacitated p-median assigns each demand point among its nearest candidates only (the
# model otherwise holds every pair, which the solver cannot handle at the scale of a county).
CAPACITATED_NEAREST = 15
_ZERO = 1e-7  # solver values below this are zero
_BOUNDS_MIN_S, _BOUNDS_SHARE = 1.0, 0.3  # time for the p-median bounds: at least, share of limit


class NoSolutionError(GeoError):
    """The time limit came before the solver found any solution."""


@dataclass(frozen=True, eq=False)
class SitingMatrix:
    """Demand (rows) × candidates (columns): ``costs`` stores a pair only where the candidate is
    reachable (a stored 0 is a cost of 0; an absent pair is unreachable), ``weights`` the demand
    of each row."""

    costs: sp.csr_array
    weights: np.ndarray
    demand_ids: list
    candidate_ids: list

    @classmethod
    def from_dense(cls, costs, weights, *, demand_ids=None, candidate_ids=None,
                   fields: tuple[str, str] = ("costs", "weights")) -> SitingMatrix:
        """From a full matrix (``inf`` where a pair is unreachable). Every problem is named:
        NaN or negative costs, a shape that does not match the weights, duplicate ids."""
        cost_field, weight_field = fields
        try:
            dense = np.asarray(costs, dtype=float)
        except (TypeError, ValueError):
            raise ValidationError(f"{cost_field}: expected numbers") from None
        if dense.ndim != 2:
            raise ValidationError(f"{cost_field}: expected a 2-D matrix (demand × candidates)")
        demand_ids = list(range(dense.shape[0])) if demand_ids is None else list(demand_ids)
        candidate_ids = (list(range(dense.shape[1])) if candidate_ids is None
                         else list(candidate_ids))
        _check_ids("demand ids", demand_ids, dense.shape[0], cost_field)
        _check_ids("candidate ids", candidate_ids, dense.shape[1], cost_field)
        bad = np.argwhere(np.isnan(dense) | (dense < 0))
        if len(bad):
            r, c = bad[0]
            kind = "NaN" if np.isnan(dense[r, c]) else f"negative ({dense[r, c]:g})"
            raise ValidationError(f"{cost_field}: {len(bad)} cost(s) are NaN or negative, e.g. "
                                  f"{kind} at demand {demand_ids[r]!r}, candidate "
                                  f"{candidate_ids[c]!r}")
        weights = _weights(weights, dense.shape[0], weight_field, cost_field)
        rows, cols = np.nonzero(np.isfinite(dense))
        matrix = sp.csr_array((dense[rows, cols], (rows, cols)), shape=dense.shape)
        return cls(_canonical(matrix, rows, cols, dense[rows, cols]), weights, demand_ids,
                   candidate_ids)

    @classmethod
    def from_cost_matrix(cls, matrix: CostMatrix, weights, *,
                         weight_field: str = "weights") -> SitingMatrix:
        """From a network :class:`CostMatrix` of demand (origins) × candidates (destinations)."""
        weights = _weights(weights, matrix.shape[0], weight_field, "costs")
        return cls(matrix.costs, weights, list(matrix.origin_ids),
                   list(matrix.destination_ids))

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.demand_ids), len(self.candidate_ids)


def _check_ids(what: str, ids: list, n: int, field: str) -> None:
    if len(ids) != n:
        raise ValidationError(f"{field}: {n} {what.split()[0]} entries but {len(ids)} {what}")
    seen = pd.Index(ids)
    if seen.has_duplicates:
        raise ValidationError(f"{field}: duplicate {what}: "
                              f"{', '.join(map(repr, seen[seen.duplicated()].unique()[:5]))}")


def _weights(weights, n: int, field: str, cost_field: str) -> np.ndarray:
    try:
        values = np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValidationError(f"{field}: expected numbers") from None
    if len(values) != n:
        raise ValidationError(f"{field}: {len(values)} weights for the {n} demand rows of "
                              f"{cost_field}; the shapes do not match")
    if not (np.isfinite(values).all() and (values >= 0).all()):
        raise ValidationError(f"{field}: expected finite, non-negative numbers")
    return values


def _canonical(matrix: sp.csr_array, rows, cols, values) -> sp.csr_array:
    """CSR with sorted indices and explicit zeros kept (scipy drops them in some builders)."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_array((np.asarray(values, dtype=float)[order],
                         np.asarray(cols, dtype=np.int64)[order], indptr), shape=matrix.shape)


@dataclass(frozen=True)
class SitingSolution:
    """A solved siting model. ``sites``: the new sites chosen; ``kept``: the fixed ones;
    ``assignment``: demand → site with the ``amount`` of demand and its ``cost`` (a demand point
    split between sites has one row per site); ``loads``: per open site, the demand assigned and
    its capacity; ``unreachable``: demand no allowed candidate reaches (within the cutoff).

    ``objective``: covered demand (mclp), number of new sites (lscp), demand-weighted cost
    (pmedian) or worst cost (pcenter) — always the value of the solution given; ``bound``: the
    solver's proven bound; ``gap``: their relative difference (0 when optimal)."""

    problem: str
    status: str
    objective: float
    bound: float | None
    gap: float | None
    sites: tuple
    kept: tuple
    p: int | None
    cutoff: float | None
    capacitated: bool
    assignment: pd.DataFrame
    loads: pd.DataFrame
    unreachable: pd.DataFrame
    total_demand: float
    covered_demand: float
    solve_time_s: float
    notes: tuple[str, ...] = ()

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL

    @property
    def percent_covered(self) -> float:
        return 100.0 * self.covered_demand / self.total_demand if self.total_demand else 0.0

    def to_dict(self) -> dict:
        return jsonable({
            "problem": self.problem, "status": self.status, "optimal": self.optimal,
            "objective": self.objective, "bound": self.bound, "gap": self.gap,
            "sites": list(self.sites), "kept": list(self.kept), "p": self.p,
            "cutoff": self.cutoff, "capacitated": self.capacitated,
            "total_demand": self.total_demand, "covered_demand": self.covered_demand,
            "percent_covered": self.percent_covered,
            "unreachable_demand": float(self.unreachable["amount"].sum()),
            "unreachable_points": len(self.unreachable),
            "solve_time_s": self.solve_time_s,
            "loads": self.loads.to_dict("records"),
            "assignment": self.assignment.to_dict("records"),
            "notes": list(self.notes)})


@dataclass(frozen=True)
class _Inputs:
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
class _Answer:
    status: str
    open: np.ndarray  # bool per candidate
    bound: float | None
    # capacitated models: (demand row, candidate, amount) from the solver's flows
    flows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def solve_siting(matrix: SitingMatrix, problem: str, *, p: int | None = None,
                 cutoff: float | None = None, capacities=None, fixed=(), excluded=(),
                 time_limit_s: float = DEFAULT_TIME_LIMIT_S, unit: str = "",
                 progress: Progress | None = None) -> SitingSolution:
    """Solve ``problem`` on ``matrix`` (see the module notes). ``capacities``: one per candidate
    (makes mclp/pmedian capacitated); ``fixed`` / ``excluded``: candidate ids; ``unit``: the
    costs' unit for messages (" s"; nothing for a matrix in its own units)."""
    began = time.perf_counter()
    check_choice("problem", problem, PROBLEMS)
    inputs = _inputs(matrix, problem, p=p, cutoff=cutoff, capacities=capacities, fixed=fixed,
                     excluded=excluded, time_limit_s=time_limit_s, began=began, unit=unit)
    say = progress or (lambda message: None)
    say(f"solving {problem}: {int(inputs.served.sum())} demand points, "
        f"{int(inputs.free.sum())} candidates")
    solver = {"lscp": _lscp, "mclp": _mclp, "pmedian": _pmedian, "pcenter": _pcenter}[problem]
    answer = solver(inputs, say)
    return _solution(matrix, problem, inputs, answer, cutoff=cutoff, unit=unit,
                     seconds=time.perf_counter() - began)


# ---- inputs -----------------------------------------------------------------------------------


def _inputs(matrix: SitingMatrix, problem: str, *, p, cutoff, capacities, fixed, excluded,
            time_limit_s, began, unit: str = "") -> _Inputs:
    n, m = matrix.shape
    if m == 0:
        raise ValidationError("candidates: there are no candidate sites")
    if not (isinstance(time_limit_s, int | float) and np.isfinite(time_limit_s)
            and time_limit_s > 0):
        raise ValidationError(f"time_limit_s: expected a positive number of seconds, got "
                              f"{time_limit_s!r}")
    fixed_mask = _id_mask(matrix.candidate_ids, fixed, "fixed")
    excluded_mask = _id_mask(matrix.candidate_ids, excluded, "excluded")
    both = fixed_mask & excluded_mask
    if both.any():
        raise ValidationError(f"excluded: {_ids(matrix.candidate_ids, both)} are also kept "
                              "(fixed); a site cannot be both")
    free = ~fixed_mask & ~excluded_mask
    p = _check_p(problem, p, int(free.sum()), int(m), int(excluded_mask.sum()))
    cutoff = _check_cutoff(problem, cutoff)
    caps = _capacities(problem, capacities, m)
    weights = matrix.weights
    if weights.sum() <= 0:
        raise ValidationError("weights: the total demand is zero; there is nothing to serve")
    allowed = _allowed(matrix.costs, ~excluded_mask, cutoff)
    reach = np.diff(allowed.indptr) > 0
    served = reach & (weights > 0)
    if not served.any():
        raise ValidationError(_nothing_reached(matrix.costs, ~excluded_mask, cutoff, unit))
    return _Inputs(allowed, weights, served, fixed_mask, free, caps, p,
                   began + float(time_limit_s))


def _id_mask(ids: list, chosen, field: str) -> np.ndarray:
    index = pd.Index(ids)
    chosen = list(chosen or ())
    missing = [c for c in chosen if c not in index]
    if missing:
        raise ValidationError(f"{field}: {', '.join(map(repr, missing[:5]))} "
                              f"{'is' if len(missing) == 1 else 'are'} not among the candidates")
    return index.isin(chosen)


def _ids(ids: list, mask: np.ndarray) -> str:
    return ", ".join(repr(ids[i]) for i in np.flatnonzero(mask)[:5])


def _check_p(problem: str, p, n_free: int, m: int, n_excluded: int) -> int | None:
    if problem not in NEEDS_P:
        if p is not None:
            raise ValidationError(f"p: {problem} finds the number of sites itself; give no p")
        if n_free == 0:
            raise ValidationError("candidates: every candidate is kept or excluded; none is "
                                  "left to choose from")
        return None
    if p is None:
        raise ValidationError(f"p: {problem} needs the number of new sites to choose")
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        raise ValidationError(f"p: expected a whole number of sites, got {p!r}")
    if p <= 0:
        raise ValidationError(f"p: expected at least 1 new site, got {p}")
    if p > n_free:
        why = (f" ({n_excluded} of the {m} are excluded)" if n_excluded else "")
        raise ValidationError(f"p: {p} new sites asked for, but only {n_free} candidates can be "
                              f"chosen{why}")
    return int(p)


def _check_cutoff(problem: str, cutoff) -> float | None:
    if cutoff is None:
        if problem in NEEDS_CUTOFF:
            raise ValidationError(f"cutoff: {problem} needs a cutoff (the travel cost within "
                                  "which demand counts as covered)")
        return None
    if isinstance(cutoff, bool) or not isinstance(cutoff, int | float | np.number) \
            or not np.isfinite(cutoff) or cutoff <= 0:
        raise ValidationError(f"cutoff: expected a positive number, got {cutoff!r}")
    return float(cutoff)


def _capacities(problem: str, capacities, m: int) -> np.ndarray | None:
    if capacities is None:
        return None
    if problem not in CAPACITATED:
        raise ValidationError(f"capacities: only {' and '.join(CAPACITATED)} have a capacitated "
                              f"form, not {problem}")
    try:
        values = np.asarray(capacities, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValidationError("capacities: expected numbers") from None
    if len(values) != m:
        raise ValidationError(f"capacities: {len(values)} values for {m} candidates")
    if not (np.isfinite(values).all() and (values >= 0).all()):
        raise ValidationError("capacities: expected finite, non-negative numbers of people")
    return values


def _allowed(costs: sp.csr_array, columns: np.ndarray, cutoff: float | None) -> sp.csr_array:
    rows = np.repeat(np.arange(costs.shape[0]), np.diff(costs.indptr))
    keep = columns[costs.indices]
    if cutoff is not None:
        keep &= costs.data <= cutoff
    return _canonical(costs, rows[keep], costs.indices[keep], costs.data[keep])


def _nothing_reached(costs: sp.csr_array, columns: np.ndarray, cutoff: float | None,
                     unit: str) -> str:
    usable = columns[costs.indices]
    if not usable.any():
        return ("candidates: no candidate that may be chosen or kept is reachable from any "
                "demand point")
    nearest = float(costs.data[usable].min())
    return (f"cutoff: no candidate is within {cutoff:g}{unit} of any demand point (the nearest "
            f"pair is {nearest:g}{unit}); raise the cutoff")


# ---- models -----------------------------------------------------------------------------------


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


def _covered_by_fixed(inputs: _Inputs) -> np.ndarray:
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


def _opened(inputs: _Inputs, solved: Solved, y: np.ndarray) -> np.ndarray:
    chosen = inputs.fixed.copy()
    chosen[np.flatnonzero(inputs.free)] = _values(solved)[y] > 0.5
    return chosen


def _values(solved: Solved) -> np.ndarray:
    if solved.values is None:  # callers have checked; an internal error otherwise
        raise GeoError("solver: no solution to read")
    return solved.values


def _require_solution(solved: Solved, inputs: _Inputs) -> None:
    if solved.values is None and solved.status == TIME_LIMIT:
        raise NoSolutionError(f"time_limit_s: the solver found no solution within the time "
                              f"limit ({solved.seconds:.1f} s); allow more time")


def _lscp(inputs: _Inputs, say: Progress) -> _Answer:
    need = np.flatnonzero(inputs.served & ~_covered_by_fixed(inputs))
    if len(need) == 0:
        return _Answer(OPTIMAL, inputs.fixed.copy(), 0.0)
    _, members = _pattern_rows(inputs.allowed, need, inputs.free)
    program = Program()
    y = program.add_columns(np.ones(int(inputs.free.sum())), integer=True)
    _cover_rows(program, y, members)
    solved = program.solve(time_limit_s=inputs.seconds_left(), progress=say)
    _require_solution(solved, inputs)
    return _Answer(solved.status, _opened(inputs, solved, y), solved.bound)


def _mclp(inputs: _Inputs, say: Progress) -> _Answer:
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
    return _Answer(solved.status, _opened(inputs, solved, y), bound)


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


def _pmedian(inputs: _Inputs, say: Progress) -> _Answer:
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
        return _Answer(OPTIMAL, bounds.best, bounds.upper)
    reduced = _reduced(inputs, pairs, bounds)
    if reduced is None:  # no solution better than the upper bound is left
        return _Answer(OPTIMAL, bounds.best, bounds.upper)
    start = bounds.best if _consistent(reduced, bounds.best) else None
    try:
        answer = _pmedian_search(reduced, say, start=start)
    except NoSolutionError:
        return _Answer(TIME_LIMIT, bounds.best, bounds.lower)
    if answer.status == INFEASIBLE:
        return _Answer(OPTIMAL, bounds.best, bounds.upper)
    found = pairs.total(answer.open)
    best, cost = (answer.open, found) if found < bounds.upper else (bounds.best, bounds.upper)
    if answer.status == OPTIMAL:
        return _Answer(OPTIMAL, best, cost)
    below = bounds.upper if answer.bound is None else min(bounds.upper, answer.bound)
    return _Answer(answer.status, best, max(bounds.lower, below))


def _reduced(inputs: _Inputs, pairs: Pairs, bounds: Bounds) -> _Inputs | None:
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
    allowed = _canonical(inputs.allowed, rows, pairs.col[keep], pairs.raw[keep])
    return replace(inputs, allowed=allowed, fixed=fixed, free=free, p=p)


def _consistent(inputs: _Inputs, open_: np.ndarray) -> bool:
    return bool((open_[inputs.fixed]).all() and not (open_ & ~inputs.fixed & ~inputs.free).any()
                and int((open_ & inputs.free).sum()) == inputs.p)


def _pmedian_search(inputs: _Inputs, say: Progress, *,
                    start: np.ndarray | None = None) -> _Answer:
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
    def of(cls, inputs: _Inputs) -> _Levels:
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


def _pmedian_levels(inputs: _Inputs, levels: _Levels, k: np.ndarray, say: Progress, *,
                    start: np.ndarray | None = None) -> tuple[_Answer, np.ndarray]:
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
        return _Answer(INFEASIBLE, inputs.fixed.copy(), None), np.zeros(len(k), dtype=bool)
    truncated_last = (lrank == k[lrow] - 1) & ~last_of_all
    farther = np.zeros(len(k), dtype=bool)
    farther[lrow[truncated_last]] = _values(solved)[z[truncated_last]] > _ZERO
    chosen = _values(solved)[y] > 0.5
    return _Answer(solved.status, chosen, solved.bound), farther


def _capacitated(inputs: _Inputs, say: Progress, *, maximise_cover: bool) -> _Answer:
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
        return _Answer(INFEASIBLE, inputs.fixed.copy(), None)
    share = _values(solved)[x]
    used = share > _ZERO
    flows = (rows[pair_row[used]], pair_col[used], share[used] * amount[used])
    return _Answer(solved.status, _opened(inputs, solved, y), solved.bound, flows)


def _nearest_pairs(pair_row: np.ndarray, pair_cost: np.ndarray, k: int) -> np.ndarray:
    """Which pairs are among the ``k`` cheapest of their row (rows given in order)."""
    order = np.lexsort((pair_cost, pair_row))
    starts = np.searchsorted(pair_row[order], pair_row[order], side="left")
    keep = np.zeros(len(pair_row), dtype=bool)
    keep[order] = np.arange(len(order)) - starts < k
    return keep


def _check_capacity(inputs: _Inputs, demand: float) -> None:
    """Refuse a capacitated p-median that no choice of p sites could hold."""
    caps = inputs.capacities
    assert caps is not None and inputs.p is not None
    best = float(caps[inputs.fixed].sum() + np.sort(caps[inputs.free])[::-1][:inputs.p].sum())
    if best < demand:
        raise ValidationError(
            f"capacities: the kept sites and the {inputs.p} largest candidates hold at most "
            f"{best:,.0f}, short of the demand of {demand:,.0f} by {demand - best:,.0f}; raise p, "
            "add candidates, or use the capacitated mclp (which covers what fits)")


def _pcenter(inputs: _Inputs, say: Progress) -> _Answer:
    """The smallest cost r such that ``p`` new sites (with the kept ones) put every served
    demand point within r: a binary search over the distinct costs, each step a covering
    feasibility problem."""
    rows = np.flatnonzero(inputs.served)
    sub = sp.csr_array(inputs.allowed[rows])
    values = np.unique(sub.data)
    nearest = np.minimum.reduceat(sub.data, sub.indptr[:-1])
    lo = int(np.searchsorted(values, nearest.max()))  # nobody can do better than this
    hi = len(values) - 1
    best = _cover_within(inputs, rows, values[hi], say)
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
        found = _cover_within(inputs, rows, values[mid], say)
        if isinstance(found, str):
            status = TIME_LIMIT
            break
        if found is None:
            lo = mid + 1
        else:
            best, hi = found, mid
    return _Answer(status, _fill_to_p(inputs, rows, best), float(values[lo]))


def _fill_to_p(inputs: _Inputs, rows: np.ndarray, open_: np.ndarray) -> np.ndarray:
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


def _cover_within(inputs: _Inputs, rows: np.ndarray, radius: float, say: Progress):
    """Open sites putting every row within ``radius`` with at most p new ones; None when
    impossible, "time" when the time limit came first."""
    within = sp.csr_array(inputs.allowed[rows])
    keep = within.data <= radius
    entry_row = np.repeat(np.arange(len(rows)), np.diff(within.indptr))
    local = _canonical(within, entry_row[keep], within.indices[keep], within.data[keep])
    fixed_hit = (np.diff(sp.csr_array(local[:, np.flatnonzero(inputs.fixed)]).indptr) > 0
                 if inputs.fixed.any() else np.zeros(len(rows), dtype=bool))
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


# ---- the solution -----------------------------------------------------------------------------


def _solution(matrix: SitingMatrix, problem: str, inputs: _Inputs, answer: _Answer, *,
              cutoff: float | None, unit: str, seconds: float) -> SitingSolution:
    ids = np.array(matrix.candidate_ids, dtype=object)
    demand_ids = np.array(matrix.demand_ids, dtype=object)
    open_ = answer.open
    flows = answer.flows if answer.flows is not None else _nearest_flows(inputs, open_)
    rows, cols, amount = flows
    cost = _pair_costs(inputs.allowed, rows, cols)
    assignment = pd.DataFrame({"demand": demand_ids[rows], "site": ids[cols],
                               "amount": amount, "cost": cost})
    loads = _loads(ids, open_, inputs, cols, amount)
    unreachable_rows = np.flatnonzero(~inputs.served & (inputs.weights > 0))
    unreachable = pd.DataFrame({"demand": demand_ids[unreachable_rows],
                                "amount": inputs.weights[unreachable_rows]})
    total = float(inputs.weights.sum())
    covered = float(amount.sum())
    objective = _objective(problem, inputs, open_, amount, cost, covered)
    bound = answer.bound
    notes = list(inputs.notes)
    if answer.status == INFEASIBLE:
        notes.append(_infeasible_note(problem, inputs))
    gap = _gap(problem, answer.status, objective, bound)
    if len(unreachable):
        notes.append(f"{unreachable['amount'].sum():,.0f} of the demand "
                     f"({len(unreachable)} points) is not reachable from any allowed candidate"
                     + (f" within {cutoff:g}{unit}" if cutoff is not None else "")
                     + ": left out of the model")
    if inputs.capacities is not None and problem == "mclp":
        short = total - float(inputs.capacities[open_].sum())
        if short > 0:
            notes.append(f"the open sites hold {inputs.capacities[open_].sum():,.0f}, "
                         f"{short:,.0f} short of the total demand of {total:,.0f}")
    return SitingSolution(
        problem=problem, status=answer.status, objective=objective, bound=bound, gap=gap,
        sites=tuple(ids[open_ & inputs.free].tolist()), kept=tuple(ids[inputs.fixed].tolist()),
        p=inputs.p, cutoff=cutoff, capacitated=inputs.capacities is not None,
        assignment=assignment, loads=loads, unreachable=unreachable, total_demand=total,
        covered_demand=covered, solve_time_s=seconds, notes=tuple(notes))


def _nearest_flows(inputs: _Inputs, open_: np.ndarray):
    """Each served row to its nearest open site among its allowed pairs (within the cutoff)."""
    allowed = inputs.allowed
    entry_row = np.repeat(np.arange(allowed.shape[0]), np.diff(allowed.indptr))
    usable = open_[allowed.indices] & inputs.served[entry_row]
    r, c, d = entry_row[usable], allowed.indices[usable], allowed.data[usable]
    order = np.lexsort((c, d, r))
    r, c = r[order], c[order]
    first = np.r_[True, r[1:] != r[:-1]] if len(r) else np.zeros(0, dtype=bool)
    return r[first], c[first], inputs.weights[r[first]]


def _pair_costs(allowed: sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    if len(rows) == 0:
        return np.empty(0)
    keys = np.repeat(np.arange(allowed.shape[0]), np.diff(allowed.indptr)).astype(np.int64) \
        * allowed.shape[1] + allowed.indices
    wanted = rows.astype(np.int64) * allowed.shape[1] + cols
    return allowed.data[np.searchsorted(keys, wanted)]


def _loads(ids, open_, inputs: _Inputs, cols, amount) -> pd.DataFrame:
    sites = np.flatnonzero(open_)
    load = np.bincount(cols, weights=amount, minlength=len(ids))[sites]
    capacity = (inputs.capacities[sites] if inputs.capacities is not None
                else np.full(len(sites), np.nan))
    return pd.DataFrame({"site": ids[sites], "kept": inputs.fixed[sites], "load": load,
                         "capacity": capacity})


def _objective(problem, inputs: _Inputs, open_, amount, cost, covered) -> float:
    if problem == "lscp":
        return float((open_ & inputs.free).sum())
    if problem == "mclp":
        return covered
    if problem == "pmedian":
        return float((amount * cost).sum())
    return float(cost.max()) if len(cost) else 0.0


def _gap(problem: str, status: str, objective: float, bound: float | None) -> float | None:
    if status == OPTIMAL:
        return 0.0
    if bound is None or status == INFEASIBLE:
        return None
    scale = max(abs(objective), 1e-12)
    return float(abs(objective - bound) / scale)


def _infeasible_note(problem: str, inputs: _Inputs) -> str:
    if problem == "pmedian" and inputs.capacities is not None:
        return ("infeasible: no choice of p sites can hold every demand point within its "
                "reach and the capacities; no sites are proposed")
    return (f"infeasible: {inputs.p} new sites cannot serve every demand point within the "
            "cutoff; no sites are proposed (raise p, or use mclp)")
