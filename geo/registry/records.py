"""Records of the feature layers: checks, and create, read, update, delete.

Every write is one transaction with its audit entry and a revision bump. A batch is checked
whole before anything is written: every bad row is reported at once, and none is imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from uuid import uuid4

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from geo.core import labels, names
from geo.core.jsonable import jsonable
from geo.core.standards import ShelterStandards
from geo.core.validate import is_finite_number
from geo.errors import (
    ConflictError,
    NotFoundError,
    PreconditionError,
    RecordsRejectedError,
    RowProblem,
    ValidationError,
)
from geo.registry import database as db
from geo.registry.inventory import InventoryMixin
from geo.registry.schema import (
    MAX_PEOPLE,
    LayerSpec,
    Problem,
    Region,
    check_geometry,
    check_record,
    describe,
    layer_spec,
)
from geo.registry.spatial import SpatialMixin
from geo.registry.spatial_index import Bounds
from geo.registry.staging import STAGE_ABOVE_ROWS, copy_in, staged
from geo.registry.store import CHUNK, TABLES

log = logging.getLogger(__name__)

BOUNDS_COLUMNS = ("min_lon", "min_lat", "max_lon", "max_lat")
AUDIT_EACH_UP_TO = 100  # larger batches get one audit entry listing the ids


class RecordsMixin(SpatialMixin, InventoryMixin):
    def add(self, layer: str, record: Mapping, *, actor: str = "system") -> str:
        """Insert one record (fields of the layer, plus ``geometry`` as a shapely geometry or
        GeoJSON mapping in EPSG:4326 and an optional ``id``); returns its id."""
        try:
            return self.add_many(layer, [record], actor=actor, audit_each=True)[0]
        except RecordsRejectedError as exc:
            fields = "; ".join(f"{p.field}: {p.problem}" for p in exc.problems)
            if all(p.problem.endswith(f"already exists in {layer}") for p in exc.problems):
                raise ConflictError(fields, current="exists") from None
            raise ValidationError(f"{fields} ({layer})", problems=tuple(
                (p.field, p.problem) for p in exc.problems)) from None

    def add_many(self, layer: str, records: Sequence[Mapping], *, actor: str = "system",
                 labels: Sequence[object] | None = None,
                 known_problems: Sequence[RowProblem] = (), audit_each: bool | None = None,
                 progress=None, replace: bool = False) -> list[str]:
        """Insert many records in one transaction, or none: every bad row is reported at once in
        :class:`RecordsRejectedError` (with ``labels`` as the row numbers, default 1, 2, ...).

        ``known_problems`` are problems the caller found while reading (unparseable cells);
        ``progress`` wraps the row iteration (e.g. a tqdm factory) for long imports. Large
        batches get one audit entry listing the ids unless ``audit_each``. ``replace`` deletes
        the layer's records in the same transaction. Large batches are staged first and hold
        the write lock only to switch in (:mod:`geo.registry.staging`)."""
        labels = list(labels) if labels is not None else list(range(1, len(records) + 1))
        if layer == "inventory":
            return self._add_inventory(records, actor=actor, labels=labels,
                                       known_problems=known_problems)
        spec = layer_spec(layer)
        iterator = progress(records, total=len(records)) if progress else records
        rows, ids, seen, problems = self._checked_rows(spec, iterator, labels, known_problems)
        table = TABLES[layer]
        if not replace:
            problems += self._taken_ids(table, layer, ids, seen)
        if problems:
            raise RecordsRejectedError(layer, sorted(problems, key=_problem_order),
                                       total=len(records))
        try:
            revision = self._write_rows(layer, table, rows, actor=actor, replace=replace,
                                        each=audit_each if audit_each is not None
                                        else len(rows) <= AUDIT_EACH_UP_TO)
        except IntegrityError:  # another writer took one of the ids since they were checked
            taken = [] if replace else self._taken_ids(table, layer, ids, seen)
            if not taken:
                raise
            raise RecordsRejectedError(layer, taken, total=len(records)) from None
        if replace:
            self._forget_index(layer)
        else:
            self._after_write(layer, revision,
                              inserted=[(r["id"], _bounds_of(r)) for r in rows])
        return ids

    def _write_rows(self, layer: str, table: Table, rows: list[dict], *, actor: str,
                    replace: bool, each: bool) -> int:
        """The one write transaction of :meth:`add_many` (after staging the rows, if many);
        returns the layer's new revision."""
        stage = len(rows) > STAGE_ABOVE_ROWS and not self._in_transaction()
        source = staged(self.engine, table, rows) if stage else _unstaged(self._write())
        with db.busy_as_error(self.url), source as (conn, staging):
            if replace:
                removed = conn.execute(delete(table)).rowcount
                self._audit(conn, actor=actor, action="clear", layer=layer,
                            record_id=f"{removed} records", old={"count": removed}, new=None)
            if staging is not None:
                copy_in(conn, table, staging)
            else:
                for start in range(0, len(rows), CHUNK):
                    conn.execute(insert(table), rows[start:start + CHUNK])
            self._audit_batch(conn, layer, rows, actor=actor, each=each)
            return self._bump_revision(conn, layer)

    def _taken_ids(self, table: Table, layer: str, ids: list[str],
                   seen: Mapping[str, object]) -> list[RowProblem]:
        """A problem for each id the layer already holds (a read: no lock taken)."""
        with self._read() as conn:
            return [RowProblem(seen[i], "id", f"id {i!r} already exists in {layer}")
                    for i in _existing(conn, table, ids)]

    def _checked_rows(self, spec: LayerSpec, records, labels: list,
                      known_problems: Sequence[RowProblem]):
        """The rows to insert (with geometry columns), every id, the first row of each id, and
        every problem (the caller's ``known_problems`` included)."""
        choices, region = self._choices(), self.region
        problems = list(known_problems)
        unreadable = {p.row for p in known_problems}
        rows: list[dict] = []
        geometries: list[BaseGeometry | None] = []
        ids: list[str] = []
        seen: dict[str, object] = {}
        now = db.utc_now()
        for label, record in zip(labels, records, strict=False):
            clean, geometry, found = _check(spec, record, standards=self.standards,
                                            choices=choices, region=region)
            record_id = _record_id(record.get("id"), spec, found)
            if record_id in seen:
                found.append(("id", f"duplicate id {record_id!r} (also row {seen[record_id]})"))
            seen.setdefault(record_id, label)
            problems += [RowProblem(label, name, text) for name, text in found]
            if not found and label not in unreadable:
                rows.append(_row_values(spec.name, record_id, clean, now))
                geometries.append(geometry)
            ids.append(record_id)
        _add_geometry_columns(spec.name, rows, geometries)
        return rows, ids, seen, problems

    def _audit_batch(self, conn: Connection, layer: str, rows: list[dict], *, actor: str,
                     each: bool) -> None:
        if each:
            for row in rows:
                self._audit(conn, actor=actor, action="insert", layer=layer, record_id=row["id"],
                            old=None, new=_public(row))
        elif rows:
            self._audit(conn, actor=actor, action="import", layer=layer,
                        record_id=f"{len(rows)} records",
                        old=None, new={"count": len(rows), "ids": [r["id"] for r in rows]})

    def get(self, layer: str, record_id: str) -> dict:
        """One record as a dict (fields, ``id``, ``geometry`` as shapely, times)."""
        if layer == "inventory":
            raise ValidationError("layer: read inventory with stock(depot) or layer('inventory')")
        table = TABLES[layer_spec(layer).name]
        with self._read() as conn:
            row = conn.execute(select(table).where(table.c.id == str(record_id))).mappings().first()
        if row is None:
            raise NotFoundError(f"{layer}: no record with id {record_id!r}")
        return _record(dict(row))

    def update(self, layer: str, record_id: str, changes: Mapping, *,
               actor: str = "system", expected_tag: str | None = None,
               replace: bool = False) -> dict:
        """Change some fields (and/or ``geometry``); returns the updated record.

        ``replace`` sets every field: those not given get their defaults (a team keeps its
        status, which only the status changes may alter). ``expected_tag`` (the
        :func:`record_tag` of the copy the edit is based on) makes the edit conditional: if the
        record changed since, :class:`PreconditionError` and nothing is written."""
        spec = layer_spec(layer)
        if "id" in changes and str(changes["id"]) != str(record_id):
            raise ValidationError("id: ids are stable and cannot be changed")
        changes = {k: v for k, v in changes.items() if k != "id"}
        choices, region = self._choices(), self.region
        table = TABLES[layer]
        with self._write() as conn:
            # The rules are checked against the row as it is under the write lock: checked
            # against an earlier read, two concurrent edits (capacity down, occupancy up) could
            # each pass and together break "occupancy <= capacity".
            old = _row(conn, table, layer, record_id, lock=True)
            current = _record(dict(old))
            _check_tag(layer, record_id, current, expected_tag)
            changes = _team_status_kept(layer, changes, current, replace=replace)
            clean, geometry, problems = _check(spec, changes, standards=self.standards,
                                               choices=choices, region=region,
                                               partial=not replace, current=current)
            if problems:
                raise ValidationError(f"{describe(problems)} ({layer} {record_id})",
                                      problems=tuple(problems))
            if replace:
                clean = _replacement(layer, clean, current)
            values = dict(clean, updated_at=db.utc_now())
            if geometry is not None:
                values.update(_geometry_columns(geometry))
            conn.execute(update(table).where(table.c.id == str(record_id)).values(**values))
            self._audit(conn, actor=actor, action="update", layer=layer, record_id=record_id,
                        old=_changed(_public(old), values), new=_public(values))
            revision = self._bump_revision(conn, layer)
        moved = [(str(record_id), _bounds_of(values))] if geometry is not None else []
        self._after_write(layer, revision, inserted=moved)
        return self.get(layer, record_id)

    def delete(self, layer: str, record_id: str, *, actor: str = "system",
               expected_tag: str | None = None) -> None:
        """Delete a record; with ``expected_tag`` only if it has not changed since (see
        :meth:`update`)."""
        table = TABLES[layer_spec(layer).name]
        with self._write() as conn:
            old = _row(conn, table, layer, record_id, lock=expected_tag is not None)
            _check_tag(layer, record_id, _record(dict(old)), expected_tag)
            conn.execute(delete(table).where(table.c.id == str(record_id)))
            self._audit(conn, actor=actor, action="delete", layer=layer, record_id=record_id,
                        old=_public(old), new=None)
            revision = self._bump_revision(conn, layer)
        self._after_write(layer, revision, deleted=[str(record_id)])

    def clear(self, layer: str, *, actor: str = "system") -> int:
        """Delete every record of a layer (one audit entry); returns how many."""
        spec = layer_spec(layer)
        table = db.inventory if layer == "inventory" else TABLES[spec.name]
        with self._write() as conn:
            removed = conn.execute(delete(table)).rowcount
            self._audit(conn, actor=actor, action="clear", layer=layer,
                        record_id=f"{removed} records", old={"count": removed}, new=None)
            revision = self._bump_revision(conn, layer)
        self._forget_index(layer)
        log.debug("cleared %s (%d records, revision %d)", layer, removed, revision)
        return removed


@contextmanager
def _unstaged(write) -> Iterator[tuple[Connection, None]]:
    """A write transaction with nothing staged: the shape of :func:`staged`'s."""
    with write as conn:
        yield conn, None


# ---- checks ---------------------------------------------------------------------------------


def _check(spec: LayerSpec, record: Mapping, *, standards: ShelterStandards, choices: Mapping,
           region: Region | None, partial: bool = False, current: Mapping | None = None,
           ) -> tuple[dict, BaseGeometry | None, list[Problem]]:
    """The record's clean fields, its geometry, and every problem: fields, geometry, and the
    rules that span fields (shelter capacity, incident needs)."""
    clean, problems = check_record(spec, record, choices=choices, partial=partial)
    geometry = record.get("geometry")
    if spec.has_geometry and (not partial or "geometry" in record):
        geometry = _as_geometry(geometry, problems)
        if geometry is not None or not partial:
            problems += check_geometry(geometry, spec, region=region)
    if spec.name == "shelters" and not problems:
        _shelter_capacity(standards, clean, problems, current or {}, partial=partial)
    if spec.name == "incidents" and clean.get("needs") is not None:
        problems += _check_needs(clean["needs"], choices)
    return clean, geometry, problems


def _shelter_capacity(standards: ShelterStandards, clean: dict, problems: list[Problem],
                      current: Mapping, *, partial: bool) -> None:
    """Derive ``capacity_people`` from the effective area and class when not given (also when
    an update changes either), and check the occupancy fits."""
    merged = {**current, **clean}
    derive = clean.get("capacity_people") is None and (
        not partial or "effective_area_m2" in clean or "shelter_class" in clean)
    if derive and merged.get("effective_area_m2") is not None:
        clean["capacity_people"] = standards.capacity_people(merged["effective_area_m2"],
                                                             merged["shelter_class"])
        merged["capacity_people"] = clean["capacity_people"]
        if clean["capacity_people"] > MAX_PEOPLE:
            problems.append(("capacity_people", f"{clean['capacity_people']:.6g} (derived from "
                                                f"effective_area_m2) is above the maximum "
                                                f"{MAX_PEOPLE:,}"))
            return
    elif derive and not partial:
        problems.append(("capacity_people", "required (or give effective_area_m2 to "
                                            "derive it from the shelter class)"))
        return
    occupancy, capacity = merged.get("occupancy") or 0, merged.get("capacity_people")
    if capacity is not None and occupancy > capacity:
        problems.append(("occupancy", f"{occupancy} exceeds capacity_people {capacity}"))


def record_tag(record: Mapping) -> str:
    """A tag that changes whenever anything of the record changes (an HTTP ETag): a hash of
    every stored field, as :meth:`RecordsMixin.get` returns them."""
    text = json.dumps(jsonable(dict(record), geometry="wkt"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _check_tag(layer: str, record_id: str, current: Mapping, expected: str | None) -> None:
    if expected is None:
        return
    tag = record_tag(current)
    if tag != expected:
        raise PreconditionError(f"{layer} {record_id} was changed by someone else since you "
                                "read it; read it again and redo your edit", current=tag)


def _team_status_kept(layer: str, changes: Mapping, current: Mapping, *,
                      replace: bool) -> dict:
    """A team's status changes only through the status changes, which check it first: an edit
    may repeat the current status (a replace of a record as read), never change it."""
    changes = dict(changes)
    if layer != "teams":
        return changes
    given = changes.get("status")
    if given is not None and names.resolve(str(given),
                                           labels.names("team_statuses")) != current["status"]:
        raise ValidationError("status: change a team's status with set_team_status(..., "
                              "expected=...) or assign_team, which check it first")
    if replace:
        changes["status"] = current["status"]
    return changes


def _replacement(layer: str, clean: dict, current: Mapping) -> dict:
    """A replacing record's fields, with what a replace does not reset: when an incident was
    reported (not given: as before), and its needs (not given: none)."""
    if layer == "incidents":
        if clean.get("reported_at") is None:
            clean["reported_at"] = current["reported_at"]
        if clean.get("needs") is None:
            clean["needs"] = {}
    return clean


def _as_geometry(value, problems: list[Problem]) -> BaseGeometry | None:
    if value is None or isinstance(value, BaseGeometry):
        return value
    try:
        if isinstance(value, Mapping):
            # shape() reads any mapping, but its stub takes a dict: copy other mappings.
            return shapely.geometry.shape(value if isinstance(value, dict) else dict(value))
        return shapely.from_wkt(str(value))
    except RecursionError:
        problems.append(("geometry", "not a geometry (nested too deeply)"))
        return None
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError,
            AttributeError) as exc:
        problems.append(("geometry", f"not a geometry ({str(exc).splitlines()[0]})"))
        return None


def _check_needs(needs: dict, choices: Mapping) -> list[Problem]:
    """Problems of an incident's needs. Team types and items may be given by their Chinese or
    English names: ``needs`` (the record's own parsed copy) gets them by key."""
    problems = []
    unknown = set(needs) - {"teams", "supplies"}
    if unknown:
        problems.append(("needs", f"unknown keys {sorted(unknown)}; expected teams, supplies"))
    team_types = labels.names("team_types")
    for key, allowed in (("teams", team_types), ("supplies", choices.get("items", {}))):
        part = needs.get(key) or {}
        if not isinstance(part, Mapping):
            problems.append((f"needs.{key}", "expected a mapping of name to amount"))
            continue
        by_key = {}
        for name, amount in part.items():
            found = names.resolve(str(name), allowed)
            if found is None:
                problems.append((f"needs.{key}", f"{name!r} is not one of "
                                                 f"{names.shown(allowed)}"))
            elif not _amount(amount):
                problems.append((f"needs.{key}.{name}", f"{amount!r} is negative or not a number"))
            else:
                by_key[found] = amount
        if key in needs:
            needs[key] = by_key
    return problems


def _amount(value) -> bool:
    """Whether a needed amount is a finite number ≥ 0."""
    return is_finite_number(value) and value >= 0


def _record_id(value, spec: LayerSpec, problems: list[Problem]) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return f"{spec.id_prefix}-{uuid4().hex[:12]}"
    text = str(value).strip()
    if len(text) > 64:
        problems.append(("id", f"longer than 64 characters: {text[:20]!r}..."))
    return text


def _problem_order(problem: RowProblem):
    return (str(type(problem.row)), problem.row, problem.field)


# ---- rows as stored and as shown --------------------------------------------------------------


def _row_values(layer: str, record_id: str, clean: dict, now: datetime) -> dict:
    row = {"id": record_id, **clean, "created_at": now, "updated_at": now}
    if layer == "incidents" and row.get("reported_at") is None:
        row["reported_at"] = now
    if layer == "incidents" and row.get("needs") is None:
        row["needs"] = {}
    return row


def _geometry_columns(geometry: BaseGeometry) -> dict:
    return {"geometry_wkb": shapely.to_wkb(geometry, hex=True),
            **dict(zip(BOUNDS_COLUMNS, geometry.bounds, strict=True))}


def _add_geometry_columns(layer: str, rows: list[dict],
                          geometries: Sequence[BaseGeometry | None]) -> None:
    """Hex WKB and bounds of many geometries at once (vectorised)."""
    if not rows:
        return
    array = np.array(geometries, dtype=object)
    wkb = shapely.to_wkb(array, hex=True)
    bounds = shapely.bounds(array)
    for row, hex_wkb, box in zip(rows, wkb, bounds.tolist(), strict=True):
        row.update(geometry_wkb=hex_wkb, **dict(zip(BOUNDS_COLUMNS, box, strict=True)))
        if layer == "teams":
            row["home_wkb"] = hex_wkb  # a new team starts at its home base


def _bounds_of(row: Mapping) -> Bounds:
    return (row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"])


def _row(conn: Connection, table: Table, layer: str, record_id: str, *,
         lock: bool = False) -> dict:
    """The stored row; ``lock`` holds it until the transaction ends (``SELECT ... FOR UPDATE``
    on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the whole database)."""
    query = select(table).where(table.c.id == str(record_id))
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise NotFoundError(f"{layer}: no record with id {record_id!r}")
    return dict(row)


def _record(row: dict) -> dict:
    row["geometry"] = shapely.from_wkb(row.pop("geometry_wkb"))
    for key in BOUNDS_COLUMNS:
        row.pop(key, None)
    if "home_wkb" in row:
        home = row.pop("home_wkb")
        row["home"] = shapely.from_wkb(home) if home else None
    return row


def _public(row: Mapping) -> dict:
    """A row as the audit log shows it: geometry (as WKT there), no derived columns."""
    hidden = {*BOUNDS_COLUMNS, "geometry_wkb", "home_wkb"}
    out = {k: v for k, v in row.items() if k not in hidden}
    if row.get("geometry_wkb"):
        out["geometry"] = shapely.from_wkb(row["geometry_wkb"])
    return out


def _changed(old: Mapping, new: Mapping) -> dict:
    keys = set(new) | ({"geometry"} if "geometry_wkb" in new else set())
    return {k: v for k, v in old.items() if k in keys}


def _existing(conn: Connection, table: Table, ids: list[str]) -> list[str]:
    found: list[str] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        found += conn.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars().all()
    return found
