"""Valhalla's side of ``scripts/bench_valhalla.py``, run by the Python 3.12 venv that holds the
``pyvalhalla`` wheel (``scripts/setup_valhalla.sh``). Standard library and ``valhalla`` only.

    python valhalla_worker.py build-tiles OSM_PBF TILE_DIR   # routing tiles of an extract
    python valhalla_worker.py serve                          # answer requests on stdin
    python valhalla_worker.py route TILE_DIR REQUEST_JSON    # one whole process, one route

``serve`` reads one JSON request per line and writes one JSON answer per line:

- ``{"op": "open", "key": K, "tile_dir": D}`` loads an Actor on the tiles in D;
- ``{"op": "isochrone" | "route", "key": K, "request": {...}}`` asks that Actor. The answer's
  ``seconds`` is ``time.perf_counter()`` around the Actor's call alone (a JSON string in, a JSON
  string out): reading the request, parsing Valhalla's answer and the pipe are not in it.
- ``{"op": "version"}`` gives pyvalhalla's version.

Anything Valhalla itself prints goes to stderr, so stdout carries the answers only.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import valhalla


def config(tile_dir: Path) -> dict:
    """Valhalla's default configuration on the tiles in ``tile_dir``, without the admin and
    time-zone databases (no country rules, no local times: the benchmark needs neither)."""
    cfg = valhalla.get_config(tile_extract="", tile_dir=tile_dir)
    cfg["mjolnir"]["admin"] = ""
    cfg["mjolnir"]["timezone"] = ""
    return cfg


def build_tiles(pbf: Path, tile_dir: Path) -> None:
    """Valhalla's ``valhalla_build_tiles`` (the executable shipped in the wheel) on ``pbf``."""
    tile_dir.mkdir(parents=True, exist_ok=True)
    cfg = config(tile_dir)
    cfg["logging"]["type"] = "std_out"
    path = tile_dir / "valhalla.json"
    path.write_text(json.dumps(cfg, indent=1))
    tool = valhalla.PYVALHALLA_DIR / "bin" / "valhalla_build_tiles"
    subprocess.run([str(tool), "-c", str(path), str(pbf)], check=True, stdout=sys.stderr)


def serve() -> None:
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the C++ side prints must not mix with the answers
    actors: dict[str, valhalla.Actor] = {}
    for line in sys.stdin:
        message = json.loads(line)
        try:
            answer = handle(message, actors)
        except Exception as exc:  # report it to the benchmark, keep serving
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")


def handle(message: dict, actors: dict) -> dict:
    op = message["op"]
    if op == "version":
        return {"version": valhalla.__version__}
    if op == "open":
        start = time.perf_counter()
        actors[message["key"]] = valhalla.Actor(config(Path(message["tile_dir"])))
        return {"seconds": time.perf_counter() - start}
    if op in ("isochrone", "route"):
        call = getattr(actors[message["key"]], op)
        request = json.dumps(message["request"])
        start = time.perf_counter()
        try:
            text = call(request)
        except valhalla.ValhallaError as exc:
            return {"seconds": time.perf_counter() - start, "error": str(exc)}
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "result": json.loads(text)}
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["build-tiles"] and len(argv) == 3:
        build_tiles(Path(argv[1]), Path(argv[2]))
        return 0
    if argv[:1] == ["route"] and len(argv) == 3:
        actor = valhalla.Actor(config(Path(argv[1])))
        summary = actor.route(json.loads(argv[2]))["trip"]["summary"]
        print(f"{summary['time']:.0f} s, {summary['length']:.2f} km")
        return 0
    if argv == ["serve"]:
        serve()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
