"""Bounds for the uncapacitated p-median without a solver: a Lagrangian lower bound, a local
search upper bound, and the sites the two together prove open or closed.

Relaxing the assignment rows (each demand point to exactly one site) with multipliers λ gives
L(λ) = Σλ + Σ ρ over the kept sites and the p new sites of smallest ρ, where ρ_j = Σ_i min(0,
w_i c_ij − λ_i) over the pairs of site j. Every L(λ) is a lower bound, and the best equals the
linear relaxation's (Beasley, 1993). Given a solution of cost U, a site j outside the p chosen
at some λ can only be open in a solution costing at least L(λ) + ρ_j − ρ_(p) (swap it for the
p-th), so when that reaches U it is closed in every better solution; likewise a chosen site
whose removal bound L(λ) − ρ_j + ρ_(p+1) reaches U is open in every better one. These fixings
hold together, whatever λ each came from.

The upper bound is the interchange local search (Teitz and Bart, 1968) with the gain, loss and
"extra" terms of Resende and Werneck (2007), all computed over the pairs at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

_POLYAK_START = 2.0  # the step scale θ of the subgradient method, halved when it stalls
_STALL = 25  # iterations without a better bound before θ is halved
_MIN_THETA = 1e-4
_FIX_EVERY = 10  # iterations between fixings (and whenever the bound is near its best)
_SEARCH_EVERY = 50  # subgradient iterations between local searches from the Lagrangian sites
_WINDOW, _PROGRESS = 100, 0.25  # stop when the gap shrank less than this over this many
_SMALL = 0.75  # or when this share of the near pairs and of the free sites is ruled out
_NEAR_MIN, _NEAR_SHARES = 8, 4  # pairs per row in the relaxation: at least, shares of m/p


@dataclass(frozen=True)
class Pairs:
    """The weighted costs w_i c_ij of each demand row's reachable candidates, sorted by row and
    cost. ``fixed``: kept open; ``free``: may be chosen; ``p`` new sites are chosen."""

    n_rows: int
    indptr: np.ndarray
    row: np.ndarray
    col: np.ndarray
    cost: np.ndarray  # weighted
    raw: np.ndarray  # unweighted
    fixed: np.ndarray
    free: np.ndarray
    p: int
    unserved: float  # the cost charged for a row with no open site (larger than any solution)
    whole: bool  # every weighted cost is a whole number

    @classmethod
    def of(cls, allowed: sp.csr_array, weights: np.ndarray, *, fixed: np.ndarray,
           free: np.ndarray, p: int) -> Pairs:
        """From the allowed costs of the served rows (each row has at least one pair)."""
        row = np.repeat(np.arange(allowed.shape[0]), np.diff(allowed.indptr))
        cost = allowed.data * weights[row]
        order = np.lexsort((allowed.indices, cost, row))
        top = np.maximum.reduceat(cost, allowed.indptr[:-1]) if len(cost) else np.zeros(0)
        return cls(allowed.shape[0], allowed.indptr.astype(np.int64), row[order],
                   allowed.indices[order].astype(np.int64), cost[order], allowed.data[order],
                   fixed, free, int(p), float(top.sum()) + 1.0,
                   bool(np.array_equal(cost, np.rint(cost))))

    def nearest_two(self, open_: np.ndarray):
        """Per row: the cost of its nearest open site, that site (−1 if none) and the cost of
        the second nearest (``unserved`` where there is none)."""
        is_open = open_[self.col]
        seen = np.cumsum(is_open)
        before = np.r_[0, seen][self.indptr[:-1]]
        rank = seen - before[self.row]
        d1 = np.full(self.n_rows, self.unserved)
        d2 = np.full(self.n_rows, self.unserved)
        site = np.full(self.n_rows, -1)
        first, second = is_open & (rank == 1), is_open & (rank == 2)
        d1[self.row[first]] = self.cost[first]
        site[self.row[first]] = self.col[first]
        d2[self.row[second]] = self.cost[second]
        return d1, site, d2

    def nearest_k(self, k: int) -> tuple[Pairs, np.ndarray, np.ndarray]:
        """Each row's ``k`` cheapest pairs, their index here, and per row the cost of the next
        pair (inf if none)."""
        rank = np.arange(len(self.cost)) - self.indptr[:-1][self.row]
        near = rank < k
        counts = np.minimum(np.diff(self.indptr), k)
        indptr = np.r_[0, np.cumsum(counts)]
        has_next = np.diff(self.indptr) > k
        beyond = np.full(self.n_rows, np.inf)
        beyond[has_next] = self.cost[self.indptr[:-1][has_next] + k]
        sub = Pairs(self.n_rows, indptr, self.row[near], self.col[near], self.cost[near],
                    self.raw[near], self.fixed, self.free, self.p, self.unserved, self.whole)
        return sub, np.flatnonzero(near), beyond

    def tolerance(self, upper: float, gap: float) -> float:
        """How far below ``upper`` a bound proves it optimal: the relative ``gap``, or just
        under 1 when every weighted cost is a whole number (a better solution is 1 lower)."""
        relative = gap * abs(upper) if np.isfinite(upper) else 0.0
        return max(relative, 1.0 - 1e-6) if self.whole else relative

    def total(self, open_: np.ndarray) -> float:
        """The cost of serving every row from its nearest open site (inf if one has none)."""
        d1, site, _ = self.nearest_two(open_)
        return float(d1.sum()) if (site >= 0).all() else np.inf


def local_search(pairs: Pairs, open_: np.ndarray, *, deadline: float) -> tuple[np.ndarray, float]:
    """Best-improvement swaps of one new site for a closed candidate until none improves."""
    open_ = open_.copy()
    m = len(open_)
    while time.perf_counter() < deadline:
        d1, site, d2 = pairs.nearest_two(open_)
        current = float(d1.sum())
        ins = np.flatnonzero(pairs.free & ~open_)
        outs = np.flatnonzero(pairs.free & open_)
        if len(ins) == 0 or len(outs) == 0:
            break
        in_index = np.full(m, -1)
        in_index[ins] = np.arange(len(ins))
        out_index = np.full(m, -1)
        out_index[outs] = np.arange(len(outs))
        has = site >= 0
        loss = np.bincount(out_index[site[has]].clip(-1) + 1, weights=(d2 - d1)[has],
                           minlength=len(outs) + 1)[1:]
        candidate = in_index[pairs.col] >= 0
        near = candidate & (pairs.cost < d1[pairs.row])
        gain = np.bincount(in_index[pairs.col[near]],
                           weights=d1[pairs.row[near]] - pairs.cost[near], minlength=len(ins))
        # extra(j, r): rows served by r that j would serve better than their second site
        who = candidate & (pairs.cost < d2[pairs.row])
        r = out_index[site[pairs.row[who]]]
        mine = r >= 0
        rows_who = pairs.row[who][mine]
        extra = np.bincount(in_index[pairs.col[who][mine]] * len(outs) + r[mine],
                            weights=d2[rows_who] - np.maximum(d1[rows_who],
                                                              pairs.cost[who][mine]),
                            minlength=len(ins) * len(outs)).reshape(len(ins), len(outs))
        profit = gain[:, None] - loss[None, :] + extra
        best = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if profit[best] <= 1e-12 * max(abs(current), 1.0):
            break
        trial = open_.copy()
        trial[ins[best[0]]], trial[outs[best[1]]] = True, False
        if pairs.total(trial) >= current:  # rounding; the exact cost decides
            break
        open_ = trial
    return open_, pairs.total(open_)


@dataclass(frozen=True)
class Bounds:
    lower: float
    upper: float
    best: np.ndarray  # the open sites (kept and new) of the upper bound
    closed: np.ndarray  # bool per candidate: closed in every solution better than ``upper``
    opened: np.ndarray  # bool per candidate: open in every solution better than ``upper``
    unused: np.ndarray  # bool per pair: no solution better than ``upper`` assigns by it
    iterations: int


def lagrangian(pairs: Pairs, *, deadline: float, gap: float,
               max_iterations: int = 3000) -> Bounds:
    """Subgradient optimisation of L(λ) with Polyak steps toward the best known solution,
    improved by local search from the Lagrangian sites now and then. Stops when the bounds meet
    (within the relative ``gap``), θ has shrunk, or the deadline passes. When no solution
    serves every row, ``upper`` is inf and nothing is fixed."""
    m = len(pairs.free)
    nearest = pairs.cost[pairs.indptr[:-1]]
    best, upper = local_search(pairs, greedy(pairs), deadline=deadline)
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    unused = np.zeros(len(pairs.cost), dtype=bool)
    if not np.isfinite(upper):
        return Bounds(-np.inf, upper, best, closed, opened, unused, 0)
    d1, _, _ = pairs.nearest_two(best)
    # λ_i at most the cost of row i's pair beyond its k cheapest, so only those k count in ρ
    share = -(-m // (pairs.p + int(pairs.fixed.sum())))
    near, index, beyond = pairs.nearest_k(max(_NEAR_MIN, _NEAR_SHARES * share))
    ceiling = np.minimum(_fixed_ceiling(pairs), beyond)
    lam = np.minimum(d1, ceiling)
    near_unused = np.zeros(len(near.cost), dtype=bool)
    far = np.ones(len(pairs.cost), dtype=bool)
    far[index] = False
    lower, theta, stall = -np.inf, _POLYAK_START, 0
    tried: set[bytes] = {best.tobytes()}
    iteration, gaps = 0, []
    for iteration in range(1, max_iterations + 1):  # noqa: B007 (reported)
        value, rho, chosen = _dual(near, lam)
        improved = value > lower + 1e-12 * abs(value)
        if improved:
            lower, stall = value, 0
        else:
            stall += 1
            if stall >= _STALL:
                theta, stall = theta / 2, 0
        tolerance = pairs.tolerance(upper, gap)
        if improved or iteration % _FIX_EVERY == 0:
            _fix(near, lam, rho, chosen, value, upper - tolerance, closed, opened, near_unused)
            # a pair beyond the k cheapest costs at least ``beyond`` − λ more
            unused |= far & (value + beyond - lam >= upper - tolerance)[pairs.row]
        if _search_now(iteration) and chosen.tobytes() not in tried:
            tried.add(chosen.tobytes())
            found, cost = local_search(pairs, chosen, deadline=deadline)
            if cost < upper:
                best, upper = found, cost
        gaps.append(upper - lower)
        stalled = len(gaps) > _WINDOW and gaps[-1] > (1 - _PROGRESS) * gaps[-1 - _WINDOW]
        small = near_unused.mean() >= _SMALL and closed.sum() >= _SMALL * pairs.free.sum()
        if (lower >= upper - tolerance or theta < _MIN_THETA or stalled or small
                or time.perf_counter() > deadline):
            break
        served = np.bincount(near.row, weights=((near.cost < lam[near.row])
                                                & chosen[near.col]), minlength=pairs.n_rows)
        step = 1.0 - served
        norm = float(step @ step)
        if norm == 0:
            lower = max(lower, value)
            break
        lam = np.clip(lam + theta * (upper - value) / norm * step, nearest, ceiling)
    unused[index] |= near_unused
    return Bounds(lower, upper, best, closed, opened, unused, iteration)


def _search_now(iteration: int) -> bool:
    """Often at first (the bounds' progress depends on a good solution), then every so often."""
    return iteration in (10, 25) or iteration % _SEARCH_EVERY == 0


def greedy(pairs: Pairs) -> np.ndarray:
    """Open, one at a time, the free site that lowers the total cost most."""
    open_ = pairs.fixed.copy()
    for _ in range(pairs.p):
        d1, _, _ = pairs.nearest_two(open_)
        better = pairs.free[pairs.col] & ~open_[pairs.col] & (pairs.cost < d1[pairs.row])
        gain = np.bincount(pairs.col[better], weights=(d1[pairs.row] - pairs.cost)[better],
                           minlength=len(open_))
        gain[~pairs.free | open_] = -1.0
        open_[int(np.argmax(gain))] = True
    return open_


def _fixed_ceiling(pairs: Pairs) -> np.ndarray:
    """Per row: the weighted cost to its nearest kept site (λ above it gains nothing)."""
    if not pairs.fixed.any():
        return np.full(pairs.n_rows, np.inf)
    d1, site, _ = pairs.nearest_two(pairs.fixed)
    return np.where(site >= 0, d1, np.inf)


def _dual(pairs: Pairs, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """L(λ), ρ per candidate and the sites open in the relaxation's solution."""
    rho = np.bincount(pairs.col, weights=np.minimum(pairs.cost - lam[pairs.row], 0.0),
                      minlength=len(pairs.free))
    chosen = pairs.fixed.copy()
    free_sites = np.flatnonzero(pairs.free)
    chosen[free_sites[np.argsort(rho[free_sites], kind="stable")[:pairs.p]]] = True
    return float(lam.sum() + rho[chosen].sum()), rho, chosen


def _fix(pairs: Pairs, lam: np.ndarray, rho: np.ndarray, chosen: np.ndarray, value: float,
         target: float, closed: np.ndarray, opened: np.ndarray, unused: np.ndarray) -> None:
    """Mark the free sites whose forced opening (closing) lifts L(λ) to ``target``, and the
    pairs whose forced use does: that costs their reduced cost plus opening their site."""
    inside = pairs.free & chosen
    outside = pairs.free & ~chosen
    if not outside.any():
        return
    worst_in = rho[inside].max()
    to_open = np.where(outside, rho - worst_in, 0.0)
    closed |= outside & (value + to_open >= target)
    best_out = rho[outside].min()
    opened |= inside & (value - rho + best_out >= target)
    reduced = np.maximum(pairs.cost - lam[pairs.row], 0.0)
    unused |= value + reduced + to_open[pairs.col] >= target
