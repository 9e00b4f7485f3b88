"""``python -m geo evacuate``: parse, call :func:`geo.services.evacuate`, print.

Prints one line per shelter used (people placed and room left), how many of the people inside
were placed and why the others could not be, and the clearance time; ``--json`` for scripts;
``--out`` writes the evacuation routes as GeoJSON.
"""

from __future__ import annotations

from pathlib import Path

from geo import services
from geo.cli.analysis import _split_list
from geo.cli.options import add_network_options, add_registry_option, emit, open_context
from geo.core.progress import Stages, on_terminal
from geo.errors import ValidationError
from geo.io.vector import read_vector
from geo.services.evacuation import STAGES


def register(subparsers) -> None:
    evacuate = subparsers.add_parser(
        "evacuate", help="assign the people inside hazard zones to safe shelters with room")
    add_network_options(evacuate, mode_default="walk")
    add_registry_option(evacuate)
    evacuate.add_argument("--hazard", action="append", default=[], metavar="ID",
                          help="hazard to evacuate (repeatable or comma-separated; default: "
                               "every active hazard; an inactive one is a planning scenario)")
    evacuate.add_argument("--max-time", type=float, default=None, metavar="MIN",
                          help="longest trip to a shelter, in minutes (default: no limit)")
    evacuate.add_argument("--barriers", type=Path, default=None,
                          help="extra barriers (closed roads, drawn areas) from a file")
    evacuate.add_argument("--crs", default=None,
                          help="CRS of a barriers file that declares none (EPSG code, GCJ-02, "
                               "BD-09)")
    evacuate.add_argument("--out", type=Path, default=None,
                          help="write the evacuation routes as GeoJSON")
    evacuate.add_argument("--json", action="store_true", help="print JSON")
    evacuate.set_defaults(func=run_evacuate)


def run_evacuate(args) -> int:
    hazards = [h for text in args.hazard for h in _split_list(text)]
    max_time_s = None
    if args.max_time is not None:
        if not args.max_time > 0:
            raise ValidationError(f"--max-time: expected a positive number of minutes, got "
                                  f"{args.max_time:g}")
        max_time_s = args.max_time * 60.0
    barriers = (None if args.barriers is None
                else read_vector(args.barriers, field="--barriers", crs=args.crs))
    ctx = open_context(args)
    stages = Stages(len(STAGES), description="evacuation", enabled=on_terminal())
    try:
        result = services.evacuate(ctx, hazards=hazards, mode=args.mode, barriers=barriers,
                                   max_time_s=max_time_s, progress=stages.next)
    finally:
        stages.close()
    payload = result.to_dict()
    return emit(payload, _text(payload), args, features=result.features)


def _text(payload: dict) -> str:
    lines = [f"shelter {s['name']}: {s['load']:.0f} placed, room left for {s['remaining']:.0f} "
             f"of {s['free_capacity']:.0f}" for s in payload["shelters"] if s["load"] > 0]
    hazards = ", ".join(map(str, payload["hazards"]))
    lines.append(f"evacuating {hazards}: {payload['summary']}")
    if payload["clearance_time_s"] is not None:
        lines.append(f"everyone placed has arrived after {payload['clearance_time_s'] / 60:.1f} "
                     f"min (mean trip {payload['mean_travel_time_s'] / 60:.1f} min)")
    if payload["excluded_shelters"]:
        reasons: dict[str, int] = {}
        for shelter in payload["excluded_shelters"]:
            reasons[shelter["reason"]] = reasons.get(shelter["reason"], 0) + 1
        lines.append(f"{len(payload['excluded_shelters'])} shelter(s) not used: "
                     + ", ".join(f"{reason} {n}" for reason, n in reasons.items()))
    return "\n".join(lines)
