"""``python -m geo site``: parse, call :func:`geo.services.site` (or :func:`geo.services.
site_matrix` for a cost matrix from another tool), print.

Prints the model's status (proven optimal, or the best found with its gap), the new sites with
their load against capacity, the candidates excluded as unsafe and the before/after comparison;
``--json`` for scripts (``status``, ``objective``, ``gap``, ``sites`` …); ``--out`` writes the
open sites as GeoJSON (with a cost matrix: the result as JSON).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from geo import services
from geo.cli.options import add_network_options, add_registry_option, emit, open_context
from geo.core.files import write_text_atomically
from geo.core.progress import Status, on_terminal
from geo.errors import ValidationError
from geo.io.cost_matrix import read_cost_matrix, read_weights
from geo.io.vector import read_vector
from geo.services.siting import CANDIDATE_LAYERS, NEEDS_CUTOFF, OSM_CANDIDATES, check_p

PROBLEMS = ("lscp", "mclp", "pmedian", "pcenter")
OBJECTIVES = {"lscp": "new sites", "mclp": "covered", "pmedian": "demand-weighted cost",
              "pcenter": "worst cost"}


def register(subparsers) -> None:
    site = subparsers.add_parser("site", help="choose shelter sites (location-allocation)")
    site.add_argument("--problem", required=True, choices=PROBLEMS,
                      help="lscp: fewest sites covering everyone within --minutes; mclp: --p "
                           "sites covering the most; pmedian: --p sites with the least total "
                           "travel; pcenter: --p sites with the shortest worst trip")
    site.add_argument("--p", type=int, default=None, help="number of new sites")
    site.add_argument("--minutes", type=float, default=None,
                      help="walking minutes within which demand counts as covered (default: "
                           "the shelter class's, 10 for emergency shelters)")
    site.add_argument("--capacitated", action="store_true",
                      help="no site takes more people than its capacity (mclp, pmedian)")
    site.add_argument("--keep-existing", action="store_true",
                      help="today's open shelters stay open and count toward coverage")
    site.add_argument("--candidates", default=OSM_CANDIDATES, metavar="osm|LAYER|FILE",
                      help="candidate sites: osm (schools, halls, grounds, parks, squares of the "
                           f"extract; default), a registry layer ({', '.join(CANDIDATE_LAYERS)}) "
                           "or a file")
    site.add_argument("--shelter-class", default=None,
                      help="class of the new shelters (capacity per person, default minutes)")
    site.add_argument("--demand", type=Path, default=None,
                      help="weighted demand points (default: the registry's population)")
    site.add_argument("--demand-column", default="population")
    site.add_argument("--cost-matrix", type=Path, default=None, metavar="CSV",
                      help="solve on this demand × candidate matrix instead of the network")
    site.add_argument("--weights", type=Path, default=None, metavar="CSV",
                      help="demand weights for --cost-matrix (id,weight rows)")
    site.add_argument("--cutoff", type=float, default=None,
                      help="coverage cutoff in the cost matrix's own units")
    site.add_argument("--time-limit", type=float, default=60.0, metavar="S",
                      help="solver time limit in seconds (default %(default)s)")
    site.add_argument("--encoding", default=None, help="encoding of the CSV files")
    add_network_options(site, mode_default="walk")
    add_registry_option(site)
    site.add_argument("--crs", default=None,
                      help="CRS of input files that declare none (EPSG code, GCJ-02, BD-09)")
    site.add_argument("--no-hazards", action="store_true",
                      help="ignore the registry's hazards (barriers and unsafe candidates)")
    site.add_argument("--barriers", type=Path, default=None,
                      help="extra barriers (closed roads, drawn areas) from a file")
    site.add_argument("--out", type=Path, default=None, help="write the open sites as GeoJSON")
    site.add_argument("--json", action="store_true", help="print JSON")
    site.set_defaults(func=run_site)


def run_site(args) -> int:
    _check_option_mix(args)
    status = Status(f"site {args.problem}", enabled=on_terminal())
    try:
        if args.cost_matrix is not None:
            return _run_matrix(args, status)
        return _run_network(args, status)
    finally:
        status.close()


def _check_option_mix(args) -> None:
    """The options that do not go together, and the numbers, checked before any network is
    loaded (the models check them again, by their own names)."""
    if args.cost_matrix is None:
        for name in ("weights", "cutoff"):
            if getattr(args, name) is not None:
                raise ValidationError(f"--{name}: only with --cost-matrix (on the network, "
                                      "give --minutes)")
        _check_numbers(args)
        return
    if args.weights is None:
        raise ValidationError("--weights: a cost matrix needs the demand weights")
    for name, given in (("minutes", args.minutes is not None),
                        ("capacitated", args.capacitated),
                        ("keep-existing", args.keep_existing),
                        ("candidates", args.candidates != OSM_CANDIDATES),
                        ("demand", args.demand is not None),
                        ("barriers", args.barriers is not None)):
        if given:
            raise ValidationError(f"--{name}: not used with --cost-matrix (the matrix holds the "
                                  "demand, the candidates and the costs)")
    _check_numbers(args)


def _check_numbers(args) -> None:
    check_p(args.problem, args.p, field="--p")
    if args.cost_matrix is not None and args.problem in NEEDS_CUTOFF and args.cutoff is None:
        raise ValidationError(f"--cutoff: {args.problem} on a cost matrix needs a cutoff (the "
                              "cost within which demand counts as covered, in the matrix's units)")
    for name, value, unit in (("time-limit", args.time_limit, "seconds"),
                              ("cutoff", args.cutoff, "in the cost matrix's units"),
                              ("minutes", args.minutes, "minutes")):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValidationError(f"--{name}: expected a positive number ({unit}), got {value:g}")


def _run_matrix(args, status: Status) -> int:
    costs = read_cost_matrix(args.cost_matrix, field="--cost-matrix", encoding=args.encoding)
    weights = read_weights(args.weights, ids=list(costs.index), field="--weights",
                           encoding=args.encoding)
    result = services.site_matrix(problem=args.problem, costs=costs, weights=weights, p=args.p,
                                  cutoff=args.cutoff, time_limit_s=args.time_limit,
                                  progress=status.say)
    payload = result.to_dict()
    status.close()
    if args.out is not None:
        write_text_atomically(args.out, json.dumps(payload, ensure_ascii=False, indent=1),
                              field="--out")
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    print("\n".join(_headline(payload, unit="")))
    for load in payload["loads"]:
        print(f"site {load['site']}: {load['load']:,.0f} assigned")
    for note in payload["notes"]:
        print(f"note: {note}")
    return 0


def _run_network(args, status: Status) -> int:
    result = services.site(
        open_context(args), problem=args.problem, p=args.p, minutes=args.minutes,
        capacitated=args.capacitated, keep_existing=args.keep_existing,
        candidates=_candidates(args), shelter_class=args.shelter_class,
        demand=_file(args.demand, "--demand", args.crs), demand_column=args.demand_column,
        time_limit_s=args.time_limit, mode=args.mode, hazards=not args.no_hazards,
        barriers=_file(args.barriers, "--barriers", args.crs), progress=status.say)
    status.close()
    payload = result.to_dict()
    return emit(payload, _network_text(payload), args, features=result.features)


def _candidates(args):
    value = args.candidates
    if value in (OSM_CANDIDATES, *CANDIDATE_LAYERS):
        return value
    path = Path(value)
    if not path.exists():
        raise ValidationError(f"--candidates: expected {OSM_CANDIDATES}, a registry layer "
                              f"({', '.join(CANDIDATE_LAYERS)}) or a file; {value!r} is none of "
                              "them (no such file)")
    frame = read_vector(path, field="--candidates", crs=args.crs)
    if "id" not in frame:
        return frame  # named by their row number
    missing = frame["id"].isna() | (frame["id"].astype(str).str.strip() == "")
    if missing.any():
        raise ValidationError(f"--candidates: {path}: {int(missing.sum())} of the "
                              f"{len(frame)} candidates have no id (e.g. row "
                              f"{int(missing.to_numpy().argmax()) + 1}); give every one an id, "
                              "or none")
    return frame.set_index("id")  # the sites are then named by their ids


def _file(path: Path | None, field: str, crs: str | None):
    return None if path is None else read_vector(path, field=field, crs=crs)


def _headline(payload: dict, *, unit: str) -> list[str]:
    status = ("proven optimal" if payload["status"] == "optimal" else
              "no solution: infeasible" if payload["status"] == "infeasible" else
              f"time limit reached: best found, {_gap(payload['gap'])}")
    lines = [f"{payload['problem']} ({status}): {len(payload['sites'])} new site(s), "
             f"{OBJECTIVES[payload['problem']]} {payload['objective']:,.6g}{unit}"]
    lines.append(f"covered: {payload['covered_demand']:,.0f} of {payload['total_demand']:,.0f} "
                 f"({payload['percent_covered']:.1f}%); solved in {payload['solve_time_s']:.1f} s")
    return lines


def _gap(gap) -> str:
    return "gap to the bound unknown" if gap is None else f"gap {100 * gap:.2f}% to the bound"


def _network_text(payload: dict) -> str:
    lines = _headline(payload, unit=" s" if payload["problem"] in ("pcenter",) else "")
    for site in payload["new_sites"]:
        capacity = site["capacity_people"]
        room = "" if capacity is None else f" / capacity {capacity:,.0f}"
        lines.append(f"new site {site['id']} {site['name']}: {site['load']:,.0f} people"
                     f"{room} ({site['lat']:.5f}, {site['lon']:.5f})")
    if payload["kept_sites"]:
        lines.append(f"kept open: {len(payload['kept_sites'])} shelters")
    excluded = payload["excluded_candidates"]
    if excluded:
        lines.append(f"excluded as unsafe: {len(excluded)} candidate(s), e.g. "
                     f"{excluded[0]['candidate']}: {excluded[0]['reason']}")
    lines += _comparison(payload["before_after"])
    return "\n".join(lines)


def _comparison(rows: list[dict]) -> list[str]:
    before = [r for r in rows if r["scenario"] == "before"]
    after = [r for r in rows if r["scenario"] == "after"]
    lines = [f"before → after ({before[0]['sites']} → {after[0]['sites']} sites):"]
    for b, a in zip(before, after, strict=True):
        lines.append(f"  within {b['break'] / 60:g} min: {b['percent_covered']:.1f}% → "
                     f"{a['percent_covered']:.1f}%")
    b, a = before[0], after[0]
    lines.append(f"  mean trip {_minutes(b['mean_time_s'])} → {_minutes(a['mean_time_s'])}, "
                 f"worst {_minutes(b['worst_time_s'])} → {_minutes(a['worst_time_s'])}, people "
                 f"over capacity {_people(b['over_capacity'])} → {_people(a['over_capacity'])}")
    return lines


def _minutes(seconds) -> str:
    return "n/a" if seconds is None else f"{seconds / 60:.1f} min"


def _people(value) -> str:
    return "n/a" if value is None else f"{value:,.0f}"
