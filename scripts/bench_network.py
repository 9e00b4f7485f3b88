"""Benchmark building road networks and the shortest-path kernel against osmnx and networkx.

Side by side in one run, on the real Liechtenstein drive network and on a generated road-like
network (``scripts/generate_road_network.py``, ~250,000 junctions by default, generated into the
cache folder when missing). Prints the command line, the machine and a markdown table of times and
ratios. Timings are measured and printed, never asserted; the script exits non-zero only when our
distances disagree with networkx's.

    python scripts/bench_network.py                  # full run (a few minutes)
    python scripts/bench_network.py --nodes 20000    # a smaller generated network

What is measured, per network (drive mode):

- cold build: ``geo.network.build_network`` into an empty cache folder (read, filter, simplify,
  project, hash the source and write the cache); cached load: the same call again, served from
  that cache (arrays memory-mapped), and the load plus reading every array once. Repeated
  timings report the best of ``--repeat`` runs (this machine may be shared), for osmnx alike.
- build vs osmnx (Liechtenstein only): our build from the PBF (no cache) against
  ``osmnx.graph_from_xml`` + ``add_edge_speeds`` + ``add_edge_travel_times``. osmnx builds a graph
  from *every* way in an XML file, so it gets an ``.osm`` file holding just the drivable ways (our
  drive filter) and their nodes, written with pyosmium before the timing. Our build from that same
  XML file is shown too.
- shortest paths: ``geo.routing.shortest_from_nodes`` from N seeded random nodes, with a cutoff and
  without, against networkx on ``to_networkx(net)`` (the same nodes, edges and travel times):
  ``single_source_dijkstra_path_length`` (distances only, what ours returns) and
  ``single_source_dijkstra`` (distances and paths). Medians over the sources; every source's
  distances are compared with networkx's (same reached nodes, values within 1e-6 s). The raw
  scipy kernel on a CSR matrix built beforehand is shown as the floor. Each method runs over all
  sources in turn, after one untimed warm-up call; bounded searches (milliseconds, easily
  disturbed on a shared machine) take each source's best of ``--rounds`` runs, for every method.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import osmium  # noqa: E402
import scipy  # noqa: E402
from scipy.sparse.csgraph import dijkstra  # noqa: E402

from geo.network import cache as netcache  # noqa: E402
from geo.network import osm_tags  # noqa: E402
from geo.network.build import DEFAULT_OSM, build_network  # noqa: E402
from geo.network.convert import to_csr, to_networkx  # noqa: E402
from geo.routing.search import shortest_from_nodes  # noqa: E402

GENERATOR = ROOT / "scripts" / "generate_road_network.py"
WEIGHT = "travel_time_s"
TOLERANCE_S = 1e-6
BUILD_TARGET, ROUTING_TARGET = 4.0, 20.0  # issue 2: ≥ 4× osmnx, ≥ 20× networkx


@dataclass
class Row:
    network: str
    measure: str
    ours_s: float | None
    reference: str = ""
    reference_s: float | None = None
    target: float | None = None
    key: str = ""  # which column of the summary table this row fills


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    disagreements: int = 0


# Measuring ---------------------------------------------------------------------------------

def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_of(fn, repeat: int):
    """(smallest time, last result) over ``repeat`` runs: on a shared machine the smallest time
    is the one least disturbed by other work."""
    times, result = [], None
    for _ in range(repeat):
        seconds, result = timed(fn)
        times.append(seconds)
    return min(times), result


# Inputs ------------------------------------------------------------------------------------

def generated_source(nodes: int, seed: int, cache_dir: Path) -> Path:
    """The generated .osm.pbf in ``cache_dir``, generated now if missing (the generator writes
    it atomically, so a cached file is always complete). The name carries a digest of the
    generator's code, so a changed generator never leaves an old file in the benchmark."""
    code = hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:8]
    path = cache_dir / f"generated-{nodes}-seed{seed}-{code}.osm.pbf"
    if not path.exists():
        print(f"generating a {nodes:,}-junction network into {path} ...", file=sys.stderr,
              flush=True)
        subprocess.run([sys.executable, str(GENERATOR), "--nodes", str(nodes), "--seed",
                        str(seed), "--out", str(path)], check=True, stdout=sys.stderr)
    return path


def write_drive_xml(pbf: Path, out: Path) -> tuple[int, int]:
    """The drivable ways of ``pbf`` and the nodes they use, as OSM XML; (nodes, ways) written."""
    ways, needed = [], set()
    reader = (osmium.FileProcessor(str(pbf))
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("highway")))
    for way in reader:
        tags = dict(way.tags)
        if osm_tags.is_usable(tags, "drive"):
            refs = [n.ref for n in way.nodes]
            ways.append(osmium.osm.mutable.Way(id=way.id, nodes=refs, tags=tags))
            needed.update(refs)
    out.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(out))
    written = 0
    try:
        nodes = osmium.FileProcessor(str(pbf)).with_filter(
            osmium.filter.EntityFilter(osmium.osm.NODE))
        for node in nodes:
            if node.id in needed:
                writer.add_node(node)
                written += 1
        for way in ways:
            writer.add_way(way)
    finally:
        writer.close()
    return written, len(ways)


# Benchmarks --------------------------------------------------------------------------------

def bench_build(label: str, source: Path, cache_dir: Path, repeat: int, report: Report):
    """Cold build into the empty ``cache_dir``, then cached loads; returns the network."""
    cold_s, net = timed(lambda: build_network(source, mode="drive", cache_dir=cache_dir))
    load_s, net = best_of(lambda: build_network(source, mode="drive", cache_dir=cache_dir),
                            repeat)
    touch_s, _ = best_of(lambda: _read_all(build_network(source, mode="drive",
                                                           cache_dir=cache_dir)), repeat)
    report.rows += [
        Row(label, "cold build (empty cache; includes hashing and writing the cache)", cold_s,
            key="cold"),
        Row(label, f"cached load (memory-mapped, best of {repeat})", load_s, key="load"),
        Row(label, f"cached load + read every array once (best of {repeat})", touch_s),
    ]
    return net


def _read_all(net) -> float:
    from geo.network.model import ARRAY_FIELDS

    return float(sum(np.asarray(getattr(net, name)).sum() for name in ARRAY_FIELDS))


def bench_vs_osmnx(label: str, source: Path, workdir: Path, repeat: int, report: Report) -> None:
    import osmnx as ox

    xml = workdir / f"{source.name.split('.')[0]}-drive.osm"
    xml_nodes, xml_ways = write_drive_xml(source, xml)

    def osmnx_build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = ox.graph_from_xml(xml, simplify=True, retain_all=False)
            graph = ox.add_edge_speeds(graph)
            return ox.add_edge_travel_times(graph)

    ours_s, net = best_of(lambda: build_network(source, mode="drive", use_cache=False), repeat)
    ours_xml_s, _ = best_of(lambda: build_network(xml, mode="drive", use_cache=False), repeat)
    osmnx_s, graph = best_of(osmnx_build, repeat)
    reference = "osmnx graph_from_xml + add_edge_speeds + add_edge_travel_times (drive XML)"
    report.rows += [
        Row(label, f"build from the PBF, no cache (best of {repeat})", ours_s, reference,
            osmnx_s, BUILD_TARGET, key="build"),
        Row(label, f"build from the same drive XML as osmnx (best of {repeat})", ours_xml_s,
            reference, osmnx_s),
    ]
    report.notes.append(
        f"{label}: osmnx read {xml.name} ({xml_nodes:,} nodes, {xml_ways:,} drivable ways, "
        f"{xml.stat().st_size / 1e6:.0f} MB, written with pyosmium before the timing) and made "
        f"{len(graph):,} nodes / {len(graph.edges):,} edges (largest weakly connected component); "
        f"ours: {net.n_nodes:,} nodes / {net.n_edges:,} edges (largest strongly connected "
        "component). Our build from the PBF reads every way in the file and filters it itself.")


def bench_routing(label: str, net, sources: int, cutoff_s: float, rounds: int, seed: int,
                  report: Report) -> None:
    to_nx_s, graph = timed(lambda: to_networkx(net))
    report.notes.append(f"{label}: to_networkx(net) took {to_nx_s:.1f} s (outside the timings).")
    rng = np.random.default_rng(seed)
    picks = rng.choice(net.n_nodes, size=min(sources, net.n_nodes), replace=False)
    csr = to_csr(net, np.asarray(getattr(net, f"edge_{WEIGHT}"), dtype=float))
    # scipy's Dijkstra works on int32 indices and would convert int64 ones on every call.
    csr.indices, csr.indptr = csr.indices.astype(np.int32), csr.indptr.astype(np.int32)
    for cutoff, what, key, n_rounds in (
            (cutoff_s, f"single source, cutoff {cutoff_s:g} s", "cutoff", rounds),
            (None, "single source, full search", "full", 1)):
        limit = np.inf if cutoff is None else cutoff
        methods = {
            "ours": lambda s, c=cutoff: shortest_from_nodes(net, s, cutoff=c),
            "kernel": lambda s, lim=limit: dijkstra(csr, directed=True, indices=s, limit=lim),
            "length": lambda s, c=cutoff: nx.single_source_dijkstra_path_length(
                graph, s, cutoff=c, weight=WEIGHT),
            "paths": lambda s, c=cutoff: nx.single_source_dijkstra(graph, s, cutoff=c,
                                                                    weight=WEIGHT),
        }
        # Each method in turn over all sources after one untimed warm-up call, so each is timed
        # in its steady state rather than right after the other flushed the CPU caches. With
        # several rounds a source's best round counts (this machine may be shared).
        times = {name: [] for name in methods}
        ours, worst, reached, bad = {}, 0.0, [], 0
        for name, run in methods.items():
            run(int(picks[0]))
            for source in map(int, picks):
                best = np.inf
                for _ in range(n_rounds):
                    seconds, result = timed(lambda s=source, r=run: r(s))
                    best = min(best, seconds)
                times[name].append(best)
                if name == "ours":
                    ours[source] = result
                elif name == "length":
                    reached.append(len(result))
                    diff = _compare(ours[source], result)
                    if diff is None:
                        bad += 1
                        report.checks.append(
                            f"DISAGREEMENT {label}, {what}, source {source}: ours reached "
                            f"{int(np.isfinite(ours[source]).sum())} nodes, networkx "
                            f"{len(result)}")
                    else:
                        worst = max(worst, diff)
                del result
        med = {k: statistics.median(v) for k, v in times.items()}
        n = len(picks)
        of = f"median of {n} sources" + (f", best of {n_rounds} each" if n_rounds > 1 else "")
        report.rows += [
            Row(label, f"{what}: `shortest_from_nodes` ({of})", med["ours"],
                "networkx single_source_dijkstra_path_length", med["length"], ROUTING_TARGET,
                key),
            Row(label, f"{what}: `shortest_from_nodes` ({of})", med["ours"],
                "networkx single_source_dijkstra (with paths)", med["paths"]),
            Row(label, f"{what}: floor, raw scipy dijkstra on a prebuilt CSR", med["kernel"],
                "networkx single_source_dijkstra_path_length", med["length"]),
        ]
        report.disagreements += bad
        report.checks.append(
            f"{label}, {what}: {n} sources, median {int(np.median(reached)):,} nodes reached; "
            + (f"distances equal networkx's within {TOLERANCE_S:g} s (largest difference "
               f"{worst:.1e} s)" if not bad else f"{bad} sources DISAGREE with networkx"))


def _compare(ours: np.ndarray, lengths: dict) -> float | None:
    """Largest |ours - networkx| over the reached nodes, or None if the reached sets differ."""
    nodes = np.fromiter(lengths.keys(), dtype=np.int64, count=len(lengths))
    values = np.fromiter(lengths.values(), dtype=float, count=len(lengths))
    reached = np.isfinite(ours)
    if reached.sum() != len(nodes) or not reached[nodes].all():
        return None
    diff = float(np.abs(ours[nodes] - values).max(initial=0.0))
    return diff if diff <= TOLERANCE_S else None


# Output ------------------------------------------------------------------------------------

def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.01:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e3:.2f} ms"


def _ratio(row: Row) -> str:
    if row.ours_s is None or row.reference_s is None:
        return "—"
    ratio = row.reference_s / row.ours_s
    text = f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}× (slower)"
    return f"**{text}**" if row.target is not None else text


def _target(row: Row) -> str:
    if row.target is None:
        return ""
    met = row.ours_s is not None and row.reference_s / row.ours_s >= row.target
    return f"≥ {row.target:g}× {'met' if met else 'NOT met'}"


def render_summary(report: Report, sizes: dict[str, str], cutoff_s: float) -> str:
    """One line per network, for the README: times, and ours vs theirs with the ratio."""
    summary = (("cold", "cold build"), ("load", "cached load"),
               ("build", f"build vs osmnx (target ≥ {BUILD_TARGET:g}×)"),
               ("cutoff", f"{cutoff_s:g} s cutoff search vs networkx "
                          f"(target ≥ {ROUTING_TARGET:g}×)"),
               ("full", f"full search vs networkx (target ≥ {ROUTING_TARGET:g}×)"))
    cells = {(row.network, row.key): row for row in report.rows if row.key}
    lines = ["| network | nodes / edges | " + " | ".join(title for _, title in summary) + " |",
             "| --- | ---: |" + " ---: |" * len(summary)]
    for network, size in sizes.items():
        values = []
        for key, _ in summary:
            row = cells.get((network, key))
            if row is None:
                values.append("—")
            elif row.reference_s is None:
                values.append(_fmt(row.ours_s))
            else:
                values.append(f"{_fmt(row.ours_s)} vs {_fmt(row.reference_s)}: {_ratio(row)}")
        lines.append(f"| {network} | {size} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def render(report: Report, sizes: dict[str, str], cutoff_s: float) -> str:
    lines = ["| network | measure | ours | compared with | its time | ours faster by | target |",
             "| --- | --- | ---: | --- | ---: | ---: | --- |"]
    for row in report.rows:
        lines.append(f"| {row.network} | {row.measure} | {_fmt(row.ours_s)} | "
                     f"{row.reference or '—'} | {_fmt(row.reference_s)} | {_ratio(row)} | "
                     f"{_target(row)} |")
    return "\n".join([
        "Summary (ours vs the reference; ratios are the reference's time over ours):", "",
        render_summary(report, sizes, cutoff_s), "", "Details:", "", *lines, "",
        "Checks:", *(f"- {c}" for c in report.checks), "",
        "Notes:", *(f"- {n}" for n in report.notes)])


def machine_info() -> list[str]:
    import osmnx

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"machine: {platform.platform()}; {os.cpu_count()} CPUs ({usable} usable)"
        + (f", {model}" if model else ""),
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"networkx {nx.__version__}, osmnx {osmnx.__version__}, "
        f"pyosmium {importlib.metadata.version('osmium')}",
        "load average at start (1/5/15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]


def code_version() -> str:
    """The git commit of this checkout, naming the measured modules with uncommitted changes."""
    measured = [f"geo/{name}" for name in (*netcache._BUILD_MODULES, "routing.py", "kernel.py")]
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", *measured],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "code: not a git checkout"
    changed = [line[3:] for line in status.splitlines()]
    return f"code: commit {commit}" + (
        f", with uncommitted changes in {', '.join(changed)}" if changed
        else " (the measured modules are committed)")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM,
                        help="the real extract (default geo/data/liechtenstein.osm.pbf)")
    parser.add_argument("--nodes", type=int, default=250_000,
                        help="junctions of the generated network (default 250000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the generated network and the sources (default 0)")
    parser.add_argument("--sources", type=int, default=20,
                        help="random sources per search kind (default 20)")
    parser.add_argument("--cutoff", type=float, default=600.0,
                        help="cutoff of the bounded search, seconds (default 600)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="timing rounds per source of the bounded searches, best counts "
                             "(default 3; full searches run once per source)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each build/load timing, best counts (default 5; osmnx "
                             "gets the same)")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "bench",
                        help="where the generated network is kept (default .cache/bench)")
    args = parser.parse_args(argv)
    for name in ("nodes", "sources", "rounds", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}: must be at least 1")
    if not args.cutoff > 0:
        parser.error("--cutoff: must be a positive number of seconds")
    if not args.osm.is_file():
        parser.error(f"--osm: {args.osm}: no such file")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print("$ " + shlex.join(["python", "scripts/bench_network.py",
                             *(sys.argv[1:] if argv is None else argv)]))
    print()
    print("\n".join([*machine_info(), code_version()]))
    print()
    report = Report()
    real = "Liechtenstein" if args.osm.resolve() == DEFAULT_OSM else args.osm.name
    generated = generated_source(args.nodes, args.seed, args.cache_dir)
    label_generated = f"generated {args.nodes:,}"
    sizes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-network-") as tmp:
        for label, source in ((real, args.osm), (label_generated, generated)):
            print(f"running {label} ...", file=sys.stderr, flush=True)
            cache = Path(tmp) / f"cache-{len(sizes)}"
            net = bench_build(label, source, cache, args.repeat, report)
            sizes[label] = f"{net.n_nodes:,} / {net.n_edges:,}"
            if label == real:
                bench_vs_osmnx(label, source, Path(tmp), args.repeat, report)
            bench_routing(label, net, args.sources, args.cutoff, args.rounds, args.seed, report)
            del net
    print(render(report, sizes, args.cutoff))
    print()
    print(f"total run time {_fmt(time.perf_counter() - started)}")
    return 1 if report.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
