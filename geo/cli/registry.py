"""``python -m geo registry init | demo | import | export | list``.

Every command takes ``--db`` (a path or URL; default ``$GEO_DB_URL``, else
``instance/registry.sqlite``). Imports are all-or-nothing; exports and reports are written whole
or not at all (:func:`geo.core.files.write_atomically`), so a failed command leaves nothing
half-written.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from geo.cli.options import add_registry_option
from geo.core.standards import load_standards
from geo.errors import RecordsRejectedError, ValidationError
from geo.io.geojson import geojson_collection
from geo.io.layer_files import EXTENSIONS, FORMATS, export_layer, has_osm_source
from geo.registry.demo import DEMO_OSM, build_demo
from geo.registry.imports import import_file, write_report
from geo.registry.population import (
    DEFAULT_LEVELS,
    M2_PER_PERSON,
    population_from_polygons,
    population_from_raster,
)
from geo.registry.registry import Registry
from geo.registry.schema import LAYERS

LIST_COLUMNS = {
    "shelters": ["name", "shelter_class", "capacity_people", "occupancy", "status"],
    "depots": ["name"],
    "inventory": ["depot", "item", "quantity", "unit"],
    "teams": ["name", "type", "status", "headcount", "turnout_s"],
    "hazards": ["name", "type", "risk_level", "radius_m", "active"],
    "incidents": ["name", "type", "severity", "status", "assigned_teams"],
    "population": ["population", "floor_area_m2"],
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("registry", help="the resource registry database")
    commands = parser.add_subparsers(dest="registry_command", required=True,
                                     parser_class=type(parser))
    common = argparse.ArgumentParser(add_help=False)
    add_registry_option(common)
    common.add_argument("--standards", type=Path, default=None,
                        help="shelter standards table (YAML) overriding the shipped one")

    init = commands.add_parser("init", parents=[common], help="create an empty registry")
    init.add_argument("--region", default=None, metavar="W,S,E,N",
                      help="lon/lat box the registry covers (imports outside it are refused)")
    init.set_defaults(func=run_init)

    demo = commands.add_parser("demo", parents=[common],
                               help="build the demo registry from real OSM features")
    demo.add_argument("--osm", type=Path, default=DEMO_OSM, help="OSM extract (default: "
                      "the embedded Liechtenstein extract)")
    demo.add_argument("--population", type=float, default=None, metavar="PEOPLE",
                      help="total population spread over residential buildings (default: "
                           "Liechtenstein's published total for the embedded extract, else "
                           "estimated from residential floor area; the output says which)")
    demo.add_argument("--m2-per-person", type=float, default=M2_PER_PERSON,
                      help="floor area per person for that estimate (default %(default)g, a "
                           "planning assumption)")
    demo.add_argument("--default-levels", type=float, default=DEFAULT_LEVELS,
                      help="storeys assumed where building:levels is missing (default %(default)g)")
    demo.add_argument("--replace", action="store_true", help="replace the layers of a "
                                                             "non-empty registry")
    demo.set_defaults(func=run_demo)

    load = commands.add_parser("import", parents=[common], help="import a layer file")
    load.add_argument("file", type=Path)
    _layer_option(load)
    load.add_argument("--crs", default=None, help="coordinates' CRS: an EPSG code, GCJ-02 or "
                                                  "BD-09 (default: the file's, else EPSG:4326)")
    load.add_argument("--encoding", default=None,
                      help="CSV encoding, any Python knows: utf-8, gbk, gb18030, cp1252, ... "
                           "(default: detected; refused when unclear)")
    load.add_argument("--report", type=Path, default=None,
                      help="write every problem of a rejected file here (CSV: row, field, problem)")
    load.add_argument("--actor", default=None, help="who imports, for the audit log")
    load.set_defaults(func=run_import)

    export = commands.add_parser("export", parents=[common], help="export a layer")
    _layer_option(export)
    export.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
    export.add_argument("--out", type=Path, default=None, help="output file (default LAYER.EXT)")
    export.add_argument("--crs", default=None, help="write coordinates in this CRS (EPSG code, "
                                                    "GCJ-02, BD-09; default EPSG:4326)")
    export.add_argument("--encoding", default="utf-8",
                        help="CSV encoding, any Python knows (default utf-8; gbk for Chinese "
                             "Excel)")
    export.set_defaults(func=run_export)

    people = commands.add_parser("population", parents=[common],
                                 help="replace the population layer with a real population "
                                      "raster or census polygons")
    source = people.add_mutually_exclusive_group(required=True)
    source.add_argument("--raster", type=Path, help="population raster (people per cell)")
    source.add_argument("--polygons", type=Path, help="census polygons (any vector file)")
    people.add_argument("--column", default="population",
                        help="people column of the census polygons (default %(default)s)")
    people.set_defaults(func=run_population)

    show = commands.add_parser("list", parents=[common], help="list a layer")
    _layer_option(show)
    show.add_argument("--json", action="store_true", help="print a GeoJSON FeatureCollection")
    show.add_argument("--limit", type=int, default=None, help="at most this many records")
    show.set_defaults(func=run_list)


def _layer_option(parser) -> None:
    parser.add_argument("--layer", required=True, choices=list(LAYERS))


@contextlib.contextmanager
def _open(args, *, create: bool) -> Iterator[Registry]:
    """The registry of ``--db``; if the command fails, a database it created is removed."""
    standards = load_standards(args.standards) if args.standards else None
    registry = Registry(args.db, standards=standards, create=create)
    try:
        yield registry
    except BaseException:
        registry.discard()
        raise
    finally:
        registry.close()


def _actor(args) -> str:
    if getattr(args, "actor", None):
        return args.actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def run_init(args) -> int:
    with _open(args, create=True) as registry:
        if args.region:
            registry.set_region(_region(args.region), actor=_actor(args))
        region = registry.region
        print(f"registry ready at {registry.url}" + (
            f" (region {', '.join(f'{v:g}' for v in region.as_list())})" if region else ""))
    return 0


def _region(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise ValidationError(f"--region: expected W,S,E,N in degrees, got {text!r}")
    return values


def run_demo(args) -> int:
    with _open(args, create=True) as registry:
        counts = build_demo(registry, osm_path=args.osm, total_population=args.population,
                            default_levels=args.default_levels,
                            m2_per_person=args.m2_per_person, replace=args.replace,
                            actor=_actor(args))
        population = registry.population_source or {}
        print(f"demo registry at {registry.url} from {args.osm.name} (real OSM features; team "
              f"attributes and inventories are demo values)")
        print(", ".join(f"{n} {name}" for name, n in counts.items()))
        print(f"population ({population.get('method')}): {population.get('note')}")
    return 0


def run_import(args) -> int:
    with _open(args, create=True) as registry:
        try:
            ids = import_file(registry, args.file, layer=args.layer, crs=args.crs,
                              encoding=args.encoding, actor=_actor(args))
        except RecordsRejectedError as exc:
            if args.report is not None:
                write_report(exc.problems, args.report, field="--report")
                raise ValidationError(f"{exc} (all problems in {args.report})") from None
            hint = " (--report FILE lists them all)" if len(exc.problems) > 3 else ""
            raise ValidationError(f"{exc}{hint}") from None
    print(f"imported {len(ids)} {args.layer} from {args.file}")
    return 0


def run_export(args) -> int:
    out = args.out or Path(f"{args.layer}{EXTENSIONS[args.fmt]}")
    with _open(args, create=False) as registry:
        frame = registry.layer(args.layer)
    export_layer(frame, out, fmt=args.fmt, layer=args.layer, encoding=args.encoding,
                 crs=args.crs, field="--out")
    print(f"wrote {len(frame)} {args.layer} to {out}")
    return 0


def run_population(args) -> int:
    if args.raster is not None:
        frame, method, kind = population_from_raster(args.raster), "raster", "population raster"
    else:
        frame = population_from_polygons(args.polygons, column=args.column)
        method, kind = "polygons", "census polygons"
    source = (args.raster or args.polygons).name
    frame["source"] = source
    people = float(frame["population"].sum())
    with _open(args, create=True) as registry:
        # Staged, then switched in with the old layer's removal in one short write: a grid of
        # millions of cells does not lock dispatchers out while it loads.
        registry.add_many("population", frame.to_dict("records"), actor=_actor(args),
                          replace=True)
        registry.set_population_source(people=people, method=method,
                                       note=f"{people:,.0f} people from {source} ({kind})",
                                       actor=_actor(args))
    print(f"population: {len(frame)} points, {people:,.0f} people from {source}")
    return 0


def run_list(args) -> int:
    with _open(args, create=False) as registry:
        frame = registry.layer(args.layer)
    if args.limit is not None:
        frame = frame.head(max(args.limit, 0))
    if args.json:
        collection = geojson_collection(frame, attribution=has_osm_source(frame))
        json.dump(collection, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if len(frame) == 0:
        print(f"no {args.layer}")
        return 0
    print(frame[LIST_COLUMNS[args.layer]].to_string(max_colwidth=40))
    return 0
