"""The resource registry: shelters, depots and their inventory, teams, hazards, incidents and
population, kept in a real database (:mod:`geo.db`) with an audit log of every change.

Every write is one transaction: a record, a batch import, a team assignment with its audit
entry. Team status changes are conditional (``UPDATE ... WHERE status = expected``): of two
dispatchers assigning one team, one wins and the other gets a :class:`ConflictError` carrying
the team's current status. Layers come out as GeoDataFrames in EPSG:4326, indexed by id; an rtree
index per layer answers "what is near here" and is updated in place as records are added,
moved or deleted (never rebuilt, unless another process changed the layer meanwhile).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from uuid import uuid4

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, delete, func, insert, select, update

from geo.core.standards import ShelterStandards, load_standards
from geo.errors import (  # re-exported: callers catch them from here too
    ConflictError,
    NotFoundError,
    RecordsRejectedError,
    RowProblem,
    ValidationError,
)
from geo.registry import database as db
from geo.registry.schema import (
    DEFAULT_CATALOGUE,
    TEAM_TYPES,
    LayerSpec,
    Problem,
    Region,
    check_geometry,
    check_record,
    describe,
    layer_spec,
)
from geo.registry.spatial_index import Bounds, SpatialIndex, degree_box

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
MODELS = {"shelters": db.Shelter, "depots": db.Depot, "teams": db.Team, "hazards": db.Hazard,
          "incidents": db.Incident, "population": db.PopulationPoint}
REGION_KEY = "region_bounds"
_CHUNK = 5000


class Registry:
    """The registry in the database at ``url`` (see :func:`geo.db.resolve_url`)."""

    def __init__(self, url: str | None = None, *, standards: ShelterStandards | None = None,
                 create: bool = True):
        self.url = db.resolve_url(url)
        self.engine = db.open_database(self.url, create=create)
        self.standards = standards or load_standards()
        self._indexes: dict[str, SpatialIndex] = {}
        self._index_lock = threading.Lock()
        self._local = threading.local()  # the open transaction() of each thread
        if create:
            self._seed_catalogue()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes of this thread into one transaction: all of them or none.

        Spatial indexes are not touched inside it and are rebuilt on next use after it."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        try:
            with self.engine.connect().execution_options(write=True) as conn, conn.begin():
                self._local.conn = conn
                yield
        finally:
            self._local.conn = None
            with self._index_lock:
                self._indexes.clear()

    def _write(self):
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite), or the open
        :meth:`transaction`."""
        return self._connect(write=True)

    def _read(self):
        """A connection for reading: the open transaction's (to see its own writes) or a new one."""
        return self._connect(write=False)

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Connection]:
        outer = getattr(self._local, "conn", None)
        if outer is not None:
            yield outer
            return
        with self.engine.connect().execution_options(write=write) as conn, conn.begin():
            yield conn

    def _audit(self, conn: Connection, *, actor: str, action: str, layer: str, record_id: str,
               old: Mapping | None, new: Mapping | None) -> None:
        conn.execute(insert(db.AuditEntry.__table__).values(
            at=db.utc_now(), actor=actor, action=action, layer=layer, record_id=str(record_id),
            old=_jsonable(old), new=_jsonable(new)))

    def _bump_revision(self, conn: Connection, layer: str) -> int:
        """Count writes per layer, so an index built before another process wrote is refreshed."""
        table = db.Meta.__table__
        key = f"revision:{layer}"
        current = conn.execute(select(table.c.value).where(table.c.key == key)).scalar()
        if current is None:
            conn.execute(insert(table).values(key=key, value=1))
            return 1
        conn.execute(update(table).where(table.c.key == key).values(value=int(current) + 1))
        return int(current) + 1

    # ---- settings: region and catalogue -------------------------------------------------------

    @property
    def region(self) -> Region | None:
        table = db.Meta.__table__
        with self._read() as conn:
            value = conn.execute(select(table.c.value).where(table.c.key == REGION_KEY)).scalar()
        return Region(*value) if value else None

    def set_region(self, bounds: Sequence[float], *, actor: str = "system") -> Region:
        """The lon/lat box (west, south, east, north) the registry covers."""
        values = [float(v) for v in bounds]
        ok = (len(values) == 4 and all(np.isfinite(values)) and -180 <= values[0] < values[2] <= 180
              and -90 <= values[1] < values[3] <= 90)
        if not ok:
            raise ValidationError(f"region: expected west,south,east,north in degrees, "
                                  f"got {bounds}")
        table = db.Meta.__table__
        with self._write() as conn:
            old = conn.execute(select(table.c.value).where(table.c.key == REGION_KEY)).scalar()
            conn.execute(delete(table).where(table.c.key == REGION_KEY))
            conn.execute(insert(table).values(key=REGION_KEY, value=values))
            self._audit(conn, actor=actor, action="update", layer="meta", record_id=REGION_KEY,
                        old={"bounds": old}, new={"bounds": values})
        return Region(*values)

    def _seed_catalogue(self) -> None:
        """Put the default items in an empty catalogue (a write only when one is missing)."""
        table = db.CatalogueItem.__table__
        with self._read() as conn:
            present = set(conn.execute(select(table.c.item)).scalars())
        if present:
            return
        rows = [{"item": item, "name_en": en, "name_zh": zh, "unit": unit}
                for item, (en, zh, unit) in DEFAULT_CATALOGUE.items()]
        with self._write() as conn:
            if not conn.execute(select(table.c.item).limit(1)).first():
                conn.execute(insert(table), rows)

    def catalogue(self) -> pd.DataFrame:
        with self._read() as conn:
            frame = pd.read_sql(select(db.CatalogueItem.__table__), conn)
        return frame.set_index("item")

    def add_catalogue_item(self, item: str, *, name_en: str = "", name_zh: str = "",
                           unit: str = "piece", actor: str = "system") -> None:
        key = str(item).strip()
        if not key or not key.replace("_", "").isalnum():
            raise ValidationError(f"item: expected a short key of letters, digits and _, "
                                  f"got {item!r}")
        table = db.CatalogueItem.__table__
        with self._write() as conn:
            if conn.execute(select(table.c.item).where(table.c.item == key)).first():
                raise ValidationError(f"item: {key!r} is already in the catalogue")
            values = {"item": key, "name_en": name_en, "name_zh": name_zh, "unit": unit}
            conn.execute(insert(table).values(**values))
            self._audit(conn, actor=actor, action="insert", layer="catalogue", record_id=key,
                        old=None, new=values)

    def _choices(self) -> dict[str, object]:
        return {"shelter_classes": set(self.standards.classes),
                "items": set(self.catalogue().index)}

    # ---- checking records ---------------------------------------------------------------------

    def _check(self, spec: LayerSpec, record: Mapping, *, choices, region, partial=False,
               current: Mapping | None = None) -> tuple[dict, BaseGeometry | None, list[Problem]]:
        clean, problems = check_record(spec, record, choices=choices, partial=partial)
        geometry = record.get("geometry")
        if spec.has_geometry and (not partial or "geometry" in record):
            geometry = _as_geometry(geometry, problems)
            if geometry is not None or not partial:
                problems += check_geometry(geometry, spec, region=region)
        if spec.name == "shelters" and not problems:
            self._shelter_capacity(clean, problems, current or {}, partial=partial)
        if spec.name == "incidents" and clean.get("needs") is not None:
            problems += _check_needs(clean["needs"], choices)
        return clean, geometry, problems

    def _shelter_capacity(self, clean: dict, problems: list[Problem], current: Mapping, *,
                          partial: bool) -> None:
        merged = {**current, **clean}
        derive = clean.get("capacity_people") is None and (
            not partial or "effective_area_m2" in clean or "shelter_class" in clean)
        if derive and merged.get("effective_area_m2") is not None:
            clean["capacity_people"] = self.standards.capacity_people(
                merged["effective_area_m2"], merged["shelter_class"])
            merged["capacity_people"] = clean["capacity_people"]
        elif derive and not partial:
            problems.append(("capacity_people", "required (or give effective_area_m2 to "
                                                "derive it from the shelter class)"))
            return
        occupancy, capacity = merged.get("occupancy") or 0, merged.get("capacity_people")
        if capacity is not None and occupancy > capacity:
            problems.append(("occupancy", f"{occupancy} exceeds capacity_people {capacity}"))

    # ---- create, read, update, delete ---------------------------------------------------------

    def add(self, layer: str, record: Mapping, *, actor: str = "system") -> str:
        """Insert one record (fields of the layer, plus ``geometry`` as a shapely geometry or
        GeoJSON mapping in EPSG:4326 and an optional ``id``); returns its id."""
        try:
            return self.add_many(layer, [record], actor=actor, audit_each=True)[0]
        except RecordsRejectedError as exc:
            fields = "; ".join(f"{p.field}: {p.problem}" for p in exc.problems)
            raise ValidationError(f"{layer}: {fields}") from None

    def add_many(self, layer: str, records: Sequence[Mapping], *, actor: str = "system",
                 labels: Sequence[object] | None = None,
                 known_problems: Sequence[RowProblem] = (), audit_each: bool | None = None,
                 progress=None) -> list[str]:
        """Insert many records in one transaction, or none: every bad row is reported at once in
        :class:`RecordsRejectedError` (with ``labels`` as the row numbers, default 1, 2, ...).

        ``known_problems`` are problems the caller found while reading (unparseable cells);
        ``progress`` wraps the row iteration (e.g. a tqdm factory) for long imports. Large
        batches get one audit entry listing the ids unless ``audit_each``."""
        if layer == "inventory":
            return self._add_inventory(records, actor=actor, labels=labels,
                                       known_problems=known_problems)
        spec = layer_spec(layer)
        labels = list(labels) if labels is not None else list(range(1, len(records) + 1))
        choices, region = self._choices(), self.region
        table = MODELS[layer].__table__
        problems = list(known_problems)
        unreadable = {p.row for p in known_problems}
        rows, geometries, ids, seen = [], [], [], {}
        iterator = progress(records, total=len(records)) if progress else records
        now = db.utc_now()
        for label, record in zip(labels, iterator, strict=False):
            clean, geometry, found = self._check(spec, record, choices=choices, region=region)
            record_id = _record_id(record.get("id"), spec, found)
            if record_id in seen:
                found.append(("id", f"duplicate id {record_id!r} (also row {seen[record_id]})"))
            seen.setdefault(record_id, label)
            problems += [RowProblem(label, name, text) for name, text in found]
            if not found and label not in unreadable:
                rows.append(_row_values(layer, record_id, clean, now))
                geometries.append(geometry)
            ids.append(record_id)
        _add_geometry_columns(layer, rows, geometries)
        with self._write() as conn:
            problems += [RowProblem(seen[i], "id", f"id {i!r} already exists in {layer}")
                         for i in _existing(conn, table, ids)]
            if problems:
                raise RecordsRejectedError(layer, sorted(problems, key=_problem_order),
                                           total=len(records))
            for start in range(0, len(rows), _CHUNK):
                conn.execute(insert(table), rows[start:start + _CHUNK])
            self._audit_batch(conn, layer, rows, actor=actor,
                              each=audit_each if audit_each is not None else len(rows) <= 100)
            revision = self._bump_revision(conn, layer)
        self._after_write(layer, revision, inserted=[(r["id"], _bounds_of(r)) for r in rows])
        return ids

    def _audit_batch(self, conn, layer, rows, *, actor, each: bool) -> None:
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
        table = MODELS[layer_spec(layer).name].__table__
        with self._read() as conn:
            row = conn.execute(select(table).where(table.c.id == str(record_id))).mappings().first()
        if row is None:
            raise NotFoundError(f"{layer}: no record with id {record_id!r}")
        return _record(dict(row))

    def update(self, layer: str, record_id: str, changes: Mapping, *,
               actor: str = "system") -> dict:
        """Change some fields (and/or ``geometry``); returns the updated record."""
        spec = layer_spec(layer)
        if "id" in changes and str(changes["id"]) != str(record_id):
            raise ValidationError("id: ids are stable and cannot be changed")
        if layer == "teams" and "status" in changes:
            raise ValidationError("status: change a team's status with set_team_status(..., "
                                  "expected=...) or assign_team, which check it first")
        changes = {k: v for k, v in changes.items() if k != "id"}
        current = self.get(layer, record_id)
        clean, geometry, problems = self._check(spec, changes, choices=self._choices(),
                                                region=self.region, partial=True, current=current)
        if problems:
            raise ValidationError(f"{layer} {record_id}: {describe(problems)}")
        values = dict(clean, updated_at=db.utc_now())
        if geometry is not None:
            values.update(_geometry_columns(geometry))
        table = MODELS[layer].__table__
        with self._write() as conn:
            old = conn.execute(select(table).where(table.c.id == str(record_id))).mappings().first()
            if old is None:
                raise NotFoundError(f"{layer}: no record with id {record_id!r}")
            conn.execute(update(table).where(table.c.id == str(record_id)).values(**values))
            self._audit(conn, actor=actor, action="update", layer=layer, record_id=record_id,
                        old=_changed(_public(dict(old)), values), new=_public(values))
            revision = self._bump_revision(conn, layer)
        moved = [(str(record_id), _bounds_of(values))] if geometry is not None else []
        self._after_write(layer, revision, inserted=moved)
        return self.get(layer, record_id)

    def delete(self, layer: str, record_id: str, *, actor: str = "system") -> None:
        spec = layer_spec(layer)
        table = MODELS[spec.name].__table__
        with self._write() as conn:
            old = conn.execute(select(table).where(table.c.id == str(record_id))).mappings().first()
            if old is None:
                raise NotFoundError(f"{layer}: no record with id {record_id!r}")
            conn.execute(delete(table).where(table.c.id == str(record_id)))
            self._audit(conn, actor=actor, action="delete", layer=layer, record_id=record_id,
                        old=_public(dict(old)), new=None)
            revision = self._bump_revision(conn, layer)
        self._after_write(layer, revision, deleted=[str(record_id)])

    def clear(self, layer: str, *, actor: str = "system") -> int:
        """Delete every record of a layer (one audit entry); returns how many."""
        spec = layer_spec(layer)
        table = db.InventoryRow.__table__ if layer == "inventory" else MODELS[spec.name].__table__
        with self._write() as conn:
            removed = conn.execute(delete(table)).rowcount
            self._audit(conn, actor=actor, action="clear", layer=layer,
                        record_id=f"{removed} records", old={"count": removed}, new=None)
            revision = self._bump_revision(conn, layer)
        with self._index_lock:
            self._indexes.pop(layer, None)
        log.debug("cleared %s (%d records, revision %d)", layer, removed, revision)
        return removed

    # ---- teams: moves and conditional status changes ------------------------------------------

    def move_team(self, team_id: str, lon: float, lat: float, *, actor: str = "system") -> None:
        """A team's current position (its home base is kept)."""
        self.update("teams", team_id, {"geometry": shapely.Point(lon, lat)}, actor=actor)

    def set_team_status(self, team_id: str, status: str, *, expected: str | Sequence[str],
                        actor: str = "system") -> None:
        """``status`` if the team is still in ``expected`` (one status or several), else
        :class:`ConflictError` with the team's current status as ``current``."""
        with self._write() as conn:
            self._change_status(conn, team_id, status, expected=expected, actor=actor)
            revision = self._bump_revision(conn, "teams")
        self._after_write("teams", revision)

    def _change_status(self, conn: Connection, team_id: str, status: str, *,
                       expected: str | Sequence[str], actor: str) -> None:
        spec = layer_spec("teams")
        allowed = spec.field("status").choices
        wanted = [expected] if isinstance(expected, str) else list(expected)
        for value in [status, *wanted]:
            if value not in allowed:
                raise ValidationError(f"status: {value!r} is not one of {', '.join(allowed)}")
        table = db.Team.__table__
        result = conn.execute(update(table).where(table.c.id == str(team_id),
                                                  table.c.status.in_(wanted))
                              .values(status=status, updated_at=db.utc_now()))
        if result.rowcount != 1:
            current = conn.execute(select(table.c.status)
                                   .where(table.c.id == str(team_id))).scalar()
            if current is None:
                raise NotFoundError(f"teams: no record with id {team_id!r}")
            raise ConflictError(f"team {team_id} is {current}, not {' or '.join(wanted)}",
                                current=current)
        old_status = wanted[0] if len(wanted) == 1 else "/".join(wanted)
        self._audit(conn, actor=actor, action="status", layer="teams", record_id=team_id,
                    old={"status": old_status}, new={"status": status})

    def assign_team(self, incident_id: str, team_id: str, *, actor: str = "system") -> int:
        """Assign an *available* team to an incident (one transaction: the team's conditional
        status change, the assignment, the incident's status). Returns the assignment id."""
        incidents, assignments = db.Incident.__table__, db.Assignment.__table__
        with self._write() as conn:
            state = conn.execute(select(incidents.c.status)
                                 .where(incidents.c.id == str(incident_id))).scalar()
            if state is None:
                raise NotFoundError(f"incidents: no record with id {incident_id!r}")
            if state == "closed":
                raise ConflictError(f"incident {incident_id} is closed", current=state)
            self._change_status(conn, team_id, "assigned", expected="available", actor=actor)
            now = db.utc_now()
            assignment = conn.execute(insert(assignments).values(
                incident=str(incident_id), team=str(team_id), assigned_at=now,
                assigned_by=actor)).inserted_primary_key[0]
            conn.execute(update(incidents).where(incidents.c.id == str(incident_id),
                                                 incidents.c.status == "open")
                         .values(status="dispatched", updated_at=now))
            self._audit(conn, actor=actor, action="assign", layer="incidents",
                        record_id=incident_id, old=None,
                        new={"team": team_id, "assignment": assignment})
            revision = self._bump_revision(conn, "teams")
        self._after_write("teams", revision)
        return int(assignment)

    def release_team(self, team_id: str, *, status: str = "available",
                     actor: str = "system") -> None:
        """End a team's open assignments and set its status (default: available again)."""
        assignments = db.Assignment.__table__
        busy = ("assigned", "en_route", "on_scene", "returning")
        with self._write() as conn:
            self._change_status(conn, team_id, status, expected=busy, actor=actor)
            conn.execute(update(assignments).where(assignments.c.team == str(team_id),
                                                   assignments.c.released_at.is_(None))
                         .values(released_at=db.utc_now()))
            revision = self._bump_revision(conn, "teams")
        self._after_write("teams", revision)

    # ---- depot inventory ----------------------------------------------------------------------

    def _add_inventory(self, records, *, actor, labels, known_problems) -> list[str]:
        spec = layer_spec("inventory")
        labels = list(labels) if labels is not None else list(range(1, len(records) + 1))
        choices, problems, rows, seen = self._choices(), list(known_problems), [], {}
        catalogue = self.catalogue()
        depots = db.Depot.__table__
        with self._read() as conn:
            known_depots = set(conn.execute(select(depots.c.id)).scalars())
        for label, record in zip(labels, records, strict=True):
            clean, found = check_record(spec, {k: v for k, v in record.items() if k != "geometry"},
                                        choices=choices)
            if "depot" in clean and clean["depot"] not in known_depots:
                found.append(("depot", f"no depot with id {clean['depot']!r}"))
            key = (clean.get("depot"), clean.get("item"))
            if not found and key in seen:
                found.append(("item", f"duplicate {key[1]!r} for depot {key[0]!r} "
                                      f"(also row {seen[key]})"))
            seen.setdefault(key, label)
            problems += [RowProblem(label, name, text) for name, text in found]
            if not found:
                unit = clean["unit"] or str(catalogue.loc[clean["item"], "unit"])
                rows.append({"depot": clean["depot"], "item": clean["item"],
                             "quantity": clean["quantity"], "unit": unit})
        if problems:
            raise RecordsRejectedError("inventory", problems, total=len(records))
        with self._write() as conn:
            for row in rows:
                self._write_stock(conn, row["depot"], row["item"], row["quantity"],
                                  unit=row["unit"], actor=actor)
        return [f"{row['depot']}/{row['item']}" for row in rows]

    def set_stock(self, depot_id: str, item: str, quantity: float, *, unit: str | None = None,
                  actor: str = "system") -> None:
        """Set a depot's stock of an item (an item of the catalogue; quantity ≥ 0)."""
        self._check_stock_args(depot_id, item, quantity)
        unit = unit or str(self.catalogue().loc[item, "unit"])
        with self._write() as conn:
            self._write_stock(conn, depot_id, item, quantity, unit=unit, actor=actor)

    def _write_stock(self, conn: Connection, depot_id: str, item: str, quantity: float, *,
                     unit: str, actor: str) -> None:
        table = db.InventoryRow.__table__
        where = (table.c.depot == str(depot_id), table.c.item == item)
        old = conn.execute(select(table.c.quantity).where(*where)).scalar()
        conn.execute(delete(table).where(*where))
        conn.execute(insert(table).values(depot=str(depot_id), item=item, quantity=float(quantity),
                                          unit=unit, updated_at=db.utc_now()))
        self._audit(conn, actor=actor, action="update" if old is not None else "insert",
                    layer="inventory", record_id=f"{depot_id}/{item}",
                    old=None if old is None else {"quantity": old},
                    new={"quantity": float(quantity), "unit": unit})

    def adjust_stock(self, depot_id: str, item: str, delta: float, *,
                     actor: str = "system") -> float:
        """Add (or, negative, take) stock; never below zero: taking more than is there raises
        :class:`ConflictError` with the quantity in stock. Returns the new quantity."""
        if not np.isfinite(delta):
            raise ValidationError(f"delta: expected a finite number, got {delta!r}")
        table = db.InventoryRow.__table__
        where = (table.c.depot == str(depot_id), table.c.item == item)
        with self._write() as conn:
            result = conn.execute(update(table).where(*where, table.c.quantity + delta >= 0)
                                  .values(quantity=table.c.quantity + delta,
                                          updated_at=db.utc_now()))
            if result.rowcount != 1:
                held = conn.execute(select(table.c.quantity).where(*where)).scalar()
                if held is None:
                    raise NotFoundError(f"inventory: depot {depot_id!r} holds no {item!r}")
                raise ConflictError(f"depot {depot_id} holds {held:g} {item}, cannot take "
                                    f"{-delta:g}", current=held)
            quantity = conn.execute(select(table.c.quantity).where(*where)).scalar()
            self._audit(conn, actor=actor, action="update", layer="inventory",
                        record_id=f"{depot_id}/{item}", old={"quantity": quantity - delta},
                        new={"quantity": quantity})
        return float(quantity)

    def _check_stock_args(self, depot_id: str, item: str, quantity: float) -> None:
        problems = []
        if item not in self._choices()["items"]:
            problems.append(f"item: {item!r} is not in the catalogue (add it first)")
        if not (isinstance(quantity, int | float) and np.isfinite(quantity) and quantity >= 0):
            problems.append(f"quantity: {quantity!r} is negative or not a number (must be ≥ 0)")
        if problems:
            raise ValidationError(f"inventory {depot_id}/{item}: " + "; ".join(problems))
        self.get("depots", depot_id)

    def stock(self, depot_id: str) -> dict[str, float]:
        table = db.InventoryRow.__table__
        with self._read() as conn:
            rows = conn.execute(select(table.c.item, table.c.quantity)
                                .where(table.c.depot == str(depot_id))).all()
        return {item: float(quantity) for item, quantity in rows}

    # ---- layers as GeoDataFrames --------------------------------------------------------------

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """A layer as a GeoDataFrame in EPSG:4326 indexed by ``id`` (inventory: one row per depot
        and item, at the depot's location; incidents: with ``assigned_teams``)."""
        spec = layer_spec(name)
        if name == "inventory":
            return self._inventory_layer()
        table = MODELS[name].__table__
        with self._read() as conn:
            frame = pd.read_sql(select(table), conn)
        geometry = shapely.from_wkb(frame.pop("geometry_wkb").to_numpy(dtype=object))
        frame = frame.drop(columns=["min_lon", "min_lat", "max_lon", "max_lat"])
        if name == "teams":
            home = shapely.from_wkb(frame.pop("home_wkb").to_numpy(dtype=object))
            frame["home_lon"], frame["home_lat"] = shapely.get_x(home), shapely.get_y(home)
        if name == "incidents":
            frame["assigned_teams"] = self._open_assignments(frame["id"])
        columns = ["id", *spec.field_names, "created_at", "updated_at"]
        extra = [c for c in frame.columns if c not in columns]
        return gpd.GeoDataFrame(frame[columns + extra], geometry=geometry,
                                crs=WGS84).set_index("id")

    def _open_assignments(self, ids: pd.Series) -> list[list[str]]:
        table = db.Assignment.__table__
        with self._read() as conn:
            rows = conn.execute(select(table.c.incident, table.c.team)
                                .where(table.c.released_at.is_(None))
                                .order_by(table.c.id)).all()
        teams: dict[str, list[str]] = {}
        for incident, team in rows:
            teams.setdefault(incident, []).append(team)
        return [teams.get(i, []) for i in ids]

    def _inventory_layer(self) -> gpd.GeoDataFrame:
        inventory, depots = db.InventoryRow.__table__, db.Depot.__table__
        query = (select(inventory.c.depot, inventory.c.item, inventory.c.quantity,
                        inventory.c.unit, inventory.c.updated_at,
                        depots.c.name.label("depot_name"), depots.c.geometry_wkb)
                 .join(depots, depots.c.id == inventory.c.depot)
                 .order_by(inventory.c.depot, inventory.c.item))
        with self._read() as conn:
            frame = pd.read_sql(query, conn)
        points = shapely.point_on_surface(
            shapely.from_wkb(frame.pop("geometry_wkb").to_numpy(dtype=object)))
        frame.index = pd.Index(frame["depot"] + "/" + frame["item"], name="id")
        return gpd.GeoDataFrame(frame, geometry=points, crs=WGS84)

    def counts(self) -> dict[str, int]:
        with self._read() as conn:
            counts = {name: conn.execute(select(func.count()).select_from(model.__table__)).scalar()
                      for name, model in MODELS.items()}
            counts["inventory"] = conn.execute(
                select(func.count()).select_from(db.InventoryRow.__table__)).scalar()
        return counts

    def audit_log(self, *, layer: str | None = None, record_id: str | None = None,
                  limit: int | None = None) -> pd.DataFrame:
        """Who changed what and when, newest first, with old and new values."""
        table = db.AuditEntry.__table__
        query = select(table).order_by(table.c.id.desc())
        if layer is not None:
            query = query.where(table.c.layer == layer)
        if record_id is not None:
            query = query.where(table.c.record_id == str(record_id))
        if limit is not None:
            query = query.limit(int(limit))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows],
                            columns=["id", "at", "actor", "action", "layer", "record_id", "old",
                                     "new"])

    # ---- spatial queries ----------------------------------------------------------------------

    def nearby(self, layer: str, lon: float, lat: float, *, radius_m: float) -> pd.Series:
        """Ids of the layer's features within ``radius_m`` of (lon, lat), with their distance in
        metres (to the nearest point of the feature), nearest first."""
        if not (np.isfinite(radius_m) and radius_m >= 0):
            raise ValidationError(f"radius_m: expected a non-negative number, got {radius_m!r}")
        candidates = self._index(layer).intersecting(degree_box(lon, lat, radius_m))
        distances = self._distances_m(layer, candidates, lon, lat)
        return distances[distances <= radius_m]

    def nearest(self, layer: str, lon: float, lat: float, *, k: int = 1) -> pd.Series:
        """The ``k`` features nearest to (lon, lat) with their distance in metres."""
        if int(k) < 1:
            raise ValidationError(f"k: expected a positive whole number, got {k!r}")
        k = int(k)
        # Degrees distort distance, so the k nearest boxes only bound the answer: every feature
        # nearer than the k-th of them in metres lies within that radius; rank those.
        first = self._distances_m(layer, self._index(layer).nearest(lon, lat, k), lon, lat)
        if len(first) < k:
            return first
        return self.nearby(layer, lon, lat, radius_m=float(first.iloc[k - 1]) + 1e-6).iloc[:k]

    def _distances_m(self, layer: str, ids: list[str], lon: float, lat: float) -> pd.Series:
        if not ids:
            return pd.Series([], dtype=float, name="distance_m")
        table = MODELS[layer].__table__
        rows = []
        with self._read() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows += conn.execute(select(table.c.id, table.c.geometry_wkb)
                                     .where(table.c.id.in_(ids[start:start + _CHUNK]))).all()
        local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
        to_local = Transformer.from_crs(WGS84, local, always_xy=True)
        geometries = shapely.transform(shapely.from_wkb([r[1] for r in rows]),
                                       lambda xy: np.column_stack(to_local.transform(*xy.T)))
        distance = shapely.distance(geometries, shapely.Point(0, 0))
        return pd.Series(distance, index=pd.Index([r[0] for r in rows], name="id"),
                         name="distance_m").sort_values(kind="stable")

    def _index(self, layer: str) -> SpatialIndex:
        if layer not in MODELS:
            raise ValidationError(f"layer: {layer!r} has no spatial index; one of "
                                  f"{', '.join(MODELS)}")
        revision = self._revision(layer)
        with self._index_lock:
            index = self._indexes.get(layer)
            if index is not None and index.revision == revision:
                return index
            table = MODELS[layer].__table__
            with self._read() as conn:
                rows = conn.execute(select(table.c.id, table.c.min_lon, table.c.min_lat,
                                           table.c.max_lon, table.c.max_lat)).all()
            index = SpatialIndex(((r[0], tuple(r[1:])) for r in rows), revision=revision)
            self._indexes[layer] = index
            log.debug("built the %s index (%d features, revision %d)", layer, len(index), revision)
            return index

    def _revision(self, layer: str) -> int:
        table = db.Meta.__table__
        with self._read() as conn:
            value = conn.execute(select(table.c.value)
                                 .where(table.c.key == f"revision:{layer}")).scalar()
        return int(value or 0)

    def _after_write(self, layer: str, revision: int, *,
                     inserted: Sequence[tuple[str, Bounds]] = (),
                     deleted: Sequence[str] = ()) -> None:
        """Keep a built index in step with this write; if another writer got in between (the
        revision jumped), drop it so the next query rebuilds it from the database."""
        if getattr(self._local, "conn", None) is not None:
            return  # inside transaction(): indexes are dropped when it ends
        with self._index_lock:
            index = self._indexes.get(layer)
            if index is None:
                return
            if index.revision != revision - 1:
                del self._indexes[layer]
                return
            for key in deleted:
                index.delete(key)
            for key, bounds in inserted:
                index.insert(key, bounds)
            index.revision = revision


# ---- helpers --------------------------------------------------------------------------------


def _problem_order(problem: RowProblem):
    return (str(type(problem.row)), problem.row, problem.field)


def _as_geometry(value, problems: list[Problem]) -> BaseGeometry | None:
    if value is None or isinstance(value, BaseGeometry):
        return value
    try:
        if isinstance(value, Mapping):
            return shapely.geometry.shape(value)
        return shapely.from_wkt(str(value))
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError,
            AttributeError) as exc:
        problems.append(("geometry", f"not a geometry ({str(exc).splitlines()[0]})"))
        return None


def _check_needs(needs: Mapping, choices: Mapping) -> list[Problem]:
    problems = []
    unknown = set(needs) - {"teams", "supplies"}
    if unknown:
        problems.append(("needs", f"unknown keys {sorted(unknown)}; expected teams, supplies"))
    for key, allowed in (("teams", TEAM_TYPES), ("supplies", choices.get("items", ()))):
        part = needs.get(key) or {}
        if not isinstance(part, Mapping):
            problems.append((f"needs.{key}", "expected a mapping of name to amount"))
            continue
        for name, amount in part.items():
            if name not in allowed:
                problems.append((f"needs.{key}", f"{name!r} is not one of "
                                                 f"{', '.join(sorted(allowed))}"))
            elif not (isinstance(amount, int | float) and np.isfinite(amount) and amount >= 0):
                problems.append((f"needs.{key}.{name}", f"{amount!r} is negative or not a number"))
    return problems


def _record_id(value, spec: LayerSpec, problems: list[Problem]) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return f"{spec.id_prefix}-{uuid4().hex[:12]}"
    text = str(value).strip()
    if len(text) > 64:
        problems.append(("id", f"longer than 64 characters: {text[:20]!r}..."))
    return text


def _geometry_columns(geometry: BaseGeometry) -> dict:
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return {"geometry_wkb": shapely.to_wkb(geometry, hex=True), "min_lon": min_lon,
            "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def _add_geometry_columns(layer: str, rows: list[dict], geometries: list[BaseGeometry]) -> None:
    """Hex WKB and bounds of many geometries at once (vectorised)."""
    if not rows:
        return
    array = np.array(geometries, dtype=object)
    wkb = shapely.to_wkb(array, hex=True)
    bounds = shapely.bounds(array)
    for row, hex_wkb, (min_lon, min_lat, max_lon, max_lat) in zip(rows, wkb, bounds, strict=True):
        row.update(geometry_wkb=hex_wkb, min_lon=min_lon, min_lat=min_lat, max_lon=max_lon,
                   max_lat=max_lat)
        if layer == "teams":
            row["home_wkb"] = hex_wkb


def _row_values(layer: str, record_id: str, clean: dict, now: datetime) -> dict:
    row = {"id": record_id, **clean, "created_at": now, "updated_at": now}
    if layer == "incidents" and row.get("reported_at") is None:
        row["reported_at"] = now
    if layer == "incidents" and row.get("needs") is None:
        row["needs"] = {}
    return row


def _bounds_of(row: Mapping) -> Bounds:
    return (row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"])


def _record(row: dict) -> dict:
    row["geometry"] = shapely.from_wkb(row.pop("geometry_wkb"))
    for key in ("min_lon", "min_lat", "max_lon", "max_lat"):
        row.pop(key, None)
    if "home_wkb" in row:
        home = row.pop("home_wkb")
        row["home"] = shapely.from_wkb(home) if home else None
    return row


def _public(row: Mapping) -> dict:
    """A row as the audit log shows it: geometry as WKT, no derived columns."""
    out = {k: v for k, v in row.items()
           if k not in ("min_lon", "min_lat", "max_lon", "max_lat", "geometry_wkb", "home_wkb")}
    if row.get("geometry_wkb"):
        out["geometry"] = shapely.from_wkb(row["geometry_wkb"]).wkt
    return out


def _changed(old: Mapping, new: Mapping) -> dict:
    keys = set(new) | ({"geometry"} if "geometry_wkb" in new else set())
    return {k: v for k, v in old.items() if k in keys}


def _jsonable(value):
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, BaseGeometry):
        return value.wkt
    return value


def _existing(conn: Connection, table: Table, ids: list[str]) -> list[str]:
    found = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        found += conn.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars().all()
    return found
