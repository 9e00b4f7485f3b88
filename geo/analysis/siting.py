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
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo.analysis.milp import (
    INFEASIBLE,
    OPTIMAL,
    OPTIMAL_GAP,
    TIME_LIMIT,
    Progress,
)
from geo.analysis.siting_models import (
    Answer,
    ModelInputs,
    NoSolutionError,
    canonical_csr,
    solve_model,
)
from geo.core.jsonable import jsonable
from geo.core.validate import check_choice
from geo.errors import ValidationError
from geo.routing.matrix import CostMatrix

__all__ = ["CAPACITATED", "DEFAULT_TIME_LIMIT_S", "NEEDS_CUTOFF", "NEEDS_P", "PROBLEMS",
           "NoSolutionError", "SitingMatrix", "SitingSolution", "check_p", "solve_siting"]

PROBLEMS = ("lscp", "mclp", "pmedian", "pcenter")
CAPACITATED = ("mclp", "pmedian")
NEEDS_CUTOFF = ("lscp", "mclp")
NEEDS_P = ("mclp", "pmedian", "pcenter")
DEFAULT_TIME_LIMIT_S = 60.0



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
        return cls(canonical_csr(matrix, rows, cols, dense[rows, cols]), weights, demand_ids,
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
    answer = solve_model(problem, inputs, say)
    return _solution(matrix, problem, inputs, answer, cutoff=cutoff, unit=unit,
                     seconds=time.perf_counter() - began)


# ---- inputs -----------------------------------------------------------------------------------


def _inputs(matrix: SitingMatrix, problem: str, *, p, cutoff, capacities, fixed, excluded,
            time_limit_s, began, unit: str = "") -> ModelInputs:
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
    return ModelInputs(allowed, weights, served, fixed_mask, free, caps, p,
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


def check_p(problem: str, p, *, field: str = "p") -> int | None:
    """``p`` as ``problem`` takes it: a whole number of new sites ≥ 1 for mclp, pmedian and
    pcenter, none for lscp (which finds it). For callers that check a request before the
    candidates are known (``field``: their name for it)."""
    if problem not in NEEDS_P:
        if p is not None:
            raise ValidationError(f"{field}: {problem} finds the number of sites itself; give "
                                  f"no {field}")
        return None
    if p is None:
        raise ValidationError(f"{field}: {problem} needs the number of new sites to choose")
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        raise ValidationError(f"{field}: expected a whole number of sites, got {p!r}")
    if p <= 0:
        raise ValidationError(f"{field}: expected at least 1 new site, got {p}")
    return int(p)


def _check_p(problem: str, p, n_free: int, m: int, n_excluded: int) -> int | None:
    p = check_p(problem, p)
    if p is None:
        if n_free == 0:
            raise ValidationError("candidates: every candidate is kept or excluded; none is "
                                  "left to choose from")
        return None
    if p > n_free:
        why = (f" ({n_excluded} of the {m} are excluded)" if n_excluded else "")
        raise ValidationError(f"p: {p} new sites asked for, but only {n_free} candidates can be "
                              f"chosen{why}")
    return p


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
    return canonical_csr(costs, rows[keep], costs.indices[keep], costs.data[keep])


def _nothing_reached(costs: sp.csr_array, columns: np.ndarray, cutoff: float | None,
                     unit: str) -> str:
    usable = columns[costs.indices]
    if not usable.any():
        return ("candidates: no candidate that may be chosen or kept is reachable from any "
                "demand point")
    nearest = float(costs.data[usable].min())
    return (f"cutoff: no candidate is within {cutoff:g}{unit} of any demand point (the nearest "
            f"pair is {nearest:g}{unit}); raise the cutoff")


# ---- the solution -----------------------------------------------------------------------------


def _solution(matrix: SitingMatrix, problem: str, inputs: ModelInputs, answer: Answer, *,
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
    if answer.status == TIME_LIMIT and (bound is None or not np.isfinite(bound)):
        bound = _plain_bound(problem, inputs)  # stopped before the solver had a bound
    notes = list(inputs.notes)
    if answer.status == INFEASIBLE:
        notes.append(_infeasible_note(problem, inputs))
    gap = _gap(problem, answer.status, objective, bound)
    status = answer.status
    if status == TIME_LIMIT and gap is not None and gap <= OPTIMAL_GAP:
        status, gap = OPTIMAL, 0.0  # the solution meets a proven bound: proven after all
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
        problem=problem, status=status, objective=objective, bound=bound, gap=gap,
        sites=tuple(ids[open_ & inputs.free].tolist()), kept=tuple(ids[inputs.fixed].tolist()),
        p=inputs.p, cutoff=cutoff, capacitated=inputs.capacities is not None,
        assignment=assignment, loads=loads, unreachable=unreachable, total_demand=total,
        covered_demand=covered, solve_time_s=seconds, notes=tuple(notes))


def _nearest_flows(inputs: ModelInputs, open_: np.ndarray):
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


def _loads(ids, open_, inputs: ModelInputs, cols, amount) -> pd.DataFrame:
    sites = np.flatnonzero(open_)
    load = np.bincount(cols, weights=amount, minlength=len(ids))[sites]
    capacity = (inputs.capacities[sites] if inputs.capacities is not None
                else np.full(len(sites), np.nan))
    return pd.DataFrame({"site": ids[sites], "kept": inputs.fixed[sites], "load": load,
                         "capacity": capacity})


def _objective(problem, inputs: ModelInputs, open_, amount, cost, covered) -> float:
    if problem == "lscp":
        return float((open_ & inputs.free).sum())
    if problem == "mclp":
        return covered
    if problem == "pmedian":
        return float((amount * cost).sum())
    return float(cost.max()) if len(cost) else 0.0


def _plain_bound(problem: str, inputs: ModelInputs) -> float:
    """A bound every solution respects, known without a solver: all reachable demand covered
    (mclp), everyone at their nearest candidate (pmedian, pcenter), one site (lscp)."""
    rows = np.flatnonzero(inputs.served)
    if problem == "mclp":
        return float(inputs.weights[rows].sum())
    if problem == "lscp":
        return 1.0
    sub = sp.csr_array(inputs.allowed[rows])
    nearest = np.minimum.reduceat(sub.data, sub.indptr[:-1]) if len(rows) else np.zeros(0)
    if problem == "pmedian":
        return float((inputs.weights[rows] * nearest).sum())
    return float(nearest.max()) if len(nearest) else 0.0


def _gap(problem: str, status: str, objective: float, bound: float | None) -> float | None:
    if status == OPTIMAL:
        return 0.0
    if bound is None or status == INFEASIBLE:
        return None
    scale = max(abs(objective), 1e-12)
    return float(abs(objective - bound) / scale)


def _infeasible_note(problem: str, inputs: ModelInputs) -> str:
    if problem == "pmedian" and inputs.capacities is not None:
        return ("infeasible: no choice of p sites can hold every demand point within its "
                "reach and the capacities; no sites are proposed")
    return (f"infeasible: {inputs.p} new sites cannot serve every demand point within the "
            "cutoff; no sites are proposed (raise p, or use mclp)")
