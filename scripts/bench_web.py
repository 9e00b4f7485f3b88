"""Benchmark the web service under concurrent load: the real service (gunicorn, as
``scripts/serve.sh`` starts it) on loopback, loaded from a second process with ``wrk``.

    python scripts/bench_web.py                   # 20 s per scenario
    python scripts/bench_web.py --duration 5s     # shorter
    python scripts/bench_web.py --profile 200     # also profile 200 dispatches in-process

The run builds a throwaway Liechtenstein demo registry in a temporary folder with one
dispatcher and its API token, and starts ``gunicorn --config web/gunicorn_conf.py`` (one
worker per core unless ``--workers``) on a free loopback port; the road networks come from
``$GEO_CACHE_DIR`` or are built by the service itself into the temporary folder. Once
``/api/health`` answers 200 on every try, each scenario runs for ``--warmup`` (not counted),
then for ``--duration``:

- dispatch: ``POST /api/dispatch`` at incident points drawn (seeded) from the registry's
  population layer, so near roads: a fixed list of ``--bodies`` bodies, cycled;
- teams: ``GET /collections/teams/items?limit=100``;
- mix: in every 10 requests 8 dispatches, an assignment (``POST
  /api/incidents/{id}/assign``) and the release of that team (``POST /api/teams/{id}/release``),
  on the teams available at the start and incidents created first through ``POST
  /collections/incidents/items``. A 409 (the team was taken, or already released, by another
  connection) is an expected answer, reported apart.

Each scenario's table row gives requests per second, latency percentiles, the requests made,
the answers by status, the socket errors (connect, read, write, timeout) and the server's CPU
time per request (gunicorn's processes, from /proc: much steadier than the throughput when
other programs share the machine). ``--profile N`` adds where a dispatch request's time goes:
its phases timed in-process in CPU time, then cProfile's top functions. A 5xx or a socket
error is a failed request; a 4xx other than the mix's 409 is unexpected (a fault of the
benchmark or the service) and counted as failed too. The target for dispatch: at least 200
requests/s with p99 under 100 ms and no failed request; it is printed as PASS or FAIL, never
asserted (the exit status is 0 either way). The server is stopped at the end, on errors and on
Ctrl-C.

The load generator is ``wrk`` (Debian package ``wrk``) with a generated Lua script; without
it, a small Python generator (threads with keep-alive ``http.client`` connections) runs in a
separate process, and the output says so (it saturates much earlier than wrk: its figures are a
floor, not the service's). Client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USER, ROLE = "bench-dispatcher", "dispatcher"
SCENARIOS = ("dispatch", "teams", "mix")
TARGET_RPS, TARGET_P99_MS = 200.0, 100.0
DISPATCH_ITEMS = {"water": 500}
MIX_CYCLE = 10  # of every 10 requests in the mix: 8 dispatches, 1 assign, 1 release
MIX_INCIDENTS = 20
RESULT_MARK = "BENCH_RESULT "
HEALTH_TIMEOUT_S = 600.0
CALIBRATION_STEPS = 10_000_000  # the service may build the road networks first

# wrk runs this in each of its threads: the requests come from a file of tab-separated lines
# (method, path, JSON body or nothing), each thread cycling through them from its own offset;
# the answers are counted by status, and done() prints one JSON line for bench_web.py.
LUA = r"""
local threads, counter = {}, 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local path, token, nthreads = args[1], args[2], tonumber(args[3])
  reqs = {}
  for line in io.lines(path) do
    local method, target, body = line:match("^(%u+)\t([^\t]*)\t(.*)$")
    local headers = {["Authorization"] = "Bearer " .. token}
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    table.insert(reqs, wrk.format(method, target, headers, body))
  end
  n = #reqs
  i = (id * math.floor(n / nthreads)) % n
  statuses = {}
end

function request()
  i = i % n + 1
  return reqs[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    for code, c in pairs(t:get("statuses")) do
      counts[code] = (counts[code] or 0) + c
    end
  end
  local parts = {}
  for code, c in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', code, c))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_s": %.6f, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d}, "latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, ' ..
    '"max": %.3f}, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, table.concat(parts, ", ")))
end
"""


@dataclass
class Result:
    scenario: str
    what: str
    requests: int
    duration_s: float
    latency_ms: dict[str, float]
    statuses: dict[int, int]
    errors: dict[str, int]
    expected: frozenset[int] = frozenset()  # non-2xx statuses that are answers (the mix's 409)
    server_cpu_s: float | None = None  # the server's CPU time over the measured run

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def socket_errors(self) -> int:
        return sum(self.errors.values())

    @property
    def failed(self) -> int:
        """5xx, unexpected 4xx and socket errors."""
        return self.socket_errors + sum(n for code, n in self.statuses.items()
                                        if code >= 300 and code not in self.expected)


# Preparing the registry and the requests ---------------------------------------------------

def prepare_registry(folder: Path, seed: int, n_bodies: int):
    """A demo registry in ``folder`` with a dispatcher and its token; returns (database path,
    token, dispatch bodies, ids of the teams available now)."""
    import numpy as np

    from geo.registry import Registry
    from geo.registry.demo import build_demo

    path = folder / "registry.sqlite"
    with Registry(str(path)) as registry:
        build_demo(registry)
        registry.add_user(USER, ROLE, f"bench-{os.getpid()}-{seed}-password")
        token, _ = registry.create_token(USER)
        population = registry.layer("population")
        teams = registry.layer("teams")
    rng = np.random.default_rng(seed)
    weights = population["population"].to_numpy(dtype=float)
    picks = rng.choice(len(population), size=n_bodies, p=weights / weights.sum())
    points = [(round(float(p.x), 6), round(float(p.y), 6))
              for p in population.geometry.iloc[picks]]
    bodies = [{"at": [lon, lat], "k": 5, "items": DISPATCH_ITEMS} for lon, lat in points]
    available = [str(i) for i in teams.index[teams["status"] == "available"]]
    return path, token, bodies, available


def request_lines(scenario: str, bodies: list[dict], incidents: list[str],
                  teams: list[str]) -> list[tuple[str, str, str]]:
    """The requests of a scenario as (method, path, JSON body or ""), cycled by the load."""
    dispatch = [("POST", "/api/dispatch", json.dumps(b, separators=(",", ":"))) for b in bodies]
    if scenario == "dispatch":
        return dispatch
    if scenario == "teams":
        return [("GET", "/collections/teams/items?limit=100", "")]
    lines = []
    for n in range(len(bodies) // MIX_CYCLE):
        team, incident = teams[n % len(teams)], incidents[n % len(incidents)]
        lines += dispatch[n * MIX_CYCLE:n * MIX_CYCLE + MIX_CYCLE - 2]
        lines.append(("POST", f"/api/incidents/{incident}/assign", json.dumps({"team": team})))
        lines.append(("POST", f"/api/teams/{team}/release",
                      json.dumps({"status": "available"})))
    return lines


def create_incidents(port: int, token: str, bodies: list[dict], n: int) -> list[str]:
    """``n`` open incidents at the first dispatch points, added as the dispatcher would."""
    ids = []
    for body in bodies[:n]:
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": body["at"]},
                   "properties": {"type": "fire", "name": "bench"}}
        status, answer = call(port, "POST", "/collections/incidents/items", token, feature,
                              media="application/geo+json")
        if status != 201:
            raise RuntimeError(f"creating an incident: HTTP {status}: {answer[:500]!r}")
        ids.append(json.loads(answer)["id"])
    return ids


def call(port: int, method: str, path: str, token: str | None = None, body=None, *,
         media: str = "application/json", timeout: float = 30.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), media
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# The server --------------------------------------------------------------------------------

class Server:
    """gunicorn with web/gunicorn_conf.py in its own process group, logging to a file; a
    context manager that stops it (SIGTERM: gunicorn's graceful stop, then SIGKILL)."""

    def __init__(self, folder: Path, db_path: Path, cache_dir: Path, *, port: int,
                 workers: int | None):
        self.port, self.log_path = port, folder / "gunicorn.log"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.command = [str(gunicorn), "--config", "web/gunicorn_conf.py"]
        self.env = {**os.environ, "GEO_WEB_BIND": f"127.0.0.1:{port}", "GEO_DB_URL": str(db_path),
                    "GEO_CACHE_DIR": str(cache_dir),
                    "GEO_WEB_INSTANCE_PATH": str(folder / "instance")}
        self.env.pop("GEO_WEB_ACCESS_LOG", None)
        self.env.pop("GEO_WEB_CONFIG", None)
        if workers is not None:
            self.env["GEO_WEB_WORKERS"] = str(workers)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_ready(self, timeout_s: float = HEALTH_TIMEOUT_S) -> float:
        """Seconds until /api/health answered 200 on fresh connections as many times in a row
        as there are workers, twice over (each worker loads the networks on its own)."""
        started = time.perf_counter()
        in_a_row = 0
        while in_a_row < 2 * max(1, len(self.workers())):
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped (exit {self.process.returncode}):\n"
                                   + self.log_tail())
            if time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"not ready after {timeout_s:.0f} s:\n" + self.log_tail())
            try:
                status, _ = call(self.port, "GET", "/api/health", timeout=5.0)
            except OSError:
                status = 0
            in_a_row = in_a_row + 1 if status == 200 else 0
            if status != 200:
                time.sleep(0.2)
        return time.perf_counter() - started

    def workers(self) -> list[int]:
        """The worker processes' ids (the master's children, from /proc)."""
        if self.process is None:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in path.read_text().split()]
        return []

    def cpu_s(self) -> float | None:
        """CPU seconds (user + system) the master and its workers have used so far, from
        /proc (None elsewhere): a cost per request that other programs on a shared machine
        disturb far less than throughput."""
        pids = [self.process.pid, *self.workers()] if self.process is not None else []
        total = 0.0
        try:
            for pid in pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            return None
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process is not None:
            # Workers left behind by a master that died hard share its process group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if hasattr(self, "_log"):
            self._log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Load --------------------------------------------------------------------------------------

def run_load(tool: str, port: int, token: str, lines_file: Path, *, seconds: float,
             connections: int, threads: int, folder: Path) -> dict:
    """One load run from a separate process; the load generator's result line, parsed."""
    url = f"http://127.0.0.1:{port}"
    if tool == "wrk":
        lua = folder / "bench_web.lua"
        lua.write_text(LUA)
        command = [shutil.which("wrk") or "wrk", "--threads", str(threads), "--connections",
                   str(max(connections, threads)), "--duration", f"{seconds:g}s",
                   "--timeout", "10s", "--latency", "--script", str(lua), url,
                   "--", str(lines_file), token, str(threads)]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--load-generator",
                   json.dumps({"port": port, "token": token, "lines": str(lines_file),
                               "seconds": seconds, "connections": connections})]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120,
                          check=False)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    raise RuntimeError(f"{shlex.join(command[:1])} gave no result (exit {done.returncode}):\n"
                       f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def python_load(spec: dict) -> dict:
    """The fallback load generator: one thread per connection, each a keep-alive
    http.client connection sending the requests in turn from its own offset."""
    lines = [line.split("\t", 2) for line in Path(spec["lines"]).read_text().splitlines()]
    connections, deadline = spec["connections"], time.perf_counter() + spec["seconds"]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()

    def worker(offset: int) -> None:
        mine_ms, mine_status, mine_errors = [], Counter(), Counter()
        conn = None
        i = offset
        while time.perf_counter() < deadline:
            method, target, body = lines[i % len(lines)]
            i += 1
            headers = {"Authorization": f"Bearer {spec['token']}"}
            if body:
                headers["Content-Type"] = "application/json"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=10)
                    conn.connect()
                start = time.perf_counter()
                conn.request(method, target, body=body.encode() if body else None,
                             headers=headers)
                response = conn.getresponse()
                response.read()
                mine_ms.append((time.perf_counter() - start) * 1e3)
                mine_status[response.status] += 1
            except TimeoutError:
                mine_errors["timeout"] += 1
                conn = None
            except ConnectionRefusedError:
                mine_errors["connect"] += 1
                conn = None
            except (OSError, http.client.HTTPException):
                mine_errors["read"] += 1
                conn = None
        with lock:
            latencies.extend(mine_ms)
            statuses.update(mine_status)
            errors.update(mine_errors)

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(n * len(lines) // connections,))
               for n in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    duration = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] \
            if latencies else 0.0

    return {"requests": len(latencies), "duration_s": duration,
            "errors": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
            "latency_ms": {"p50": percentile(50), "p90": percentile(90), "p99": percentile(99),
                           "max": latencies[-1] if latencies else 0.0},
            "statuses": {str(k): v for k, v in statuses.items()}}


def to_result(scenario: str, what: str, raw: dict) -> Result:
    return Result(scenario=scenario, what=what, requests=int(raw["requests"]),
                  duration_s=float(raw["duration_s"]), latency_ms=raw["latency_ms"],
                  statuses={int(k): int(v) for k, v in raw["statuses"].items()},
                  errors={k: int(v) for k, v in raw["errors"].items()},
                  expected=frozenset({409}) if scenario == "mix" else frozenset())


# Profiling (in-process) --------------------------------------------------------------------

def profile_dispatch(db_path: Path, cache_dir: Path, token: str, bodies: list[dict],
                     n: int, folder: Path) -> list[str]:
    """Where a dispatch request's time goes, in this process through the Flask test client:
    each phase run ``n`` times on its own and timed in CPU time (which other programs on a
    shared machine disturb far less than wall time), then the whole request under cProfile."""
    import cProfile
    import pstats

    from geo import OSM_ATTRIBUTION, services
    from web import create_app

    app = create_app({"DB_URL": str(db_path), "CACHE_DIR": str(cache_dir),
                      "INSTANCE_PATH": str(folder / "instance-profile"),
                      "LOAD_NETWORKS_NOW": True})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    ctx = app.extensions["geo"].context()
    registry = app.extensions["geo"].registry()

    def body(k: int) -> dict:
        return bodies[k % len(bodies)]

    def request(k: int):
        answer = client.post("/api/dispatch", json=body(k), headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"dispatch in-process: HTTP {answer.status_code}: "
                               f"{answer.get_data(as_text=True)[:500]}")
        return answer

    def analysis(k: int, *, items: bool = True, shelters: int = 3):
        return services.dispatch(ctx, at=tuple(body(k)["at"]), k=5,
                                 items=body(k)["items"] if items else {}, shelters_k=shelters)

    def cpu_ms(fn) -> float:
        """CPU milliseconds per call of ``fn(k)`` over n calls, after one warm-up call."""
        fn(0)
        start = time.process_time()
        for k in range(n):
            fn(k)
        return (time.process_time() - start) / n * 1e3

    answer = request(0).get_data()
    results = [analysis(k) for k in range(min(n, 20))]
    answers = [{**r.to_dict(), "attribution": OSM_ATTRIBUTION} for r in results]
    phases = [
        ("whole request (test client: Flask, auth, parsing, analysis, answer)",
         cpu_ms(request)),
        ("auth: token → account (a database read)",
         cpu_ms(lambda k: registry.account_for_token(token))),
        ("analysis: `services.dispatch` (5 teams, water 500, 3 shelters)", cpu_ms(analysis)),
        ("  of which teams only (`nearest_teams`, layers, hazards)",
         cpu_ms(lambda k: analysis(k, items=False, shelters=0))),
        ("  of which teams and supplies (every depot holding water, each routed)",
         cpu_ms(lambda k: analysis(k, shelters=0))),
        ("answer: `result.to_dict()`", cpu_ms(lambda k: results[k % len(results)].to_dict())),
        ("answer: JSON encoding (`json.dumps`)",
         cpu_ms(lambda k: json.dumps(answers[k % len(answers)]))),
    ]
    whole = phases[0][1]
    pairs = len(re.findall(rb"\[-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?,\s*-?\d", answer))
    lines = [f"In-process, one thread, {n} requests per phase (CPU time, not wall time). One "
             f"answer is {len(answer) / 1024:.0f} KiB of JSON with {pairs:,} coordinate pairs "
             "(each route once, in its team, depot or shelter).", "",
             "| phase | CPU ms per request | share of the request |", "| --- | ---: | ---: |"]
    lines += [f"| {label} | {ms:.2f} | {100 * ms / whole:.0f} % |" for label, ms in phases]

    profiler = cProfile.Profile()
    profiler.enable()
    for k in range(n):
        request(k)
    profiler.disable()
    stats = pstats.Stats(profiler)
    lines += ["", f"cProfile of {n} whole requests, the 15 functions with the most own time "
              "(the profiler inflates functions called very often, such as `jsonable`):", "",
              "```"]
    lines += _top(stats, 15)
    lines.append("```")
    return lines


def _top(stats, n: int) -> list[str]:
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:n]
    out = [f"{'own ms':>9} {'cum ms':>9} {'calls':>8}  function"]
    for (file, line, name), (_cc, calls, own, cum, _callers) in rows:
        out.append(f"{own * 1e3:9.1f} {cum * 1e3:9.1f} {calls:8d}  {_short(file)}:{line}"
                   f"({name})")
    return out


def _short(file: str) -> str:
    """A profiled file's path from its package (site-packages, the standard library, ROOT)."""
    for marker in ("/site-packages/", f"/lib/python{sys.version_info[0]}.{sys.version_info[1]}/"):
        if marker in file:
            return file.split(marker, 1)[1]
    with contextlib.suppress(ValueError):
        return str(Path(file).relative_to(ROOT))
    return file


# Output ------------------------------------------------------------------------------------

def machine_line() -> str:
    """The platform, its CPUs (and how many this process may use) and their model."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"machine: {platform.platform()}; {os.cpu_count()} CPUs ({usable} usable)"
            + (f", {model}" if model else ""))


def load_line() -> str:
    return "load average at start (1/5/15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def speed_check_line() -> str:
    return (f"CPU speed check: a {CALIBRATION_STEPS:,}-step Python loop took "
            f"{calibration_cpu_s():.2f} s of CPU (a shared virtual machine's cores slow "
            "down several-fold when its host is busy: compare runs by this too)")


def machine_info(tool: str) -> list[str]:
    versions = []
    for package in ("flask", "gunicorn", "werkzeug", "pydantic", "sqlalchemy"):
        with contextlib.suppress(Exception):
            import importlib.metadata
            versions.append(f"{package} {importlib.metadata.version(package)}")
    lines = [machine_line(),
             f"python {platform.python_version()}, " + ", ".join(versions),
             f"load generator: {load_tool_version(tool)}",
             code_version()]
    if hasattr(os, "getloadavg"):
        lines.append(load_line())
    lines.append(speed_check_line())
    return lines


def calibration_cpu_s() -> float:
    start = time.process_time()
    total = 0
    for step in range(CALIBRATION_STEPS):
        total += step
    return time.process_time() - start


def load_tool_version(tool: str) -> str:
    if tool != "wrk":
        return "Python fallback (threads + http.client keep-alive, separate process)"
    done = subprocess.run([shutil.which("wrk") or "wrk", "--version"], capture_output=True,
                          text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split("Copyright")[0].strip() if first else "wrk"


def code_version() -> str:
    """The commit of this checkout, naming uncommitted changes in geo/ and web/."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                  "geo", "web"], capture_output=True, text=True,
                                 check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "code: not a git checkout"
    return f"code: commit {commit}" + (
        f", with uncommitted changes in {', '.join(line[3:] for line in changed)}"
        if changed else " (geo/ and web/ as committed)")


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _statuses(result: Result) -> str:
    other = {code: n for code, n in sorted(result.statuses.items()) if code >= 300}
    if not other:
        return "none"
    return ", ".join(f"{code}: {n:,}" + (" (expected)" if code in result.expected else "")
                     for code, n in other.items())


def _cpu(result: Result) -> str:
    if result.server_cpu_s is None or not result.requests:
        return "—"
    return _ms(result.server_cpu_s / result.requests * 1e3)


def render(results: list[Result]) -> str:
    lines = ["| scenario | requests/s | p50 | p90 | p99 | max | requests | 2xx "
             "| non-2xx by status | socket errors | failed | server CPU per request |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |"]
    for r in results:
        ok = sum(n for code, n in r.statuses.items() if 200 <= code < 300)
        sockets = ", ".join(f"{k} {v}" for k, v in r.errors.items() if v) or "none"
        lat = r.latency_ms
        lines.append(f"| {r.what} | {r.rps:,.1f} | {_ms(lat['p50'])} | {_ms(lat['p90'])} "
                     f"| {_ms(lat['p99'])} | {_ms(lat['max'])} | {r.requests:,} | {ok:,} "
                     f"| {_statuses(r)} | {sockets} | {r.failed:,} | {_cpu(r)} |")
    return "\n".join(lines)


def target_check(result: Result) -> str:
    p99 = result.latency_ms["p99"]
    passed = result.rps >= TARGET_RPS and p99 < TARGET_P99_MS and result.failed == 0
    return (f"target for dispatch (≥ {TARGET_RPS:.0f} requests/s, p99 < {TARGET_P99_MS:.0f} ms, "
            f"no failed request): **{'PASS' if passed else 'FAIL'}** — {result.rps:,.1f} "
            f"requests/s, p99 {_ms(p99)}, {result.failed} failed")


# Main --------------------------------------------------------------------------------------

def duration(text: str) -> float:
    """"20s", "1m", "500ms" or a number of seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected a duration such as 20s or 1m, got {text!r}")
    value = float(match[1]) * {"ms": 1e-3, "s": 1.0, "m": 60.0, None: 1.0}[match[2]]
    if value <= 0:
        raise argparse.ArgumentTypeError("the duration must be positive")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=duration, default=20.0,
                        help="measured time per scenario (default 20s)")
    parser.add_argument("--warmup", type=duration, default=3.0,
                        help="load before each scenario's measurement, not counted (default 3s)")
    parser.add_argument("--connections", type=int, default=16,
                        help="open connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: the config's, one per core)")
    parser.add_argument("--bodies", type=int, default=200,
                        help="distinct dispatch bodies, cycled (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the incident points")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, of {', '.join(SCENARIOS)} (default all)")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator (default: wrk if installed, else Python)")
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile N dispatch requests in-process (Flask test client "
                             "and cProfile) and print where the time goes")
    parser.add_argument("--load-generator", help=argparse.SUPPRESS)  # the fallback's process
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown or not args.scenarios:
        parser.error(f"--scenarios: unknown {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(SCENARIOS)}")
    if min(args.connections, args.threads, args.bodies) < 1 or args.bodies < MIX_CYCLE:
        parser.error(f"--connections and --threads must be ≥ 1, --bodies ≥ {MIX_CYCLE}")
    return args


WHAT = {"dispatch": "dispatch: POST /api/dispatch (k 5, water 500)",
        "teams": "teams: GET /collections/teams/items?limit=100",
        "mix": "mix: 8 dispatch + 1 assign + 1 release in 10"}


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.load_generator:
        print(RESULT_MARK + json.dumps(python_load(json.loads(args.load_generator))), flush=True)
        return 0
    tool = args.load
    if tool != "python" and not shutil.which("wrk"):
        print("wrk is not installed (Debian package wrk): using the Python load generator",
              file=sys.stderr)
        tool = "python"
    elif tool == "auto":
        tool = "wrk"
    started = time.perf_counter()
    print("$ " + shlex.join(["python", "scripts/bench_web.py",
                             *(sys.argv[1:] if argv is None else argv)]))
    print()
    print("\n".join(f"- {line}" for line in machine_info(tool)))
    if tool != "wrk":
        print("- the load comes from the Python fallback, which saturates long before the "
              "service: its figures are a floor")
    # SIGTERM ends the run as Ctrl-C does, so that the server is stopped too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
            run(args, tool, Path(tmp))
    except KeyboardInterrupt:
        print("interrupted: the server is stopped", file=sys.stderr)
        return 130
    print()
    load_avg = ("; load average at the end (1/5/15 min): "
                + " ".join(f"{x:.2f}" for x in os.getloadavg())
                if hasattr(os, "getloadavg") else "")
    print(f"total run time {time.perf_counter() - started:.1f} s{load_avg}")
    return 0


def run(args: argparse.Namespace, tool: str, folder: Path) -> None:
    env_cache = os.environ.get("GEO_CACHE_DIR")
    cache_dir = Path(env_cache) if env_cache else folder / "networks"
    print("preparing the demo registry ...", file=sys.stderr, flush=True)
    db_path, token, bodies, teams = prepare_registry(folder, args.seed, args.bodies)
    port = args.port or free_port()
    results = []
    with Server(folder, db_path, cache_dir, port=port, workers=args.workers) as server:
        print(f"starting gunicorn on 127.0.0.1:{port} ...", file=sys.stderr, flush=True)
        ready_s = server.wait_ready()
        print(f"- gunicorn: {len(server.workers()) or '?'} workers × "
              f"{os.environ.get('GEO_WEB_THREADS', 4)} threads (gthread, web/gunicorn_conf.py"
              f"{', --workers' if args.workers else ''}); ready {ready_s:.1f} s after start; "
              f"road networks {'from $GEO_CACHE_DIR' if env_cache else 'built by the service'}")
        print(f"- load: {args.connections} connections"
              + (f", {args.threads} wrk threads" if tool == "wrk" else "")
              + f", {args.duration:g} s per scenario after {args.warmup:g} s of warm-up; "
              f"{len(bodies)} dispatch bodies (seed {args.seed}), {len(teams)} teams available "
              "at the start")
        print()
        incidents = (create_incidents(server.port, token, bodies, MIX_INCIDENTS)
                     if "mix" in args.scenarios else [])
        load = {"connections": args.connections, "threads": args.threads, "folder": folder}
        for scenario in args.scenarios:
            lines_file = folder / f"{scenario}.tsv"
            lines_file.write_text("".join("\t".join(line) + "\n" for line in
                                          request_lines(scenario, bodies, incidents, teams)))
            print(f"running {scenario} ...", file=sys.stderr, flush=True)
            if args.warmup:
                run_load(tool, server.port, token, lines_file, seconds=args.warmup, **load)
            cpu_before = server.cpu_s()
            raw = run_load(tool, server.port, token, lines_file, seconds=args.duration, **load)
            cpu_after = server.cpu_s()
            results.append(to_result(scenario, WHAT[scenario], raw))
            if cpu_before is not None and cpu_after is not None:
                results[-1].server_cpu_s = cpu_after - cpu_before
            if server.process.poll() is not None:
                raise RuntimeError("gunicorn stopped during the run:\n" + server.log_tail())
    print(render(results))
    print()
    for r in results:
        if r.scenario == "dispatch":
            print(f"- {target_check(r)}")
    print("- failed = 5xx, unexpected 4xx and socket errors; the mix's 409s (the team was "
          "taken, or released, by another connection first) are answers, not failures")
    if args.profile:
        print(f"profiling {args.profile} dispatches in-process ...", file=sys.stderr, flush=True)
        print()
        print("\n".join(profile_dispatch(db_path, cache_dir, token, bodies, args.profile,
                                         folder)))


if __name__ == "__main__":
    sys.exit(main())
