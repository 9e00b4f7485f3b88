"""The registry's layers as data: fields, allowed values, and the one place records are checked.

Both the :class:`~geo.registry.Registry` (records typed in or sent by the web API) and
:mod:`geo.layer_io` (rows of imported files) validate through :func:`check_record` and
:func:`check_geometry`, which *collect* every problem as ``(field, problem)`` pairs rather than
stopping at the first.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import shapely
from shapely.geometry.base import BaseGeometry

from geo.core import labels, names
from geo.core.vocabulary import (
    HAZARD_TYPES,
    INCIDENT_OPEN,
    INCIDENT_STATUSES,
    INCIDENT_TYPES,
    SHELTER_OPEN,
    SHELTER_STATUSES,
    TEAM_AVAILABLE,
    TEAM_STATUSES,
    TEAM_TYPES,
)
from geo.errors import ValidationError

POINT, POLYGONAL = ("Point",), ("Point", "Polygon", "MultiPolygon")
# Columns a layer export adds that an import of that file ignores.
DERIVED_COLUMNS = frozenset({"created_at", "updated_at", "home_lon", "home_lat", "assigned_teams",
                             "depot_name"})

# Upper bounds of the numeric fields: far above any real value, so they only catch typos and
# garbage (1e300 people would also overflow the database's integers).
MAX_PEOPLE = 10_000_000  # in one shelter
MAX_PEOPLE_AT_A_POINT = 1e9  # a demand point may stand for a census area
MAX_AREA_M2 = 1e8  # 100 km²
MAX_HEADCOUNT = 10_000
MAX_TURNOUT_S = 86_400.0  # a day
MAX_RADIUS_M = 1_000_000.0  # 1000 km
MAX_QUANTITY = 1e12

# The default supply catalogue: item -> (English, Chinese, unit). Extendable per registry.
DEFAULT_CATALOGUE = {
    "water": ("drinking water", "饮用水", "L"),
    "food": ("food ration", "食品", "ration"),
    "tents": ("tent", "帐篷", "piece"),
    "blankets": ("blanket", "棉被", "piece"),
    "medical_kits": ("medical kit", "医疗包", "kit"),
    "generators": ("generator", "发电机", "piece"),
    "sandbags": ("sandbag", "沙袋", "piece"),
    "life_jackets": ("life jacket", "救生衣", "piece"),
    "pumps": ("water pump", "抽水泵", "piece"),
    "folding_beds": ("folding bed", "折叠床", "piece"),
}


@dataclass(frozen=True)
class Field:
    """One attribute of a layer. ``kind``: str, int, float, bool, list, dict or datetime.
    ``choices_from`` names a set given at check time (e.g. the shelter classes of the standards
    table, or the item catalogue) instead of fixed ``choices``; ``labels`` names the vocabulary
    of :mod:`geo.core.labels` whose English and Chinese names fixed choices may be given by."""

    name: str
    kind: str = "str"
    required: bool = False
    default: object = None
    choices: tuple[str, ...] | None = None
    choices_from: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    labels: str | None = None


@dataclass(frozen=True)
class LayerSpec:
    name: str
    id_prefix: str
    fields: tuple[Field, ...]
    geometry_types: tuple[str, ...] = POINT
    has_geometry: bool = True

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


_COMMON = (Field("name", default=""), Field("notes", default=""), Field("source", default=""))

LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in (
    LayerSpec("shelters", "S", _COMMON + (
        Field("shelter_class", required=True, choices_from="shelter_classes"),
        Field("effective_area_m2", "float", minimum=0, maximum=MAX_AREA_M2),
        Field("capacity_people", "int", minimum=0, maximum=MAX_PEOPLE),  # derived when missing
        Field("occupancy", "int", default=0, minimum=0, maximum=MAX_PEOPLE),
        Field("status", default=SHELTER_OPEN, choices=SHELTER_STATUSES,
              labels="shelter_statuses"),
        Field("facilities", "list", default=()),
        Field("contact", default=""),
    ), geometry_types=POLYGONAL),
    LayerSpec("depots", "D", _COMMON + (Field("contact", default=""),), geometry_types=POLYGONAL),
    LayerSpec("inventory", "", (
        Field("depot", required=True),
        Field("item", required=True, choices_from="items"),
        Field("quantity", "float", required=True, minimum=0, maximum=MAX_QUANTITY),
        Field("unit", default=""),
    ), has_geometry=False),
    LayerSpec("teams", "T", _COMMON + (
        Field("type", required=True, choices=TEAM_TYPES, labels="team_types"),
        Field("headcount", "int", required=True, minimum=0, maximum=MAX_HEADCOUNT),
        Field("equipment", "list", default=()),
        Field("home_base", default=""),
        Field("status", default=TEAM_AVAILABLE, choices=TEAM_STATUSES, labels="team_statuses"),
        Field("turnout_s", "float", default=0.0, minimum=0, maximum=MAX_TURNOUT_S),
    )),
    LayerSpec("hazards", "H", _COMMON + (
        Field("type", required=True, choices=HAZARD_TYPES, labels="hazard_types"),
        Field("risk_level", "int", default=2, minimum=1, maximum=4),
        Field("radius_m", "float", minimum=0, maximum=MAX_RADIUS_M),
        Field("active", "bool", default=True),
    ), geometry_types=POLYGONAL + ("LineString", "MultiLineString")),
    LayerSpec("incidents", "I", _COMMON + (
        Field("type", required=True, choices=INCIDENT_TYPES, labels="incident_types"),
        Field("severity", "int", default=2, minimum=1, maximum=4),
        Field("reported_at", "datetime"),
        Field("needs", "dict", default=None),
        Field("status", default=INCIDENT_OPEN, choices=INCIDENT_STATUSES,
              labels="incident_statuses"),
    ), geometry_types=POLYGONAL),
    LayerSpec("population", "P", _COMMON + (
        Field("population", "float", required=True, minimum=0, maximum=MAX_PEOPLE_AT_A_POINT),
        Field("floor_area_m2", "float", minimum=0, maximum=MAX_AREA_M2),
    )),
)}


def layer_spec(name: str) -> LayerSpec:
    if name not in LAYERS:
        raise ValidationError(f"layer: {name!r} is not one of {', '.join(LAYERS)}")
    return LAYERS[name]


Problem = tuple[str, str]  # (field, problem)


def check_record(spec: LayerSpec, record: Mapping, *,
                 choices: Mapping[str, Collection[str]] | None = None,
                 partial: bool = False) -> tuple[dict, list[Problem]]:
    """The record's fields converted to their kinds, and every problem found.

    ``partial=True`` (an update) checks only the fields given and fills no defaults.
    Unknown fields are reported, not dropped silently.
    """
    choices = choices or {}
    clean, problems = {}, []
    known = set(spec.field_names) | {"id", "geometry"} | DERIVED_COLUMNS
    problems += [(name, "unknown field") for name in record if name not in known]
    for spec_field in spec.fields:
        raw = record.get(spec_field.name)
        if _missing(raw):
            if partial and spec_field.name not in record:
                continue
            if spec_field.required:
                problems.append((spec_field.name, "required field is missing"))
            else:
                clean[spec_field.name] = _fresh(spec_field.default)
            continue
        value, problem = _convert(spec_field, raw, choices)
        if problem:
            problems.append((spec_field.name, problem))
        else:
            clean[spec_field.name] = value
    return clean, problems


def _fresh(default):
    if isinstance(default, tuple):
        return list(default)
    return default


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _convert(spec_field: Field, raw,
             choices: Mapping[str, Collection[str]]) -> tuple[object, str | None]:
    try:
        value = _PARSERS[spec_field.kind](raw)
    except OverflowError:
        return None, f"{_shown(raw)} is too large a number"
    except (TypeError, ValueError, RecursionError):
        return None, f"{_shown(raw)} is not a valid {spec_field.kind}"
    if spec_field.kind in ("int", "float"):
        if not math.isfinite(value):
            return None, f"{_shown(raw)} is not a finite number"
        if spec_field.minimum is not None and value < spec_field.minimum:
            what = "negative" if spec_field.minimum == 0 else f"below {spec_field.minimum:g}"
            return None, f"{value:g} is {what} (must be ≥ {spec_field.minimum:g})"
        if spec_field.maximum is not None and value > spec_field.maximum:
            return None, f"{value:.6g} is above the maximum {spec_field.maximum:,.15g}"
    allowed = choice_names(spec_field, choices)
    if allowed is not None:
        key = names.resolve(value, allowed)
        if key is None:
            return None, f"{value!r} is not one of {names.shown(allowed)}"
        value = key  # the key a name, another case or spaces stood for
    return value, None


def choice_names(spec_field: Field, choices: Mapping[str, Collection[str]],
                 ) -> names.Names | Collection[str] | None:
    """The values ``spec_field`` allows, with the other names of each where known: fixed
    choices with their labels, or the set ``choices`` holds for ``choices_from`` (a mapping of
    key to names, as the registry gives shelter classes and items)."""
    if spec_field.choices is not None:
        return _fixed_choice_names(spec_field)
    return choices.get(spec_field.choices_from or "")


@functools.cache
def _fixed_choice_names(spec_field: Field) -> names.Names | tuple[str, ...]:
    if spec_field.choices is None or spec_field.labels is None:
        return spec_field.choices or ()
    known = labels.names(spec_field.labels)
    return {key: known.get(key, ()) for key in spec_field.choices}


def _shown(raw, *, limit: int = 60) -> str:
    """A raw value for a message: its repr, cut short (a cell may hold anything)."""
    try:
        text = repr(raw)
    except RecursionError:
        return f"a {type(raw).__name__} nested too deeply"
    return text if len(text) <= limit else f"{text[:limit]}..."


def _as_int(raw) -> int:
    if isinstance(raw, bool):
        raise TypeError("bool is not an int")
    number = float(raw)
    if not math.isfinite(number) or number != int(number):
        raise ValueError(f"{raw!r} is not a whole number")
    return int(number)


def _as_bool(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "y", "t", "是"):
        return True
    if text in ("0", "false", "no", "n", "f", "否"):
        return False
    raise ValueError(raw)


def _as_list(raw) -> list:
    if isinstance(raw, list | tuple):
        return [str(v) for v in raw]
    text = str(raw).strip()
    if text.startswith("["):
        return [str(v) for v in json.loads(text)]
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _as_dict(raw) -> dict:
    value = raw if isinstance(raw, Mapping) else json.loads(str(raw))
    if not isinstance(value, Mapping):
        raise ValueError("not an object")
    return dict(value)


def _as_datetime(raw) -> datetime:
    return raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))


_PARSERS: dict[str, Callable] = {
    "str": lambda raw: str(raw).strip(), "int": _as_int, "float": float, "bool": _as_bool,
    "list": _as_list, "dict": _as_dict, "datetime": _as_datetime}


@dataclass(frozen=True)
class Region:
    """The lon/lat box a registry covers; points outside it are refused (and swapped lat/lon
    detected). ``margin_deg`` widens the box a little for features just over the border."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    margin_deg: float = field(default=0.05)

    def contains(self, lon: float, lat: float) -> bool:
        m = self.margin_deg
        return (self.min_lon - m <= lon <= self.max_lon + m
                and self.min_lat - m <= lat <= self.max_lat + m)

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]


def check_geometry(geometry: BaseGeometry | None, spec: LayerSpec, *,
                   region: Region | None = None) -> list[Problem]:
    """Problems with a geometry in EPSG:4326: missing, empty, wrong type, non-finite or out of
    range coordinates, invalid (e.g. self-intersecting), outside the region (and whether the
    latitude and longitude look swapped)."""
    if geometry is None:
        return [("geometry", "required field is missing")]
    if geometry.is_empty:
        return [("geometry", "empty geometry")]
    if geometry.geom_type not in spec.geometry_types:
        return [("geometry", f"{geometry.geom_type} is not one of "
                             f"{', '.join(spec.geometry_types)}")]
    coords = shapely.get_coordinates(geometry)
    if not (coords == coords).all() or not abs(coords).max() < math.inf:  # NaN or inf
        return [("geometry", "coordinates are not finite numbers (NaN or infinite)")]
    lon, lat = coords[:, 0], coords[:, 1]
    if (abs(lon) > 180).any() or (abs(lat) > 90).any():
        hint = "; latitude and longitude may be swapped" if (abs(lat) <= 180).all() and (
            abs(lon) <= 90).all() else ""
        return [("geometry", f"coordinates out of range (lon {lon.min():g}..{lon.max():g}, "
                             f"lat {lat.min():g}..{lat.max():g}){hint}")]
    if not geometry.is_valid:
        return [("geometry", f"invalid geometry: {shapely.is_valid_reason(geometry)}")]
    if region is not None:
        point = geometry.representative_point()
        if not region.contains(point.x, point.y):
            swapped = region.contains(point.y, point.x)
            hint = ("latitude and longitude look swapped" if swapped
                    else f"region is lon {region.min_lon:g}..{region.max_lon:g}, "
                         f"lat {region.min_lat:g}..{region.max_lat:g}")
            return [("geometry", f"point ({point.y:.5f}, {point.x:.5f}) lat,lon is outside the "
                                 f"registry's region ({hint})")]
    return []


def describe(problems: list[Problem], *, limit: int = 5) -> str:
    """``field: problem; field: problem`` (at most ``limit``, then a count)."""
    parts = [f"{name}: {problem}" for name, problem in problems[:limit]]
    if len(problems) > limit:
        parts.append(f"and {len(problems) - limit} more")
    return "; ".join(parts)
