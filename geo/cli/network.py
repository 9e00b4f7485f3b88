"""``python -m geo network build`` and ``python -m geo route``."""

from __future__ import annotations

import json

from geo import OSM_ATTRIBUTION
from geo.cli.options import add_network_options, open_context, parse_latlon
from geo.routing.snapping import DEFAULT_MAX_SNAP_M
from geo.services import road_network, route


def register(subparsers) -> None:
    network = subparsers.add_parser("network", help="build and inspect road networks")
    actions = network.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="build (or load from cache) a road network")
    add_network_options(build, mode_default="drive")
    build.add_argument("--json", action="store_true", help="print JSON")
    build.set_defaults(func=run_build)

    trip = subparsers.add_parser("route", help="fastest route between two points")
    add_network_options(trip, mode_default="drive")
    trip.add_argument("--from", dest="origin", required=True, metavar="LAT,LON")
    trip.add_argument("--to", dest="destination", required=True, metavar="LAT,LON")
    trip.add_argument("--max-snap-m", type=float, default=DEFAULT_MAX_SNAP_M,
                      help="farthest a point may lie from a road (default %(default)s m)")
    trip.add_argument("--json", action="store_true", help="print JSON (geometry as GeoJSON)")
    trip.set_defaults(func=run_route)


def run_build(args) -> int:
    net = road_network(open_context(args, registry=False), args.mode)
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
    result = route(open_context(args, registry=False), mode=args.mode, origin=origin,
                   destination=destination, max_snap_m=args.max_snap_m, fields=("--from", "--to"))
    if args.json:
        print(json.dumps({**result.to_dict(), "mode": args.mode, "attribution": OSM_ATTRIBUTION}))
        return 0
    print(f"{args.mode}: {result.travel_time_s / 60:.1f} min, {result.length_m / 1000:.2f} km "
          f"(snapped {result.snap_m[0]:.0f} m and {result.snap_m[1]:.0f} m to the road); "
          f"{len(result.geometry['coordinates'])} points. Road data {OSM_ATTRIBUTION}")
    return 0
