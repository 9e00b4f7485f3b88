"""Options and output shared by the commands: the network source, the registry, points, and
printing a result as text or JSON (and GeoJSON with ``--out``)."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from geo import OSM_ATTRIBUTION
from geo.errors import PointError, ValidationError
from geo.network.build import DEFAULT_OSM
from geo.network.model import NetworkSettings
from geo.network.osm_tags import MODES
from geo.services import Context, NetworkSource

if TYPE_CHECKING:
    from geopandas import GeoDataFrame


def add_network_options(parser: argparse.ArgumentParser, *, mode_default: str | None) -> None:
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM,
                        help="OSM .pbf / .osm[.gz|.bz2] or osmnx .graphml (default: Liechtenstein)")
    parser.add_argument("--mode", default=mode_default,
                        help=f"one of {', '.join(MODES)}"
                             + ("" if mode_default else " (default: by the kind of facility)"))
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="network cache folder "
                             "(default $GEO_CACHE_DIR or ~/.cache/emergency-geo)")
    parser.add_argument("--speed", action="append", default=[], metavar="CLASS=KPH",
                        help="override a highway class's default driving speed (repeatable)")
    parser.add_argument("--walk-speed", type=float, default=None, metavar="KPH")


def add_registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None,
                        help="registry database, a path or URL (default $GEO_DB_URL, else "
                             "instance/registry.sqlite)")


def network_source(args) -> NetworkSource:
    settings = NetworkSettings(
        drive_speeds_kph=_parse_speeds(args.speed),
        **({} if args.walk_speed is None else {"walk_speed_kph": args.walk_speed}),
    )
    return NetworkSource(osm_path=args.osm, settings=settings, cache_dir=args.cache_dir)


def open_context(args, *, registry: bool = True) -> Context:
    """The application context of a command (with the registry of ``--db`` when it needs one)."""
    source = network_source(args)
    if registry:
        return Context.open(db=args.db, source=source, progress=True)
    return Context(None, source=source, progress=True)


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
    """``"LAT,LON"`` as read off a map → (lon, lat), the order of every interface inside;
    range checks happen against the network."""
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        raise PointError(f"{field}: expected LAT,LON, got {text!r}")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise PointError(f"{field}: expected two numbers LAT,LON, got {text!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise PointError(f"{field}: coordinates must be finite numbers, got {text!r}")
    return lon, lat


def emit(payload: dict, text: str, args, *,
         features: Callable[[], GeoDataFrame] | None = None) -> int:
    """Print a result (text with its notes, or ``--json``) and write ``--out`` as GeoJSON:
    ``features()``, made only then (a table of features costs time nobody asked for)."""
    if getattr(args, "out", None) is not None and features is not None:
        from geo.io.geojson import write_geojson

        write_geojson(features(), args.out, attribution=True, field="--out")
    if getattr(args, "json", False):
        print(json.dumps({**payload, "attribution": OSM_ATTRIBUTION}, ensure_ascii=False))
        return 0
    print(text)
    for note in payload.get("notes", []):
        print(f"note: {note}")
    print(f"Road data {OSM_ATTRIBUTION}")
    return 0
