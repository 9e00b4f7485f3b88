"""Benchmark facility siting: ours (``geo.analysis.siting``, HiGHS) vs PySAL spopt (PuLP + CBC).

Side by side in one run, on identical cost matrices of real walking times: seeded demand and
candidate points along the roads of the Liechtenstein walk network, costed by
``geo.routing.matrix.cost_matrix`` (no cutoff: every pair), demand weights seeded integers
1..100. Prints the command line, the machine and a markdown table of times, ratios and
objectives. Timings are measured and printed, never asserted (the exit status is 0 either way).

    python scripts/bench_siting.py                    # full run (about 10 minutes)
    python scripts/bench_siting.py --spopt-limit 60   # give spopt less time on the hard case
    python scripts/bench_siting.py --quick            # smoke run on small instances (seconds)

What is timed, once per case:

- spopt as a user calls it: ``MCLP / PMedian / LSCP / PCenter.from_cost_matrix(...)`` (the PuLP
  model build, also reported alone) then ``.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=S))``
  with its default ``results=True``. It runs in a worker subprocess that imports spopt once
  (outside the timings) and solves the cases one after another; a case still running after
  S + 60 s is ended by killing the worker with its CBC (so that the model build is bounded
  too), and the next case gets a new worker.
- ours as a whole: ``SitingMatrix.from_dense(costs, weights)`` then ``solve_siting(...)`` with a
  60 s time limit, in this process after one small warm-up solve (outside the timings).

Both objectives are printed, said "same" when they agree to a relative 1e-6, and each tool's
sites are evaluated again on the matrix (the checks below the table), so that an objective
defined differently by the two tools cannot pass unseen. ``--demo-db PATH`` adds the command
line ``python -m geo site --problem mclp --p 3 --minutes 10`` on that registry, timed as a
subprocess, when ``python -m geo site --help`` works.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import queue
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_network  # noqa: E402  (scripts/ is on the path: shared helpers)
import bench_web  # noqa: E402
import numpy as np  # noqa: E402

RESULT_MARK, BUILD_MARK, READY_MARK = "BENCH_RESULT ", "BENCH_BUILD ", "BENCH_READY "
READY_TIMEOUT_S = 300.0  # the worker importing spopt
NAMES = {"mclp": "MCLP", "pmedian": "p-median", "lscp": "LSCP", "pcenter": "p-center"}
OURS_LIMIT_S = 60.0
KILL_GRACE_S = 60.0  # spopt's subprocess is killed this long after its CBC time limit
RTOL = 1e-6


@dataclass(frozen=True)
class Case:
    problem: str  # "mclp", "pmedian", "lscp" or "pcenter"
    demand: int
    candidates: int
    p: int | None = None
    cutoff_s: float | None = None  # mclp, lscp
    target: float | None = None  # ours at least this many times faster than spopt
    target_optimum: bool = False  # ours must prove the optimum within its time limit



FULL = (Case("mclp", 5_000, 500, p=20, cutoff_s=600.0, target=5.0),
        Case("pmedian", 1_000, 100, p=20, target=3.0),
        Case("pmedian", 2_000, 200, p=20, target_optimum=True),
        Case("lscp", 500, 50, cutoff_s=900.0),
        Case("pcenter", 500, 50, p=5))
QUICK = (Case("mclp", 400, 60, p=5, cutoff_s=600.0),
         Case("pmedian", 200, 30, p=5),
         Case("pmedian", 300, 40, p=5),
         Case("lscp", 150, 20, cutoff_s=900.0),
         Case("pcenter", 150, 20, p=3))


@dataclass
class Instance:
    costs: np.ndarray  # demand × candidates, seconds of walking
    weights: np.ndarray  # integers 1..100
    cutoff_s: float | None
    matrix_s: float  # time to compute the cost matrix (setup, not timed against anything)

    @property
    def size(self) -> str:
        return f"{self.costs.shape[0]:,} × {self.costs.shape[1]:,}"


@dataclass
class Outcome:
    """One tool's answer on one case."""

    total_s: float | None = None
    build_s: float | None = None  # spopt's from_cost_matrix
    objective: float | None = None
    bound: float | None = None  # spopt stopped before an integer solution: its LP relaxation
    sites: list[int] = field(default_factory=list)
    proven: bool = False  # a proven optimum
    status: str = ""
    gap: float | None = None
    killed: bool = False
    error: str = ""
    solve_s: float | None = None  # ours: the solver's own time (result.solve_time_s)


# Instances ---------------------------------------------------------------------------------

def load_network(cache_dir: Path):
    from geo.network.build import DEFAULT_OSM, build_network

    return build_network(DEFAULT_OSM, mode="walk", cache_dir=cache_dir)


def make_instance(net, case: Case, seed: int) -> Instance:
    """Seeded points a few metres beside the roads (as bench_analysis.py places them), their
    walking times from every demand point to every candidate, and seeded weights.

    LSCP must cover every demand point, so its demand is the first ``case.demand`` of 4 times
    as many points that some candidate reaches within the cutoff (fewer if there are not that
    many: the table gives the size solved)."""
    from geo.routing.matrix import cost_matrix
    from tests.analysis_inputs import points_along_roads

    rng = np.random.default_rng([seed, case.demand, case.candidates])
    drawn = case.demand * (4 if case.problem == "lscp" else 1)
    demand = points_along_roads(net, drawn, rng)
    candidates = points_along_roads(net, case.candidates, rng)
    weights = rng.integers(1, 101, drawn)
    start = time.perf_counter()
    costs = cost_matrix(net, demand, candidates, cutoff_s=None, direction="from").to_dense()
    matrix_s = time.perf_counter() - start
    if case.problem == "lscp":
        keep = np.flatnonzero(costs.min(axis=1) <= case.cutoff_s)[:case.demand]
        costs, weights = costs[keep], weights[keep]
    if case.problem in ("pmedian", "pcenter") and not np.isfinite(costs).all():
        raise SystemExit(f"{NAMES[case.problem]} {case.demand:,} × {case.candidates:,}: "
                         "unreachable pairs in the instance (spopt needs finite costs); "
                         "try another --seed")
    return Instance(costs, weights, case.cutoff_s, matrix_s)


def evaluate(case: Case, inst: Instance, sites: list[int]) -> float | None:
    """The objective of ``sites`` computed again from the matrix (None without sites)."""
    if not sites:
        return None
    best = inst.costs[:, sites].min(axis=1)
    if case.problem == "mclp":
        return float(inst.weights[best <= inst.cutoff_s].sum())
    if case.problem == "pmedian":
        return float((inst.weights * best).sum())
    if case.problem == "lscp":
        return float(len(sites)) if (best <= inst.cutoff_s).all() else math.inf
    return float(best.max())


# Ours --------------------------------------------------------------------------------------

def siting_module():
    """``geo.analysis.siting``, or a clear error while it is not there."""
    try:
        from geo.analysis import siting
    except ImportError as exc:
        raise RuntimeError(f"geo.analysis.siting is not available ({exc})") from exc
    return siting


def _options(case: Case, inst: Instance) -> dict:
    options = {}
    if case.problem in ("mclp", "pmedian", "pcenter"):
        options["p"] = case.p
    if case.problem in ("mclp", "lscp"):
        options["cutoff"] = inst.cutoff_s
    return options


def run_ours(case: Case, inst: Instance) -> Outcome:
    try:
        siting = siting_module()
    except RuntimeError as exc:
        return Outcome(error=str(exc))
    start = time.perf_counter()
    matrix = siting.SitingMatrix.from_dense(inst.costs, inst.weights)
    result = siting.solve_siting(matrix, case.problem, time_limit_s=OURS_LIMIT_S,
                                 **_options(case, inst))
    total = time.perf_counter() - start
    return Outcome(total_s=total, objective=_number(result.objective),
                   sites=[int(s) for s in result.sites], proven=result.status == "optimal",
                   status=str(result.status), gap=_number(result.gap),
                   solve_s=_number(result.solve_time_s))


def warm_up(inst: Instance) -> None:
    """One tiny p-median solve, so that the first timed case does not pay for loading HiGHS."""
    with_small = Instance(inst.costs[:20, :5], inst.weights[:20], None, 0.0)
    run_ours(Case("pmedian", 20, 5, p=2), with_small)


def _number(value) -> float | None:
    return None if value is None else float(value)


# spopt (in a subprocess) -------------------------------------------------------------------

class SpoptWorker:
    """This script with ``--spopt-worker``: imports spopt once, then solves the instances whose
    files it is sent on its standard input, one JSON line back each. A case that outlives its
    time limit + 60 s is ended by killing the worker's process group (the worker and its CBC);
    the next case starts a new worker. PuLP's files go to the run's temporary folder."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue = queue.Queue()

    def start(self) -> None:
        self.lines = queue.Queue()
        self.stderr = open(self.tmp / "worker.err", "w")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--spopt-worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env={**os.environ, "TMPDIR": str(self.tmp)}, start_new_session=True)
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                         daemon=True).start()
        if self._next(READY_TIMEOUT_S) != READY_MARK.strip():
            raise RuntimeError(f"the spopt worker did not start: {self._stderr_tail()}")

    @staticmethod
    def _read(stream, lines: queue.Queue) -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)  # end of output: the worker exited

    def _next(self, timeout: float) -> str | None:
        return self.lines.get(timeout=max(timeout, 0.0))

    def _stderr_tail(self) -> str:
        self.stderr.flush()
        text = (self.tmp / "worker.err").read_text().strip().splitlines()
        return text[-1] if text else f"exit status {self.proc.poll()}"

    def solve(self, case: Case, inst: Instance, limit_s: float) -> Outcome:
        if self.proc is None:
            self.start()
        path = self.tmp / "instance.npz"
        np.savez(path, costs=inst.costs, weights=inst.weights, problem=case.problem,
                 p=-1 if case.p is None else case.p,
                 cutoff=np.nan if inst.cutoff_s is None else inst.cutoff_s, limit=limit_s)
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + limit_s + KILL_GRACE_S
        found: dict = {}
        while True:
            try:
                line = self._next(deadline - time.monotonic())
            except queue.Empty:
                self.stop(kill=True)
                return Outcome(build_s=found.get("build_s"), killed=True,
                               status=f"killed after {limit_s + KILL_GRACE_S:g} s")
            if line is None:
                error = f"spopt failed: {self._stderr_tail()}"
                self.stop(kill=True)
                return Outcome(build_s=found.get("build_s"), error=error)
            for mark in (BUILD_MARK, RESULT_MARK):
                if line.startswith(mark):
                    found.update(json.loads(line[len(mark):]))
            if line.startswith(RESULT_MARK):
                return Outcome(total_s=found["total_s"], build_s=found["build_s"],
                               objective=found["objective"], bound=found["bound"],
                               sites=found["sites"],
                               proven=found["proven"], status=found["status"],
                               error=found["error"])

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        if not kill:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill = True
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.stderr.close()
        self.proc = None


def spopt_model(problem: str, costs, weights, p: int, cutoff: float):
    """spopt's model of ``problem``, built from the cost matrix."""
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    if problem == "mclp":
        return MCLP.from_cost_matrix(costs, weights, service_radius=cutoff, p_facilities=p)
    if problem == "pmedian":
        return PMedian.from_cost_matrix(costs, weights, p_facilities=p)
    if problem == "lscp":
        return LSCP.from_cost_matrix(costs, service_radius=cutoff)
    return PCenter.from_cost_matrix(costs, p_facilities=p)  # no weights: the worst cost


def spopt_worker() -> int:
    """Solve the instance of each file named on standard input with spopt, as a user calls it;
    print the model build's time as soon as it is known, then the result, as JSON lines."""
    import pulp
    import spopt.locate  # noqa: F401  (imported before the clock starts)

    print(READY_MARK.strip(), flush=True)
    for name in sys.stdin:
        data = np.load(name.strip())
        costs, weights = data["costs"], data["weights"]
        problem, p = str(data["problem"]), int(data["p"])
        cutoff, limit = float(data["cutoff"]), float(data["limit"])
        start = time.perf_counter()
        model = spopt_model(problem, costs, weights, p, cutoff)
        build_s = time.perf_counter() - start
        print(BUILD_MARK + json.dumps({"build_s": build_s}), flush=True)
        error = ""
        try:
            model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit))
        except RuntimeError as exc:  # spopt's check_status: CBC stopped without a solution
            error = str(exc)
        total_s = time.perf_counter() - start
        # PuLP says "Optimal" also when CBC stopped on its time limit with an integer solution;
        # only the solution status tells a proven optimum (LpSolutionOptimal) from a feasible
        # one (LpSolutionIntegerFeasible). Stopped before any integer solution, CBC hands back
        # the LP relaxation's values ("no integer solution - continuous used"): a bound only.
        sol_status = model.problem.sol_status
        values = [v.value() for v in model.fac_vars]
        sites = [j for j, v in enumerate(values) if v is not None and v > 0.5]
        value = model.problem.objective.value() if any(v is not None for v in values) else None
        integer = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        print(RESULT_MARK + json.dumps({
            "total_s": total_s, "build_s": build_s,
            "objective": float(value) if integer and value is not None else None,
            "bound": float(value) if not integer and value is not None else None,
            "sites": sites if integer else [],
            "proven": sol_status == pulp.LpSolutionOptimal,
            "status": f"{pulp.LpStatus[model.problem.status]} / {pulp.LpSolution[sol_status]}",
            "error": error}), flush=True)
        del model
        gc.collect()
    return 0


# Output ------------------------------------------------------------------------------------

_fmt = bench_network._fmt  # seconds as "12.3 s" / "45 ms" / "0.12 ms", as in the other benchmarks


@dataclass
class Row:
    case: Case
    inst: Instance
    spopt: Outcome
    ours: Outcome


def _label(case: Case, inst: Instance) -> str:
    parts = [NAMES[case.problem]]
    if case.p is not None:
        parts.append(f"p = {case.p}")
    if inst.cutoff_s is not None:
        parts.append(f"cutoff {inst.cutoff_s:g} s")
    return ", ".join(parts)


def _objective(problem: str, value: float | None) -> str:
    if value is None:
        return "—"
    if problem in ("mclp", "lscp"):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= RTOL * max(1.0, abs(a), abs(b))


def _spopt_cell(row: Row, limit_s: float) -> str:
    s = row.spopt
    if s.killed:
        return f"no proven optimum within {limit_s:g} s (no answer: killed after " \
               f"{limit_s + KILL_GRACE_S:g} s)"
    if s.total_s is None:
        return s.error
    if not s.proven:
        problem = row.case.problem
        found = (f", best {_objective(problem, s.objective)}" if s.objective is not None else
                 f", no integer solution (LP relaxation {_objective(problem, s.bound)})"
                 if s.bound is not None else ", no solution")
        return f"{_fmt(s.total_s)}: no proven optimum within {limit_s:g} s{found}"
    return _fmt(s.total_s)


def _ratio(row: Row, limit_s: float) -> str:
    s, o, case = row.spopt, row.ours, row.case
    if o.total_s is None:
        return "—"
    spopt_s = limit_s + KILL_GRACE_S if s.killed else s.total_s  # killed: ran at least that
    if spopt_s is None:
        return "—"
    ratio = spopt_s / o.total_s
    text = f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}× (slower)"
    if s.killed or not s.proven:
        text = f"> {text} (spopt unfinished)"
    if case.target is not None:
        met = s.proven and o.proven and ratio >= case.target
        text = f"**{text}** (target ≥ {case.target:g}×: {'met' if met else 'NOT met'})"
    return text


def _objectives(row: Row) -> str:
    s, o, problem = row.spopt, row.ours, row.case.problem
    if s.objective is None or o.objective is None:
        text = f"{_objective(problem, s.objective)} / {_objective(problem, o.objective)}"
        if s.bound is not None and o.objective is not None:
            text += (" (spopt's LP relaxation: the same value)" if same(s.bound, o.objective)
                     else f" (spopt's LP relaxation: {_objective(problem, s.bound)})")
        return text
    text = (f"same: {_objective(problem, o.objective)}" if same(s.objective, o.objective) else
            f"{_objective(problem, s.objective)} / {_objective(problem, o.objective)} "
            f"(differ by {o.objective - s.objective:+,.6g})")
    if problem == "mclp":
        text += f" ({100 * o.objective / row.inst.weights.sum():.1f} % of the demand covered)"
    return text


def _status(row: Row) -> str:
    o, case = row.ours, row.case
    if o.error:
        return o.error
    text = o.status + (f", gap {o.gap:.2%}" if o.gap else "")
    if case.target_optimum:
        text += (f" (target: proven optimum within {OURS_LIMIT_S:g} s: "
                 f"{'met' if o.proven and o.total_s <= OURS_LIMIT_S else 'NOT met'})")
    return text


def render(rows: list[Row], limit_s: float) -> list[str]:
    lines = ["| case | size | spopt (PuLP+CBC) | of which model build | ours (HiGHS) | ratio "
             "| objective spopt / ours | status ours |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |"]
    for row in rows:
        lines.append(
            f"| {_label(row.case, row.inst)} | {row.inst.size} | {_spopt_cell(row, limit_s)} "
            f"| {_fmt(row.spopt.build_s)} | {_fmt(row.ours.total_s)} | {_ratio(row, limit_s)} "
            f"| {_objectives(row)} | {_status(row)} |")
    return lines


def checks(rows: list[Row]) -> list[str]:
    """Each tool's sites evaluated again on the matrix against the objective it reported."""
    lines = []
    for row in rows:
        label = f"{_label(row.case, row.inst)}, {row.inst.size}"
        for tool, outcome in (("spopt", row.spopt), ("ours", row.ours)):
            if outcome.objective is None:
                continue
            again = evaluate(row.case, row.inst, outcome.sites)
            verdict = "agrees" if same(again, outcome.objective) else \
                f"**differs**: {_objective(row.case.problem, again)}"
            extra = ""
            if tool == "ours" and outcome.solve_s is not None:
                extra = f"; solve_time_s {_fmt(outcome.solve_s)} of {_fmt(outcome.total_s)}"
            elif tool == "spopt":
                extra = f"; PuLP status {outcome.status}"
            lines.append(f"{label}, {tool}: {len(outcome.sites)} sites, objective of the sites "
                         f"recomputed from the matrix {verdict}{extra}")
    return lines


def machine_info() -> list[str]:
    """bench_web.py's machine lines, with the solvers' versions."""
    import importlib.metadata
    import platform

    versions = []
    for package in ("spopt", "pulp", "highspy", "numpy"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    return [bench_web.machine_line(),
            f"python {platform.python_version()}, " + ", ".join(versions)
            + f", CBC {cbc_version()} (PuLP's own binary)",
            bench_web.code_version(), bench_web.load_line(), bench_web.speed_check_line()]


def cbc_version() -> str:
    try:
        import pulp

        done = subprocess.run([pulp.PULP_CBC_CMD().path, "-quit"], capture_output=True,
                              text=True, timeout=30, check=False)
    except (ImportError, OSError, subprocess.SubprocessError):
        return "?"
    for line in done.stdout.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "?"


# End to end --------------------------------------------------------------------------------

def end_to_end(db: Path, cache_dir: Path) -> str:
    """``python -m geo site`` on the demo registry, timed as a subprocess (twice: the first run
    may build the road network into the cache), when the command exists."""
    base = [sys.executable, "-m", "geo", "site"]
    helped = subprocess.run([*base, "--help"], capture_output=True, text=True, cwd=ROOT,
                            check=False)
    if helped.returncode != 0:
        return ("end to end: skipped (`python -m geo site --help` failed: the command is not "
                "there yet)")
    command = [*base, "--db", str(db), "--problem", "mclp", "--p", "3", "--minutes", "10"]
    if "--cache-dir" in helped.stdout:
        command += ["--cache-dir", str(cache_dir)]
    times = []
    for _ in range(2):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["?"])[-1]
            return f"end to end: `{_shown(command)}` failed (exit {done.returncode}): {tail}"
    return (f"end to end: `{_shown(command)}` took {_fmt(times[0])} (then {_fmt(times[1])} "
            "again), the whole process: start, registry, network, matrix, solve, output")


def _shown(command: list[str]) -> str:
    return shlex.join(["python", *command[1:]])


# Main --------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run (seconds)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the points and weights")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "bench",
                        help="network cache (default .cache/bench)")
    parser.add_argument("--spopt-limit", type=float, default=300.0, metavar="S",
                        help="CBC's time limit in seconds (default 300); spopt's process is "
                             "killed after S + 60 s")
    parser.add_argument("--demo-db", type=Path, default=None, metavar="PATH",
                        help="also time `python -m geo site --problem mclp --p 3 --minutes 10` "
                             "on this demo registry")
    parser.add_argument("--spopt-worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.spopt_worker:
        return spopt_worker()
    started = time.perf_counter()
    print("$ " + shlex.join(["python", "scripts/bench_siting.py",
                             *(sys.argv[1:] if argv is None else argv)]))
    print()
    print("\n".join(f"- {line}" for line in machine_info()))
    print()
    start = time.perf_counter()
    net = load_network(args.cache_dir)
    load_s = time.perf_counter() - start
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_siting_") as tmp:
        worker = SpoptWorker(Path(tmp))
        try:
            for i, case in enumerate(QUICK if args.quick else FULL):
                inst = make_instance(net, case, args.seed)
                if i == 0:
                    warm_up(inst)
                print(f"running {NAMES[case.problem]} {inst.size} ...", file=sys.stderr,
                      flush=True)
                ours = run_ours(case, inst)
                spopt = worker.solve(case, inst, args.spopt_limit)
                rows.append(Row(case, inst, spopt, ours))
        finally:
            worker.stop(kill=sys.exc_info()[0] is not None)
    print("\n".join(render(rows, args.spopt_limit)))
    print()
    notes = [f"walk network of Liechtenstein: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
             f"loaded in {_fmt(load_s)}; cost matrices (every pair, no cutoff): "
             + ", ".join(f"{r.inst.size} in {_fmt(r.inst.matrix_s)}" for r in rows),
             "each tool runs once per case; spopt in its worker process (spopt imported before the "
             "timings), ours after one warm-up "
             f"solve; CBC time limit {args.spopt_limit:g} s, ours {OURS_LIMIT_S:g} s",
             *checks(rows)]
    print("\n".join(f"- {line}" for line in notes))
    if args.demo_db is not None:
        print()
        print(end_to_end(args.demo_db, args.cache_dir))
    print()
    load = ("; load average at the end (1/5/15 min): "
            + " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "")
    print(f"total run time {_fmt(time.perf_counter() - started)}{load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
