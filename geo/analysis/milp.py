"""A small mixed-integer programme handed to HiGHS in one call, built from numpy arrays.

The siting models are sparse and regular (one row per demand group, one column per pair or
site), so they are written as coordinate triplets and passed as one column-wise matrix: no
Python object per variable or constraint, which is where modelling layers such as PuLP spend
most of their time on large instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from geo.errors import GeoError

# Relative gap below which a solve counts as proven optimal (HiGHS's own default is 1e-4,
# loose enough to stop 0.01 % short of the optimum, which we would then call optimal).
OPTIMAL_GAP = 1e-9

# "optimal": proven; "time_limit": stopped by the limit (solution: the best found, if any);
# "infeasible": proven to have no solution.
OPTIMAL, TIME_LIMIT, INFEASIBLE = "optimal", "time_limit", "infeasible"

Progress = Callable[[str], None]


class SolverError(GeoError):
    """The solver stopped for a reason other than an answer, infeasibility or the time limit."""


@dataclass(frozen=True)
class Solved:
    status: str
    values: np.ndarray | None  # one per column; None when no solution was found
    objective: float | None
    bound: float | None  # the solver's proven bound on the objective
    gap: float | None  # relative gap between objective and bound (0 when optimal)
    seconds: float


@dataclass
class Program:
    """Columns with cost, bounds and integrality; rows as triplets with bounds."""

    maximise: bool = False
    offset: float = 0.0  # a constant added to the objective
    cost: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    n_cols: int = 0
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    coefs: list[np.ndarray] = field(default_factory=list)
    row_lower: list[np.ndarray] = field(default_factory=list)
    row_upper: list[np.ndarray] = field(default_factory=list)
    n_rows: int = 0

    def add_columns(self, cost, *, lower=0.0, upper=1.0, integer: bool = False) -> np.ndarray:
        """Columns with the given costs; returns their indices."""
        cost = np.asarray(cost, dtype=float)
        n = len(cost)
        self.cost.append(cost)
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), n).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), n).copy())
        self.integer.append(np.full(n, integer))
        first = self.n_cols
        self.n_cols += n
        return np.arange(first, first + n)

    def add_rows(self, row, col, coef, *, lower, upper, n_rows: int) -> np.ndarray:
        """``n_rows`` rows with entries (row (0-based among these), col, coef) and bounds."""
        first = self.n_rows
        self.rows.append(np.asarray(row, dtype=np.int64) + first)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.coefs.append(np.broadcast_to(np.asarray(coef, dtype=float), len(self.cols[-1])))
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), n_rows).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), n_rows).copy())
        self.n_rows += n_rows
        return np.arange(first, first + n_rows)

    def solve(self, *, time_limit_s: float, start: np.ndarray | None = None,
              progress: Progress | None = None) -> Solved:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
        h.setOptionValue("mip_rel_gap", OPTIMAL_GAP)
        h.setOptionValue("threads", 1)  # deterministic, and a web worker shares its CPU
        h.passModel(self._lp())
        if start is not None:
            h.setSolution(_solution(start))
        if progress is not None:
            _report_improvements(h, progress)
        began = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - began
        return _solved(h, seconds, integer=bool(np.concatenate(self.integer).any())
                       if self.integer else False)

    def _lp(self) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_ = _cat(self.cost)
        lp.offset_ = self.offset
        lp.col_lower_, lp.col_upper_ = _cat(self.lower), _cat(self.upper)
        lp.row_lower_, lp.row_upper_ = _cat(self.row_lower), _cat(self.row_upper)
        matrix = sp.csc_array((_cat(self.coefs), (_cat(self.rows, int), _cat(self.cols, int))),
                              shape=(self.n_rows, self.n_cols))
        matrix.sum_duplicates()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n_cols, self.n_rows
        integer = _cat(self.integer, bool)
        if integer.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else
                               highspy.HighsVarType.kContinuous for i in integer]
        lp.sense_ = highspy.ObjSense.kMaximize if self.maximise else highspy.ObjSense.kMinimize
        return lp


def _cat(parts: list[np.ndarray], dtype=float) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)


def _solution(values: np.ndarray) -> highspy.HighsSolution:
    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(values, dtype=float).tolist()
    solution.value_valid = True
    return solution


def _report_improvements(h: highspy.Highs, progress: Progress) -> None:
    """Tell ``progress`` each time the solver finds a better solution, with the gap then."""

    def improved(event) -> None:
        out = event.data_out
        gap = out.mip_gap
        progress(f"solving: best {out.objective_function_value:.6g}"
                 + (f", gap {100 * gap:.2f}%" if np.isfinite(gap) else ""))

    h.cbMipImprovingSolution.subscribe(improved)


def _solved(h: highspy.Highs, seconds: float, *, integer: bool) -> Solved:
    status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value, dtype=float) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else None
    if status == highspy.HighsModelStatus.kInfeasible:
        return Solved(INFEASIBLE, None, None, None, None, seconds)
    if status == highspy.HighsModelStatus.kOptimal:
        optimal_gap = float(info.mip_gap) if integer and np.isfinite(info.mip_gap) else 0.0
        proven = float(info.mip_dual_bound) if integer else objective
        return Solved(OPTIMAL, values, objective, proven, max(optimal_gap, 0.0), seconds)
    if status not in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt):
        raise SolverError(f"solver: HiGHS stopped with status {h.modelStatusToString(status)}")
    bound = float(info.mip_dual_bound) if integer else None
    gap = float(info.mip_gap) if integer and has_solution and np.isfinite(info.mip_gap) else None
    return Solved(TIME_LIMIT, values, objective, bound, gap, seconds)
