"""What an OSM way means for a travel mode: may it be used, in which directions, how fast.

Reference: osmnx 2.1's ``network_type`` filters ``drive`` and ``walk`` (``osmnx._overpass``).
Where this module differs, and why:

drive
  * ``highway=service`` is included (osmnx ``drive`` drops every service road; ``drive_service``
    keeps them). Emergency vehicles reach schools, sports halls and depots over service roads,
    so they belong in a dispatch network. Parking aisles, driveways and private service roads stay
    out, as in ``drive_service``; ``service=emergency_access`` stays *in*: it exists for us.
  * Access follows OSM's hierarchy: the most specific of ``motorcar``, ``motor_vehicle``,
    ``vehicle``, ``access`` decides. osmnx drops a way if *any* of ``motor_vehicle``/``motorcar``
    is ``no``; in Liechtenstein that cuts Balzers off (its main road is tagged
    ``motor_vehicle=no`` + ``motorcar=yes``). ``access=no`` is excluded as well as ``private``
    (osmnx only checks ``private``), and so are ``agricultural``/``forestry`` restrictions.
walk
  * ``highway=cycleway`` is included when ``foot`` is ``yes``/``designated``/``permissive``
    (shared paths; osmnx drops all cycleways).
  * ``motorroad=yes`` (expressways closed to pedestrians) is excluded.
  * ``access=no``/``private`` is excluded unless ``foot`` grants access (osmnx only checks
    ``foot=no`` and ``access=private``).
both
  * ``area=yes`` ways are excluded (their outline is not a path along the way), as in osmnx.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType

MODES = ("drive", "walk")

# Highway values that never carry traffic of the mode (osmnx's exclusion lists, see above).
_NOT_ROADS = {
    "abandoned", "bus_guideway", "construction", "no", "planned", "platform", "proposed",
    "raceway", "razed", "rest_area", "services", "disused", "bus_stop", "escape",
}
_DRIVE_EXCLUDED = _NOT_ROADS | {
    "bridleway", "corridor", "cycleway", "elevator", "escalator", "footway", "path",
    "pedestrian", "steps", "track", "busway", "via_ferrata", "emergency_bay",
}
_WALK_EXCLUDED = _NOT_ROADS | {"motorway", "motorway_link", "busway"}
_DRIVE_EXCLUDED_SERVICE = {"parking_aisle", "parking", "driveway", "private", "drive-through"}
_GRANT = {"yes", "designated", "permissive", "destination", "official", "customers", "delivery"}
# Access values that shut out the general public (emergency services aside, which OSM rarely
# tags): "agricultural"/"forestry" mean only such vehicles may pass.
_DENIED = {"no", "private", "agricultural", "forestry", "agricultural;forestry"}

# Default speeds (km/h) per highway class for driving when a way has no usable maxspeed.
# These are planning defaults for emergency vehicles in mixed traffic, below the legal limits of
# most countries; override them per deployment (NetworkSettings.drive_speeds_kph).
DEFAULT_DRIVE_SPEEDS_KPH: Mapping[str, float] = MappingProxyType({
    "motorway": 100.0, "motorway_link": 60.0,
    "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 40.0,
    "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 40.0, "tertiary_link": 30.0,
    "unclassified": 30.0, "residential": 30.0, "road": 30.0,
    "living_street": 10.0, "service": 20.0,
    "*": 30.0,  # any other class
})
DEFAULT_WALK_SPEED_KPH = 5.0

# Implicit maxspeed values ("CH:urban", ...), km/h. Source: OpenStreetMap wiki,
# "Default speed limits" (https://wiki.openstreetmap.org/wiki/Default_speed_limits), which
# tabulates each country's statutory limits. "none" (no limit, German Autobahn) and unknown
# zones fall back to the highway-class default.
IMPLICIT_MAXSPEED_KPH: Mapping[str, float] = MappingProxyType({
    "AT:urban": 50, "AT:rural": 100, "AT:trunk": 100, "AT:motorway": 130,
    "CH:urban": 50, "CH:rural": 80, "CH:trunk": 100, "CH:motorway": 120,
    "LI:urban": 50, "LI:rural": 80,
    "DE:urban": 50, "DE:rural": 100, "DE:living_street": 7, "DE:bicycle_road": 30,
    "FR:urban": 50, "FR:rural": 80, "FR:motorway": 130,
    "IT:urban": 50, "IT:rural": 90, "IT:trunk": 110, "IT:motorway": 130,
    "RU:urban": 60, "RU:rural": 90, "RU:motorway": 110,
    "GB:nsl_single": 96.56, "GB:nsl_dual": 112.65, "GB:motorway": 112.65,  # 60 / 70 / 70 mph
})
_ZONE = re.compile(r"^(?:[A-Z]{2}:)?zone:?(\d+)$")
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$")
_UNIT_TO_KPH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344,
                "knots": 1.852}


def is_usable(tags: Mapping[str, str], mode: str) -> bool:
    """Whether a way with these tags belongs to the ``mode`` network."""
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes":
        return False
    if mode == "drive":
        return _drivable(highway, tags)
    return _walkable(highway, tags)


def _drivable(highway: str, tags: Mapping[str, str]) -> bool:
    if highway in _DRIVE_EXCLUDED or tags.get("service") in _DRIVE_EXCLUDED_SERVICE:
        return False
    return _allowed(tags, ("motorcar", "motor_vehicle", "vehicle", "access"))


def _walkable(highway: str, tags: Mapping[str, str]) -> bool:
    if highway in _WALK_EXCLUDED or tags.get("motorroad") == "yes":
        return False
    if tags.get("service") == "private":
        return False
    if highway == "cycleway" and tags.get("foot") not in _GRANT:
        return False
    return _allowed(tags, ("foot", "access"))


def _allowed(tags: Mapping[str, str], keys: tuple[str, ...]) -> bool:
    """OSM access hierarchy: the most specific access tag present decides."""
    for key in keys:
        value = tags.get(key)
        if value is not None:
            return value not in _DENIED
    return True


def directions(tags: Mapping[str, str], mode: str) -> tuple[bool, bool]:
    """``(forward, backward)``: may the way be travelled along / against its node order."""
    if mode == "walk":
        return True, True
    oneway = tags.get("oneway", "").strip().lower()
    if oneway in ("-1", "reverse"):
        return False, True
    if oneway in ("yes", "true", "1"):
        return True, False
    if oneway in ("no", "false", "0", "reversible", "alternating"):
        return True, True
    implied = (
        tags.get("junction") in ("roundabout", "circular")
        or tags.get("highway") in ("motorway", "motorway_link")
    )
    return (True, not implied)


def parse_maxspeed(value: object) -> float | None:
    """A maxspeed tag value in km/h, or None when it gives no usable number.

    Accepts numbers, ``"50 mph"``, ``"30 knots"``, ``"CH:urban"``-style implicit values,
    ``"DE:zone30"``, ``"60;50"`` and lists such as ``['60', '50']`` (osmnx GraphML after
    simplification); several values give their mean, as osmnx does.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) and value > 0 else None
    if isinstance(value, (list, tuple)):
        parts = [parse_maxspeed(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):  # a list read back from GraphML
            text = text[1:-1].replace("'", "").replace('"', "").replace(",", ";")
        parts = [_parse_single(p) for p in text.split(";")] if ";" in text else [
            _parse_single(text)]
    numbers = [p for p in parts if p is not None]
    return sum(numbers) / len(numbers) if numbers else None


def _parse_single(text: str) -> float | None:
    text = text.strip()
    if text in IMPLICIT_MAXSPEED_KPH:
        return float(IMPLICIT_MAXSPEED_KPH[text])
    zone = _ZONE.match(text)
    if zone:
        return float(zone.group(1))
    number = _NUMBER.match(text.lower())
    if number:
        speed = float(number.group(1)) * _UNIT_TO_KPH[number.group(2)]
        return speed if speed > 0 else None
    return None


def drive_speed_kph(tags: Mapping[str, str], defaults: Mapping[str, float]) -> float:
    """Driving speed: the way's maxspeed when usable, else the highway-class default."""
    speed = parse_maxspeed(tags.get("maxspeed"))
    if speed is not None:
        return speed
    highway = tags.get("highway", "")
    return float(defaults.get(highway, defaults.get("*", DEFAULT_DRIVE_SPEEDS_KPH["*"])))
