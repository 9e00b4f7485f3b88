"""``python -m geo service-area | coverage | dispatch | exposure``.

Layers come from the registry database (the demo registry by default) or from files given on
the command line (GeoJSON, GeoPackage, ... anything geopandas reads, in any CRS it declares).
Results print as a summary (``--json`` for scripts) and, with ``--out``, as a GeoJSON file that
carries the OpenStreetMap credit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import OSM_ATTRIBUTION
from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.coverage import coverage
from geo.analysis.dispatch import depots_for_items, nearest_teams, shelters_with_room
from geo.analysis.exposure import exposure, unsafe_shelters
from geo.analysis.service_areas import service_areas
from geo.cli.layers_source import add_layer_options, read_layer
from geo.cli.network import add_network_options, network_from_args, parse_latlon
from geo.errors import SourceError, ValidationError

UNITS = {"min": 60.0, "s": 1.0, "m": 1.0}


def register(subparsers) -> None:
    area = subparsers.add_parser("service-area", help="service-area polygons of facilities")
    _common(area, default_layer="shelters", default_mode=None)
    area.add_argument("--breaks", default="5,10,15", help="comma-separated (default %(default)s)")
    area.add_argument("--unit", default="min", choices=sorted(UNITS))
    area.add_argument("--direction", default=None, choices=["to", "from"],
                      help="to the facility (walking to shelters, default for shelters) or from it")
    area.add_argument("--shape", default="disks", choices=["disks", "rings"])
    area.add_argument("--overlap", default="overlap", choices=["overlap", "split", "dissolve"])
    area.set_defaults(func=run_service_area)

    cover = subparsers.add_parser("coverage", help="demand covered by facilities within breaks")
    _common(cover, default_layer="shelters", default_mode=None)
    cover.add_argument("--breaks", default="5,10,15")
    cover.add_argument("--unit", default="min", choices=sorted(UNITS))
    cover.add_argument("--demand", type=Path, default=None,
                       help="demand file (default: the registry's population layer)")
    cover.add_argument("--demand-column", default="population")
    cover.set_defaults(func=run_coverage)

    send = subparsers.add_parser("dispatch", help="nearest available teams, depots and shelters")
    _common(send, default_layer="teams", default_mode="drive", layer_option=False)
    send.add_argument("--at", required=True, metavar="LAT,LON", help="incident location")
    send.add_argument("--k", type=int, default=5, help="how many teams (default %(default)s)")
    send.add_argument("--type", default="", help="team types, comma-separated (default: any)")
    send.add_argument("--min-headcount", type=int, default=0)
    send.add_argument("--items", default="", help="supplies, e.g. water=500,tents=20")
    send.add_argument("--shelters", type=int, default=3, help="open shelters with room to list")
    send.set_defaults(func=run_dispatch)

    risk = subparsers.add_parser("exposure", help="population and resources inside hazard zones")
    _common(risk, default_layer="hazards", default_mode="drive", layer_option=False)
    risk.set_defaults(func=run_exposure)


def _common(parser, *, default_layer: str, default_mode: str | None,
            layer_option: bool = True) -> None:
    """Options shared by the analyses. ``default_mode`` None: walking for shelters (people go
    there on foot), driving for teams and depots."""
    add_network_options(parser)
    parser.set_defaults(mode=default_mode)
    add_layer_options(parser)
    if layer_option:
        parser.add_argument("--layer", default=default_layer,
                            help="registry layer of facilities (default %(default)s)")
        parser.add_argument("--facilities", type=Path, default=None,
                            help="facilities from a file instead of the registry")
    parser.add_argument("--no-hazards", action="store_true",
                        help="ignore the registry's active hazards")
    parser.add_argument("--barriers", type=Path, default=None,
                        help="extra barriers (closed roads, drawn areas) from a file")
    parser.add_argument("--out", type=Path, default=None, help="write the result as GeoJSON")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _breaks(args) -> list[float]:
    try:
        values = [float(v) * UNITS[args.unit] for v in args.breaks.split(",") if v.strip()]
    except ValueError:
        raise ValidationError(
            f"--breaks: expected comma-separated numbers, got {args.breaks!r}") from None
    return values


def _barriers(net, args):
    hazards = None if args.no_hazards else read_layer(args, "hazards")
    zones = hazard_zones(hazards, crs=net.crs)
    extra = None
    if args.barriers is not None:
        extra = _read_file(args.barriers, "--barriers")
    return road_barriers(net, zones, extra=extra)


def _read_file(path: Path, field: str) -> gpd.GeoDataFrame:
    if not path.is_file():
        raise SourceError(f"{field}: {path}: no such file")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds for unreadable files
        raise SourceError(f"{field}: {path}: cannot read ({str(exc).splitlines()[0]})") from exc
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    return frame.to_crs("EPSG:4326")


def _facilities(args) -> gpd.GeoDataFrame:
    if args.facilities is not None:
        return _read_file(args.facilities, "--facilities")
    return read_layer(args, args.layer)


def write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    """A GeoJSON FeatureCollection (lon/lat) with the OSM credit as a foreign member."""
    collection = json.loads(frame.to_crs("EPSG:4326").to_json(drop_id=False, na="null"))
    collection["attribution"] = OSM_ATTRIBUTION
    path.write_text(json.dumps(collection, ensure_ascii=False))


def _print(payload: dict, text: str, args) -> int:
    if args.json:
        print(json.dumps({**payload, "attribution": OSM_ATTRIBUTION}, ensure_ascii=False,
                         default=_json_default))
    else:
        print(text)
        print(f"Road data {OSM_ATTRIBUTION}")
    return 0


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _facility_network(args):
    if args.mode is None:
        args.mode = "walk" if args.layer == "shelters" else "drive"
    return network_from_args(args)


def run_service_area(args) -> int:
    breaks = _breaks(args)
    net = _facility_network(args)
    facilities = _facilities(args)
    barriers = _barriers(net, args)
    direction = args.direction or ("to" if args.layer == "shelters" else "from")
    turnout = facilities["turnout_s"].to_numpy(dtype=float) if (
        direction == "from" and "turnout_s" in facilities) else None
    areas = service_areas(net, facilities, breaks=breaks,
                          weight="length_m" if args.unit == "m" else "travel_time_s",
                          direction=direction, extra_cost=turnout, shape=args.shape,
                          overlap=args.overlap, population=read_layer(args, "population",
                                                                      required=False),
                          **barriers.as_kwargs())
    if args.out:
        write_geojson(areas, args.out)
    rows = areas.drop(columns="geometry").to_dict("records")
    text = "\n".join(f"facility {r['facility']}: {r['from_break']:g}-{r['to_break']:g} "
                     f"{args.unit if args.unit != 'min' else 's'}: {r['area_m2'] / 1e6:.2f} km², "
                     f"population {r['population']:.0f}" for r in rows)
    return _print({"areas": rows, "out": str(args.out) if args.out else None}, text, args)


def run_coverage(args) -> int:
    breaks = _breaks(args)
    net = _facility_network(args)
    facilities = _facilities(args)
    demand = (_read_file(args.demand, "--demand") if args.demand is not None
              else read_layer(args, "population"))
    barriers = _barriers(net, args)
    capacity = "capacity_people" if "capacity_people" in facilities else None
    direction = "to" if args.layer == "shelters" else "from"
    result = coverage(net, facilities, demand, breaks=breaks, direction=direction,
                      weight="length_m" if args.unit == "m" else "travel_time_s",
                      demand_column=args.demand_column, capacity_column=capacity,
                      **barriers.as_kwargs())
    if args.out:
        write_geojson(result.uncovered(), args.out)
    summary = result.summary.to_dict("records")
    over = result.facilities[result.facilities["over_capacity"]]
    reasons = result.unreachable()["reason"].value_counts().to_dict()
    text = "\n".join(
        f"within {s['break'] / UNITS[args.unit]:g} {args.unit}: {s['covered']:.0f} of "
        f"{s['total']:.0f} covered ({s['percent_covered']:.1f}%), {s['uncovered']:.0f} uncovered, "
        f"{s['unreachable']:.0f} unreachable" for s in summary)
    if reasons:
        text += "\nunreachable demand points by reason: " + ", ".join(
            f"{k} {v}" for k, v in reasons.items())
    if len(over):
        text += f"\n{over['facility'].nunique()} facilities over capacity"
    return _print({"summary": summary, "unreachable_by_reason": reasons,
                   "facilities": result.facilities.to_dict("records")}, text, args)


def _parse_items(text: str) -> dict[str, str]:
    items = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, quantity = part.partition("=")
        if not sep or not name:
            raise ValidationError(f"--items: expected ITEM=QUANTITY, got {part!r}")
        items[name.strip()] = quantity.strip()
    return items


def run_dispatch(args) -> int:
    incident = parse_latlon(args.at, field="--at")
    items = _parse_items(args.items)
    types = [t.strip() for t in args.type.split(",") if t.strip()]
    net = network_from_args(args)
    barriers = _barriers(net, args)
    teams = nearest_teams(net, incident, read_layer(args, "teams"), k=args.k, types=types,
                          min_headcount=args.min_headcount, **barriers.as_kwargs())
    payload = teams.to_dict()
    if items:
        depots = read_layer(args, "depots")
        payload["supplies"] = depots_for_items(net, incident, depots, read_layer(args, "inventory"),
                                               items, **barriers.as_kwargs())
    if args.shelters:
        walk = network_from_args(argparse.Namespace(**{**vars(args), "mode": "walk"}))
        walk_barriers = _barriers(walk, args)
        payload["shelters"] = shelters_with_room(walk, incident, read_layer(args, "shelters"),
                                                 k=args.shelters, **walk_barriers.as_kwargs())
    if args.out:
        write_geojson(_dispatch_features(payload), args.out)
    return _print(payload, _dispatch_text(payload), args)


def _dispatch_features(payload) -> gpd.GeoDataFrame:
    from shapely.geometry import shape

    rows = [{"kind": "team", "id": t["id"], "name": t["name"], "eta_s": t["eta_s"],
             "geometry": shape(t["route"])} for t in payload["teams"]]
    rows += [{"kind": "depot", "id": d["id"], "name": d["name"], "eta_s": d["eta_s"],
              "geometry": shape(d["route"])} for d in payload.get("supplies", {}).get("depots", [])]
    rows += [{"kind": "shelter", "id": s["id"], "name": s["name"], "eta_s": s["walk_s"],
              "geometry": shape(s["route"])} for s in payload.get("shelters", [])]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else \
        gpd.GeoDataFrame(columns=["kind", "id", "name", "eta_s"], geometry=[], crs="EPSG:4326")


def _dispatch_text(payload) -> str:
    lines = [f"{t['name']} ({t['type']}, {t['headcount']} people): ETA {t['eta_s'] / 60:.1f} min, "
             f"{t['distance_m'] / 1000:.1f} km" for t in payload["teams"]]
    if payload["note"]:
        lines.append(payload["note"])
    lines += [f"unreachable: {u['name']} ({u['reason']})" for u in payload["unreachable_teams"]]
    supplies = payload.get("supplies")
    if supplies:
        names = {d["id"]: d["name"] for d in supplies["depots"]}
        lines += [f"take {a['quantity']:g} {a['item']} from {names[a['depot']]} "
                  f"(ETA {a['eta_s'] / 60:.1f} min)" for a in supplies["allocation"]]
        lines += [f"shortfall: {q:g} {item}" for item, q in supplies["shortfall"].items()]
    lines += [f"shelter {s['name']}: {s['walk_s'] / 60:.1f} min walk, room for "
              f"{s['free_capacity']:.0f}" for s in payload.get("shelters", [])]
    return "\n".join(lines) or "nothing found"


def run_exposure(args) -> int:
    net = network_from_args(args)
    hazards = read_layer(args, "hazards")
    zones = hazard_zones(hazards, crs=net.crs, active_only=False)
    layers = {name: read_layer(args, name, required=False)
              for name in ("shelters", "depots", "teams")}
    population = read_layer(args, "population", required=False)
    table = exposure(zones, layers=layers, population=population, net=net)
    unsafe = unsafe_shelters(layers["shelters"], zones) if layers["shelters"] is not None else None
    if args.out:
        write_geojson(gpd.GeoDataFrame(table, geometry=zones.geometry.to_numpy(), crs=zones.crs),
                      args.out)
    records = table.to_dict("records")
    text = "\n".join(f"hazard {r['hazard']} ({r['type']}{'' if r['active'] else ', inactive'}): "
                     f"population {r.get('population', 0):.0f}, "
                     f"{r.get('shelters_count', 0)} shelters, {r.get('teams_count', 0)} teams, "
                     f"{r.get('road_km', 0):.2f} km of road" for r in records)
    unsafe_rows = [] if unsafe is None else unsafe.to_dict("records")
    if unsafe_rows:
        text += f"\n{len(unsafe_rows)} shelter(s) closer to a hazard than its safety distance"
    return _print({"hazards": records, "unsafe_shelters": unsafe_rows}, text or "no active hazards",
                  args)
