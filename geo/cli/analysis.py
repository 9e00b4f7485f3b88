"""``python -m geo service-area | coverage | dispatch | exposure``: parse, call the application
layer (:mod:`geo.services`), print.

Layers come from the registry database (``--db``) or from files given on the command line
(GeoJSON, GeoPackage, Shapefile, CSV; see :func:`geo.io.read_vector` for the CRS rules). Results
print as a summary with notes (``--json`` for scripts) and, with ``--out``, as a GeoJSON file that
carries the OpenStreetMap credit.
"""

from __future__ import annotations

import re
from pathlib import Path

from geo import services
from geo.cli.options import (
    add_network_options,
    add_registry_option,
    emit,
    open_context,
    parse_latlon,
)
from geo.errors import ValidationError

UNIT_SECONDS = {"min": 60.0, "s": 1.0}
UNITS = ("min", "s", "m")


def register(subparsers) -> None:
    area = subparsers.add_parser("service-area", help="service-area polygons of facilities")
    _common(area, layer_option=True)
    _breaks_options(area)
    area.add_argument("--direction", default=None, choices=["to", "from"],
                      help="to the facility (default for shelters) or from it (default for "
                           "teams and depots)")
    area.add_argument("--shape", default="disks", choices=["disks", "rings"])
    area.add_argument("--overlap", default="dissolve", choices=["dissolve", "split", "overlap"],
                      help="one area per break for all facilities (default, one search), "
                           "divided between the nearest facilities, or one per facility")
    area.add_argument("--form", default="band", choices=["band", "filled"],
                      help="the land along the reached roads (default), or also the land "
                           "between them within --fill-m")
    area.add_argument("--buffer-m", type=float, default=None,
                      help="half-width of the band along reached roads (default: 40 on foot, "
                           "60 by car)")
    area.add_argument("--fill-m", type=float, default=None,
                      help="filled form: gaps between reached roads closed up to twice this "
                           "(default 200)")
    area.set_defaults(func=run_service_area)

    cover = subparsers.add_parser("coverage", help="demand covered by facilities within breaks")
    _common(cover, layer_option=True)
    _breaks_options(cover)
    cover.add_argument("--direction", default=None, choices=["to", "from"])
    cover.add_argument("--demand", type=Path, default=None,
                       help="demand file (default: the registry's population layer)")
    cover.add_argument("--demand-column", default="population")
    cover.set_defaults(func=run_coverage)

    send = subparsers.add_parser("dispatch", help="nearest available teams, depots and shelters")
    _common(send, layer_option=False)
    send.add_argument("--at", required=True, metavar="LAT,LON", help="incident location")
    send.add_argument("--k", type=int, default=5, help="how many teams (default %(default)s)")
    send.add_argument("--type", default="",
                      help="team types, comma-separated, in English or Chinese, any case "
                           "(fire,medical or 消防,医疗); with several, the --k nearest of each "
                           "type are listed (default: the --k nearest of any type)")
    send.add_argument("--min-headcount", type=int, default=0)
    send.add_argument("--items", default="",
                      help="supplies as catalogue items or their Chinese or English names, e.g. "
                           "water=500,tents=20 or 饮用水=500")
    send.add_argument("--shelters", type=int, default=3, help="open shelters with room to list")
    send.set_defaults(func=run_dispatch)

    risk = subparsers.add_parser("exposure", help="population and resources inside hazard zones")
    _common(risk, layer_option=False, hazard_options=False)
    risk.set_defaults(func=run_exposure)


def _common(parser, *, layer_option: bool, hazard_options: bool = True) -> None:
    add_network_options(parser, mode_default=None if layer_option else "drive")
    add_registry_option(parser)
    if layer_option:
        parser.add_argument("--layer", default="shelters",
                            choices=sorted(services.FACILITY_DEFAULTS),
                            help="kind of facility, from the registry (default %(default)s)")
        parser.add_argument("--facilities", type=Path, default=None,
                            help="facilities of that kind from a file instead of the registry")
        parser.add_argument("--crs", default=None,
                            help="CRS of input files that declare none (EPSG code, GCJ-02, BD-09)")
    if hazard_options:
        parser.add_argument("--no-hazards", action="store_true",
                            help="ignore the registry's active hazards")
        parser.add_argument("--barriers", type=Path, default=None,
                            help="extra barriers (closed roads, drawn areas) from a file")
    parser.add_argument("--out", type=Path, default=None, help="write the result as GeoJSON")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _breaks_options(parser) -> None:
    parser.add_argument("--breaks", default="5,10,15", help="comma-separated (default %(default)s)")
    parser.add_argument("--unit", default="min", choices=UNITS)


def _breaks(args) -> tuple[list[float] | None, list[float] | None]:
    """``--breaks`` in ``--unit`` as the services take them: (seconds, metres), one None."""
    try:
        values = [float(v) for v in args.breaks.split(",") if v.strip()]
    except ValueError:
        raise ValidationError(
            f"--breaks: expected comma-separated numbers, got {args.breaks!r}") from None
    if args.unit == "m":
        return None, values
    return [v * UNIT_SECONDS[args.unit] for v in values], None


def _file(args, name: str):
    path = getattr(args, name)
    if path is None:
        return None
    from geo.io.vector import read_vector  # pyogrio: only for a command given files

    return read_vector(path, field=f"--{name}", crs=getattr(args, "crs", None))


def _hazard_kwargs(args) -> dict:
    return {"hazards": not args.no_hazards, "barriers": _file(args, "barriers")}


def run_service_area(args) -> int:
    breaks_s, breaks_m = _breaks(args)
    result = services.service_areas(
        open_context(args), layer=args.layer, facilities=_file(args, "facilities"),
        mode=args.mode, direction=args.direction, shape=args.shape, overlap=args.overlap,
        form=args.form, buffer_m=args.buffer_m, fill_m=args.fill_m, breaks_s=breaks_s,
        breaks_m=breaks_m, **_hazard_kwargs(args))
    payload = {**result.to_dict(), "out": str(args.out) if args.out else None}
    scale = UNIT_SECONDS.get(args.unit, 1.0)
    lines = [f"{_facility(r['facility'])}: {r['from_break'] / scale:g}-{r['to_break'] / scale:g} "
             f"{args.unit}: {r['area_m2'] / 1e6:.2f} km², population {r['population']:.0f}"
             for r in payload["areas"]]
    lines += [f"facility {u['facility']}: no area ({u['reason']}, {u['snap_m']:.0f} m from a "
              "road)" for u in payload["unreachable_facilities"]]
    return emit(payload, "\n".join(lines) or "no areas", args, features=result.features)


def _facility(facility_id) -> str:
    return "all facilities" if facility_id is None else f"facility {facility_id}"


def run_coverage(args) -> int:
    demand = _file(args, "demand")
    breaks_s, breaks_m = _breaks(args)
    result = services.coverage(
        open_context(args), layer=args.layer, facilities=_file(args, "facilities"),
        demand=demand, demand_column=args.demand_column, mode=args.mode,
        direction=args.direction, breaks_s=breaks_s, breaks_m=breaks_m, **_hazard_kwargs(args))
    payload = result.to_dict()
    scale = UNIT_SECONDS.get(args.unit, 1.0)
    lines = [f"within {s['break'] / scale:g} {args.unit}: {s['covered']:.0f} of "
             f"{s['total']:.0f} covered ({s['percent_covered']:.1f}%), {s['uncovered']:.0f} "
             f"uncovered, {s['unreachable']:.0f} unreachable" for s in payload["summary"]]
    reasons = payload["unreachable_by_reason"]
    if reasons:
        lines.append("unreachable demand points by reason: "
                     + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    over = {f["facility"] for f in payload["facilities"] if f["over_capacity"]}
    if over:
        lines.append(f"{len(over)} facilities over capacity")
    return emit(payload, "\n".join(lines), args, features=result.uncovered)


def _split_list(text: str) -> list[str]:
    """Comma-separated parts; the Chinese commas ， and 、 count as commas."""
    return [part.strip() for part in re.split(r"[,，、]", text) if part.strip()]


def _parse_items(text: str) -> dict[str, str]:
    items: dict[str, str] = {}
    for part in _split_list(text):
        name, sep, quantity = part.replace("＝", "=").partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValidationError(f"--items: expected ITEM=QUANTITY, got {part!r}")
        if name in items:
            raise ValidationError(f"--items: {name!r} is given twice")
        items[name] = quantity.strip()
    return items


def run_dispatch(args) -> int:
    at = parse_latlon(args.at, field="--at")
    items = _parse_items(args.items)
    types = _split_list(args.type)
    ctx = open_context(args)
    if args.mode != "drive":
        raise ValidationError("--mode: teams and depots drive and people walk to shelters; "
                              "dispatch takes no other mode")
    result = services.dispatch(ctx, at=at, k=args.k, team_types=types,
                               min_headcount=args.min_headcount, items=items,
                               shelters_k=args.shelters, **_hazard_kwargs(args))
    return emit(result.to_dict(), _dispatch_text(result.to_dict()), args,
                features=result.features)


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
              f"{s['free_capacity']:.0f}" for s in payload.get("shelters") or []]
    return "\n".join(lines) or "nothing found"


def run_exposure(args) -> int:
    result = services.exposure(open_context(args), mode=args.mode)
    payload = result.to_dict()
    lines = [f"hazard {r['hazard']} ({r['type']}{'' if r['active'] else ', inactive'}): "
             f"population {r.get('population') or 0:.0f}, "
             f"{r.get('shelters_count', 0)} shelters, {r.get('teams_count', 0)} teams, "
             f"{r.get('road_km', 0):.2f} km of road" for r in payload["hazards"]]
    if payload["unsafe_shelters"]:
        lines.append(f"{len(payload['unsafe_shelters'])} shelter(s) closer to a hazard than its "
                     "safety distance")
    return emit(payload, "\n".join(lines) or "no hazards", args, features=result.features)
