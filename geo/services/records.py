"""The registry's records for the web and scripts: pages of a layer as features, one record
with its tag (an ETag), and the writes planners and dispatchers make, each one transaction with
its audit entry (the registry's own guarantee).

Decisions held here: which layers are features (every layer with a geometry), which properties
may filter a page (the fields with a fixed vocabulary or a plain number), and that filter
values may be written as the CLI takes them (any case, English or Chinese).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.core import labels, names
from geo.core.names import resolve_names
from geo.errors import ValidationError
from geo.io.layer_files import EXTENSIONS, export_layer
from geo.registry.imports import import_file
from geo.registry.records import record_tag
from geo.registry.schema import LAYERS, LayerSpec, choice_names, layer_spec
from geo.services.context import Context

FEATURE_LAYERS = tuple(name for name, spec in LAYERS.items() if spec.has_geometry)
# The time of a record, for filtering by time: when an incident was reported, when any other
# record last changed.
TIME_FIELDS = {"incidents": "reported_at"}
# Fields a page of a layer may be filtered by, with equality.
FILTER_KINDS = ("str", "int", "bool")


@dataclass(frozen=True)
class Page:
    """``frame``: the records of one page; ``matched``: how many records match in all."""

    frame: gpd.GeoDataFrame
    matched: int


def feature_layer(layer: str) -> LayerSpec:
    """The spec of a layer of features (``inventory`` rows have no geometry of their own)."""
    if layer not in FEATURE_LAYERS:
        raise ValidationError(f"layer: {layer!r} is not one of {', '.join(FEATURE_LAYERS)}")
    return LAYERS[layer]


def filter_fields(layer: str) -> tuple[str, ...]:
    """The fields a page of ``layer`` may be filtered by."""
    spec = feature_layer(layer)
    return tuple(f.name for f in spec.fields
                 if f.kind in FILTER_KINDS and (f.choices is not None or f.kind != "str"))


def page(ctx: Context, layer: str, *, bbox: tuple[float, float, float, float] | None = None,
         filters: Mapping[str, str] | None = None,
         during: tuple[datetime | None, datetime | None] | None = None, limit: int = 10,
         offset: int = 0) -> Page:
    """Records of ``layer`` inside ``bbox`` (west, south, east, north; features that intersect
    it) whose time (:data:`TIME_FIELDS`) is within ``during`` (start, end; None for an open
    end) and matching every filter, ``limit`` of them from ``offset``, in id order."""
    feature_layer(layer)
    frame = ctx.layer(layer)
    if bbox is not None and len(frame):
        frame = frame[frame.intersects(shapely.box(*bbox))]
    if during is not None and len(frame):
        frame = frame[_within(frame[TIME_FIELDS.get(layer, "updated_at")], *during)]
    for name, value in (filters or {}).items():
        wanted = _filter_value(layer, name, value)  # first: it refuses names with no column
        frame = frame[frame[name] == wanted]
    frame = frame.sort_index()
    return Page(frame.iloc[offset:offset + limit], len(frame))


def _within(times: pd.Series, start: datetime | None, end: datetime | None) -> pd.Series:
    moments = pd.to_datetime(times, utc=True)  # the registry's times are UTC
    inside = pd.Series(True, index=times.index)
    if start is not None:
        inside &= moments >= pd.Timestamp(start)
    if end is not None:
        inside &= moments <= pd.Timestamp(end)
    return inside


def _filter_value(layer: str, name: str, text: str):
    spec_field = feature_layer(layer).field(name)
    if spec_field is None or name not in filter_fields(layer):
        raise ValidationError(f"{name}: not a property {layer} can be filtered by (one of "
                              f"{', '.join(filter_fields(layer))})")
    if spec_field.kind == "bool":
        lowered = str(text).strip().lower()
        if lowered not in ("true", "false"):
            raise ValidationError(f"{name}: expected true or false, got {text!r}")
        return lowered == "true"
    if spec_field.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValidationError(f"{name}: expected a whole number, got {text!r}") from None
    allowed = choice_names(spec_field, {})
    if allowed is None:
        return str(text)
    key = names.resolve(str(text), allowed)
    if key is None:
        raise ValidationError(f"{name}: {text!r} is not one of {names.shown(allowed)}")
    return key


def record(ctx: Context, layer: str, record_id: str) -> tuple[dict, str]:
    """One record (fields, ``geometry`` as shapely) and its tag."""
    feature_layer(layer)
    found = _registry(ctx).get(layer, record_id)
    return found, record_tag(found)


def create(ctx: Context, layer: str, fields: Mapping, *, actor: str) -> tuple[dict, str]:
    """Add a record (``fields`` with ``geometry``, optionally ``id``); the stored record and
    its tag."""
    feature_layer(layer)
    new_id = _registry(ctx).add(layer, fields, actor=actor)
    return record(ctx, layer, new_id)


def update(ctx: Context, layer: str, record_id: str, fields: Mapping, *, actor: str,
           expected_tag: str | None, replace: bool) -> tuple[dict, str]:
    """Change some fields (or, with ``replace``, all of them) of a record, if its tag is still
    ``expected_tag``."""
    feature_layer(layer)
    changed = _registry(ctx).update(layer, record_id, fields, actor=actor,
                                    expected_tag=expected_tag, replace=replace)
    return changed, record_tag(changed)


def delete(ctx: Context, layer: str, record_id: str, *, actor: str,
           expected_tag: str | None) -> None:
    feature_layer(layer)
    _registry(ctx).delete(layer, record_id, actor=actor, expected_tag=expected_tag)


def stock(ctx: Context, depot_id: str) -> dict[str, float]:
    registry = _registry(ctx)
    registry.get("depots", depot_id)  # an unknown depot is an error, not an empty stock
    return registry.stock(depot_id)


def set_stock(ctx: Context, depot_id: str, item: str, quantity: float, *, unit: str | None,
              actor: str) -> dict[str, float]:
    """Set the stock of ``item`` (a catalogue item or its Chinese or English name)."""
    registry = _registry(ctx)
    item = resolve_names("item", [item], ctx.item_names(), what="catalogue item")[0]
    registry.set_stock(depot_id, item, quantity, unit=unit, actor=actor)
    return registry.stock(depot_id)


def assign_team(ctx: Context, incident_id: str, team_id: str, *, actor: str) -> dict:
    """Assign an available team to an incident: the assignment and the team as it is now. Of
    two dispatchers assigning one team, the second gets a conflict naming its status."""
    registry = _registry(ctx)
    assignment = registry.assign_team(incident_id, team_id, actor=actor)
    return {"assignment": assignment, "incident": incident_id, "team": _team(ctx, team_id)}


def release_team(ctx: Context, team_id: str, *, status: str, actor: str) -> dict:
    """End a team's assignments; its status becomes ``status`` (any case, English or
    Chinese)."""
    _registry(ctx).release_team(team_id, status=_statuses("status", [status])[0], actor=actor)
    return _team(ctx, team_id)


def set_team_status(ctx: Context, team_id: str, status: str, *, expected: list[str],
                    actor: str) -> dict:
    """``status`` if the team is still in one of ``expected``, else a conflict naming its
    status now; statuses in any case, English or Chinese."""
    _registry(ctx).set_team_status(team_id, _statuses("status", [status])[0],
                                   expected=_statuses("expected", expected), actor=actor)
    return _team(ctx, team_id)


def _statuses(field: str, typed: list[str]) -> list[str]:
    return resolve_names(field, typed, labels.names("team_statuses"), what="team status")


def move_team(ctx: Context, team_id: str, lon: float, lat: float, *, actor: str) -> dict:
    _registry(ctx).move_team(team_id, lon, lat, actor=actor)
    return _team(ctx, team_id)


def _team(ctx: Context, team_id: str) -> dict:
    found = _registry(ctx).get("teams", team_id)
    return {"id": team_id, "name": found["name"], "type": found["type"],
            "status": found["status"], "lon": found["geometry"].x, "lat": found["geometry"].y}


def import_layer(ctx: Context, layer: str, path: Path, *, crs: str | None,
                 encoding: str | None, actor: str) -> list[str]:
    """Import a file into ``layer``: every row or none (the CLI's import)."""
    layer_spec(layer)
    return import_file(_registry(ctx), path, layer=layer, crs=crs, encoding=encoding,
                       actor=actor, progress=False)


def export(ctx: Context, layer: str, *, fmt: str, crs: str | None, encoding: str,
           folder: Path | None = None) -> Path:
    """``layer`` written as a file of format ``fmt`` (the CLI's export) in a new temporary
    folder (or ``folder``); the caller removes it."""
    layer_spec(layer)
    out_folder = folder or Path(tempfile.mkdtemp(prefix="geo-export-"))
    path = out_folder / f"{layer}{EXTENSIONS.get(fmt, '')}"
    export_layer(ctx.layer(layer), path, fmt=fmt, layer=layer, encoding=encoding, crs=crs,
                 field="format")
    return path


def _registry(ctx: Context):
    if ctx.registry is None:
        raise ValidationError("registry: this context was opened without a registry")
    return ctx.registry


def extent(ctx: Context) -> tuple[float, float, float, float]:
    """The region to open a map on (west, south, east, north): the road network's extract when
    a network is loaded, else the registry's records, else the whole world."""
    for mode in ctx.loaded_modes():
        return tuple(float(v) for v in ctx.network(mode).bounds_lonlat)  # type: ignore
    box = _registry(ctx).extent()
    return tuple(float(v) for v in box) if box else (-180.0, -85.0, 180.0, 85.0)  # type: ignore


def revisions(ctx: Context) -> dict[str, int]:
    """Every layer's write count (and the supply ``catalogue``'s), in one read: a client that
    polls this refetches only the layers whose count moved (how open maps stay current)."""
    return _registry(ctx).revisions()


def layer_schemas(ctx: Context) -> dict:
    """What a form for each layer needs: every field with its kind, whether required, default,
    bounds and allowed values (fixed ones from the vocabulary, shelter classes from the
    standards table, items from the catalogue), the geometry types, and the names of the
    shelter classes and supply items (data, in English and Chinese)."""
    registry = _registry(ctx)
    classes = registry.standards.classes
    catalogue = ctx.catalogue()
    choices_from = {"shelter_classes": list(classes), "items": list(catalogue.index)}
    layers = {}
    for name, spec in LAYERS.items():
        fields = [{"name": f.name, "kind": f.kind, "required": f.required,
                   "default": list(f.default) if isinstance(f.default, tuple) else f.default,
                   "choices": list(f.choices) if f.choices is not None
                   else choices_from.get(f.choices_from or ""),
                   "minimum": f.minimum, "maximum": f.maximum} for f in spec.fields]
        layers[name] = {"fields": fields, "geometry_types": list(spec.geometry_types)
                        if spec.has_geometry else []}
    return {"layers": layers,
            "shelter_classes": {key: {"en": c.name_en, "zh": c.name_zh,
                                      "per_capita_area_m2": c.per_capita_area_m2}
                                for key, c in classes.items()},
            "items": {str(key): {"en": row.name_en, "zh": row.name_zh, "unit": row.unit}
                      for key, row in catalogue.iterrows()}}
