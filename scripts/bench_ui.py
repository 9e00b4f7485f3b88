"""Benchmark the dispatcher's click on the map: from the click to the ranked teams and their
routes drawn, measured in a real browser against the real service.

    python scripts/bench_ui.py                  # 50 clicks
    python scripts/bench_ui.py --clicks 200 --seed 7
    python scripts/bench_ui.py --items water=500 --types fire,medical

The run builds a throwaway Liechtenstein demo registry in a temporary folder with a dispatcher
account, starts the service as ``scripts/serve.sh`` does (``gunicorn --config
web/gunicorn_conf.py``, through ``scripts/bench_web.py``'s helper, one worker unless
``--workers``) on a free loopback port, and opens the map as that dispatcher in headless
Chromium (Debian's ``/usr/bin/chromium`` unless ``--chromium``) driven by Playwright. The road
networks come from ``$GEO_CACHE_DIR`` or are built by the service into the temporary folder.

The clicks land on roads: ``--clicks`` junctions of the drive network drawn (seeded) from the
network the service routes on, each centred on the map at zoom ``--zoom`` and clicked where
``map.latLngToContainerPoint`` puts it (a junction under a marker is skipped for the next one:
a click on a marker opens its popup instead), once the basemap tiles of that view are drawn (a
dispatcher clicks a map already on screen; tiles still rendering would compete with the
dispatch for the worker's CPU: ``--no-wait-tiles`` measures that first look). The time of a
click is measured in the browser, from the page's own performance marks: ``dispatch-click``
(the map's click handler) to ``teams-drawn`` (the ranked list and the routes are in the
page), split into the request (``dispatch-sent`` → ``dispatch-answered``: the service's work
and the loopback) and the drawing. Two clicks before the measured ones warm the page and the
service. Median, p95 and max are printed with the machine; timings are never asserted (exit
status 0 unless the run itself fails).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_web  # noqa: E402  (scripts/ is on the path: the service helper)

USER, PASSWORD = "bench-ui-dispatcher", "bench ui dispatcher password"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WARMUP_CLICKS = 2
VIEWPORT = {"width": 1400, "height": 900}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=50, help="measured clicks (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--zoom", type=int, default=16, help="map zoom of each click")
    parser.add_argument("--no-wait-tiles", action="store_true",
                        help="click as soon as the view moved, while its basemap tiles are "
                             "still being rendered (a first look at a new area)")
    parser.add_argument("--items", default="", help="supplies in the form, e.g. water=500,food=20")
    parser.add_argument("--types", default="", help="team types in the form (default: any)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--chromium", default=CHROMIUM, help="the browser (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    return parser.parse_args(argv)


def prepare(folder: Path) -> Path:
    """A demo registry in ``folder`` with the dispatcher who clicks."""
    from geo.registry import Registry
    from geo.registry.demo import build_demo

    path = folder / "registry.sqlite"
    with Registry(str(path)) as registry:
        build_demo(registry)
        registry.add_user(USER, "dispatcher", PASSWORD)
    return path


def road_points(db_path: Path, cache_dir: Path, n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` junctions (lon, lat) of the drive network, drawn without replacement (seeded)."""
    import numpy as np

    from geo.services import Context, NetworkSource, road_network

    with Context.open(db=str(db_path), source=NetworkSource(cache_dir=cache_dir)) as ctx:
        lonlat = road_network(ctx, "drive").node_lonlat
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(lonlat), size=min(n, len(lonlat)), replace=False)
    return [(float(lonlat[i, 0]), float(lonlat[i, 1])) for i in picks]


# The browser ------------------------------------------------------------------------------

CONTAINER_POINT = """([lat, lon, zoom]) => {
  Geo.map.setView([lat, lon], zoom, {animate: false});
  const p = Geo.map.latLngToContainerPoint([lat, lon]);
  const box = Geo.map.getContainer().getBoundingClientRect();
  const x = box.left + p.x, y = box.top + p.y;
  const hit = document.elementFromPoint(x, y);
  const free = Boolean(hit) && !hit.closest(".leaflet-marker-icon, .leaflet-interactive, "
    + ".leaflet-control, .leaflet-popup, #panel");
  return {x, y, free};
}"""

TILES_LOADED = """() => document.querySelectorAll(
  ".leaflet-tile-container img.leaflet-tile:not(.leaflet-tile-loaded)").length === 0"""

TIMES = """() => {
  const last = (name) => performance.getEntriesByName(name, "mark").at(-1).startTime;
  const t = {click: last("dispatch-click"), sent: last("dispatch-sent"),
             answered: last("dispatch-answered"), drawn: last("teams-drawn")};
  const rows = document.querySelectorAll("#dispatch-results tr.team-row").length;
  const routes = document.querySelectorAll("path.route-team").length;
  performance.clearMarks();
  Geo.map.closePopup();
  return {total: t.drawn - t.click, request: t.answered - t.sent, draw: t.drawn - t.answered,
          rows, routes};
}"""


def sign_in(page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("[name=name]", USER)
    page.fill("[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_selector("body[data-layers-loaded=true]", state="attached", timeout=120_000)


def set_form(page, items: dict[str, float], types: list[str]) -> None:
    if types:
        page.evaluate("""(types) => {
          const rows = document.querySelector("#dispatch-needs");
          rows.replaceChildren(...types.map((t) => Dispatch.teamRow(t, 3)));
        }""", types)
    for item, quantity in items.items():
        page.click("#dispatch-add-supply")
        page.locator("#dispatch-supplies select").last.select_option(item)
        page.locator("#dispatch-supplies input").last.fill(str(quantity))


def click_all(page, points, clicks: int, zoom: int, *,
              wait_tiles: bool = True) -> tuple[list[dict], int]:
    """Click until ``clicks`` answers are measured (after the warm-up); returns the measures and
    how many junctions were skipped (under a marker)."""
    measures, skipped, done = [], 0, 0
    for lon, lat in points:
        if len(measures) >= clicks:
            break
        where = page.evaluate(CONTAINER_POINT, [lat, lon, zoom])
        if not where["free"]:
            skipped += 1
            continue
        # A dispatcher clicks a map already drawn: the basemap tiles of the new view are
        # rendered (in the same worker, competing for its CPU) before the click is timed.
        if wait_tiles:
            page.wait_for_function(TILES_LOADED, timeout=60_000)
        page.mouse.click(where["x"], where["y"])
        done += 1
        page.wait_for_function(f"() => Number(document.body.dataset.dispatchDone || 0) >= {done}",
                               timeout=60_000)
        times = page.evaluate(TIMES)
        if done > WARMUP_CLICKS:
            measures.append(times)
    return measures, skipped


# Report ------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


def machine_info(chromium: str) -> list[str]:
    browser = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        browser = subprocess.run([chromium, "--version"], capture_output=True, text=True,
                                 timeout=30, check=False).stdout.strip()
    import importlib.metadata
    return [bench_web.machine_line(),
            f"python {platform.python_version()}, playwright "
            f"{importlib.metadata.version('playwright')}, browser: {browser or chromium}",
            bench_web.load_line(), bench_web.speed_check_line()]


def report(measures: list[dict], skipped: int, args) -> list[str]:
    lines = [f"clicks measured: {len(measures)} (after {WARMUP_CLICKS} warm-up clicks; "
             f"{skipped} junctions skipped under a marker); zoom {args.zoom}; form: "
             f"{args.types or 'any team type'}, k=3, 3 shelters"
             + (f", supplies {args.items}" if args.items else "")
             + ("; clicked while the view's tiles were still rendering" if args.no_wait_tiles
                else "; clicked once the view's tiles were drawn"),
             "",
             "| time per click (ms) | median | p95 | max |",
             "|---|---|---|---|"]
    for key, label in (("total", "click → teams and routes drawn"),
                       ("request", "  of which the request (POST /api/dispatch, loopback)"),
                       ("draw", "  of which drawing the answer")):
        values = [m[key] for m in measures]
        lines.append(f"| {label} | {statistics.median(values):.1f} | "
                     f"{percentile(values, 95):.1f} | {max(values):.1f} |")
    share = statistics.median(m["request"] / m["total"] for m in measures if m["total"] > 0)
    lines += ["", f"median share of the request in the click's time: {share:.0%}",
              f"teams listed per click: median {statistics.median(m['rows'] for m in measures):g}"
              f", team routes drawn: median {statistics.median(m['routes'] for m in measures):g}"]
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    print("$ " + shlex.join(["python", "scripts/bench_ui.py",
                             *(sys.argv[1:] if argv is None else argv)]))
    print()
    print("\n".join(machine_info(args.chromium)))
    print()
    items = {k.strip(): float(v) for k, v in (p.split("=") for p in args.items.split(",") if p)}
    types = [t.strip() for t in args.types.split(",") if t.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        folder = Path(tmp)
        cache_dir = Path(os.environ.get("GEO_CACHE_DIR") or folder / "networks")
        db_path = prepare(folder)
        started = time.perf_counter()
        points = road_points(db_path, cache_dir, 4 * (args.clicks + WARMUP_CLICKS), args.seed)
        port = args.port or bench_web.free_port()
        with bench_web.Server(folder, db_path, cache_dir, port=port,
                              workers=args.workers) as server:
            server.wait_ready()
            print(f"service ready after {time.perf_counter() - started:.1f} s "
                  f"({args.workers} worker(s)); clicking…", file=sys.stderr)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport=VIEWPORT)
                    sign_in(page, f"http://127.0.0.1:{port}")
                    set_form(page, items, types)
                    measures, skipped = click_all(page, points, args.clicks, args.zoom,
                                                  wait_tiles=not args.no_wait_tiles)
                finally:
                    browser.close()
    if len(measures) < args.clicks:
        print(f"only {len(measures)} of {args.clicks} clicks could be made", file=sys.stderr)
    if not measures:
        return 1
    print("\n".join(report(measures, skipped, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
