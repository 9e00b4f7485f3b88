"""``python -m geo network build`` and ``python -m geo route``."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from geo import OSM_ATTRIBUTION
from geo.errors import PointError, ValidationError
from geo.network.build import DEFAULT_OSM, build_network
from geo.network.model import NetworkSettings, RoadNetwork
from geo.network.osm_tags import MODES
from geo.routing.paths import route
from geo.routing.snapping import DEFAULT_MAX_SNAP_M


def register(subparsers) -> None:
    network = subparsers.add_parser("network", help="build and inspect road networks")
    actions = network.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="build (or load from cache) a road network")
    add_network_options(build)
    build.add_argument("--json", action="store_true", help="print JSON")
    build.set_defaults(func=run_build)

    trip = subparsers.add_parser("route", help="fastest route between two points")
    add_network_options(trip)
    trip.add_argument("--from", dest="origin", required=True, metavar="LAT,LON")
    trip.add_argument("--to", dest="destination", required=True, metavar="LAT,LON")
    trip.add_argument("--max-snap-m", type=float, default=DEFAULT_MAX_SNAP_M,
                      help="farthest a point may lie from a road (default %(default)s m)")
    trip.add_argument("--json", action="store_true", help="print JSON (geometry as GeoJSON)")
    trip.set_defaults(func=run_route)


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that needs a network shares."""
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM,
                        help="OSM .pbf / .osm[.gz|.bz2] or osmnx .graphml (default: Liechtenstein)")
    parser.add_argument("--mode", default="drive", help=f"one of {', '.join(MODES)}")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="network cache folder "
                             "(default $GEO_CACHE_DIR or ~/.cache/emergency-geo)")
    parser.add_argument("--speed", action="append", default=[], metavar="CLASS=KPH",
                        help="override a highway class's default driving speed (repeatable)")
    parser.add_argument("--walk-speed", type=float, default=None, metavar="KPH")


def network_from_args(args) -> RoadNetwork:
    settings = NetworkSettings(
        drive_speeds_kph=_parse_speeds(args.speed),
        **({} if args.walk_speed is None else {"walk_speed_kph": args.walk_speed}),
    )
    return build_network(args.osm, mode=args.mode, settings=settings, cache_dir=args.cache_dir,
                         progress=True)


def _parse_speeds(items: list[str]) -> dict[str, float]:
    speeds = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            speeds[name.strip()] = float(value)
        except ValueError:
            raise ValidationError(f"--speed: expected CLASS=KPH, got {item!r}") from None
    return speeds


def parse_latlon(text: str, *, field: str) -> tuple[float, float]:
    """``"LAT,LON"`` as read off a map → (lat, lon); range checks happen against the network."""
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        raise PointError(f"{field}: expected LAT,LON, got {text!r}")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise PointError(f"{field}: expected two numbers LAT,LON, got {text!r}") from None
    if math.isnan(lat) or math.isnan(lon) or math.isinf(lat) or math.isinf(lon):
        raise PointError(f"{field}: coordinates must be finite numbers, got {text!r}")
    return lat, lon


def run_build(args) -> int:
    net = network_from_args(args)
    summary = net.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{net.mode} network of {summary['source']}: {net.n_nodes} nodes, {net.n_edges} edges "
          f"({summary['dropped_nodes']} nodes and {summary['dropped_edges']} edges outside the "
          f"largest strongly connected component dropped)")
    print(f"CRS {net.crs}; built in {summary['build_seconds']} s; "
          f"cache {summary.get('cache_path')}")
    print(f"Road data {OSM_ATTRIBUTION}")
    return 0


def run_route(args) -> int:
    origin = parse_latlon(args.origin, field="--from")
    destination = parse_latlon(args.destination, field="--to")
    net = network_from_args(args)
    result = route(net, origin, destination, max_snap_m=args.max_snap_m,
                   fields=("--from", "--to"))
    if result is None:
        raise PointError("--to: cannot be reached from --from on the open roads")
    if args.json:
        print(json.dumps({**result.to_dict(), "mode": net.mode, "attribution": OSM_ATTRIBUTION}))
        return 0
    print(f"{net.mode}: {result.travel_time_s / 60:.1f} min, {result.length_m / 1000:.2f} km "
          f"(snapped {result.snap_m[0]:.0f} m and {result.snap_m[1]:.0f} m to the road); "
          f"{len(result.geometry['coordinates'])} points. Road data {OSM_ATTRIBUTION}")
    return 0
