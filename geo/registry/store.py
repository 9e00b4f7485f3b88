"""The registry's store: the database engine, transactions, the audit log, and the per-layer
write counters (revisions) in the ``revisions`` table. Every other part of the registry reads
and writes through it; a write that waited too long for another writer raises
:class:`~geo.errors.BusyError` ("registry busy, try again").

Writes that depend on what is stored are atomic on both databases, not only under SQLite's
single writer: a revision is bumped by one upsert (``INSERT ... ON CONFLICT DO UPDATE SET
count = count + 1 RETURNING count``), settings are upserts, and rows read to be changed are
read ``FOR UPDATE`` (a row lock on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` holds the file).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Self

from sqlalchemy import Connection, Table, insert, select

from geo.core.jsonable import jsonable
from geo.core.standards import ShelterStandards, load_standards
from geo.registry import database as db
from geo.registry.spatial_index import SpatialIndex

WGS84 = "EPSG:4326"
# The feature layers and their tables (inventory rows are not features: no geometry of their own).
TABLES: dict[str, Table] = {
    "shelters": db.shelters, "depots": db.depots, "teams": db.teams, "hazards": db.hazards,
    "incidents": db.incidents, "population": db.population}
CHUNK = 5000  # rows per INSERT and ids per IN (...): keeps statements within SQLite's limits


class Store:
    """The database at ``url`` (see :func:`geo.registry.database.resolve_url`)."""

    def __init__(self, url: str | None = None, *, standards: ShelterStandards | None = None,
                 create: bool = True, busy_timeout: float | None = None):
        self.url = db.resolve_url(url)
        # What this store creates, so that a command failing before it wrote anything worth
        # keeping can take it away again (discard()).
        self._created = db.paths_to_create(self.url) if create else []
        try:
            self.engine = db.open_database(self.url, create=create,
                                             busy_timeout=busy_timeout)
        except BaseException:
            db.remove_created(self._created)
            raise
        self._standards = standards
        # Spatial queries go to PostGIS's GiST indexes there, to in-process rtrees on SQLite.
        self.postgis = self.engine.dialect.name == "postgresql"
        # The spatial indexes live here because transaction() must drop them when it ends.
        self._indexes: dict[str, SpatialIndex] = {}
        self._index_lock = threading.Lock()
        self._local = threading.local()  # the open transaction() of each thread

    @functools.cached_property
    def standards(self) -> ShelterStandards:
        """The shelter standards records are checked against: those given, else the shipped
        table, read on first use (a query that writes no shelter needs none)."""
        return self._standards or load_standards()

    def close(self) -> None:
        self.engine.dispose()

    def discard(self) -> None:
        """Close, and remove the database file (and folders) if this store created them: for a
        command that failed, so that it leaves no new, empty registry behind. A database that
        existed before is only closed."""
        self.close()
        db.remove_created(self._created)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes of this thread into one transaction: all of them or none.

        Spatial indexes are not touched inside it and are rebuilt on next use after it."""
        if self._in_transaction():
            yield
            return
        try:
            with db.busy_as_error(self.url), self.engine.connect().execution_options(
                    write=True) as conn, conn.begin():
                self._local.conn = conn
                yield
        finally:
            self._local.conn = None
            with self._index_lock:
                self._indexes.clear()

    def _in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

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
        with db.busy_as_error(self.url), self.engine.connect().execution_options(
                write=write) as conn, conn.begin():
            yield conn

    def _audit(self, conn: Connection, *, actor: str, action: str, layer: str, record_id: str,
               old: Mapping | None, new: Mapping | None) -> None:
        conn.execute(insert(db.audit_log).values(
            at=db.utc_now(), actor=actor, action=action, layer=layer, record_id=str(record_id),
            old=jsonable(old, geometry="wkt"), new=jsonable(new, geometry="wkt")))

    def _bump_revision(self, conn: Connection, layer: str) -> int:
        """Count writes per layer, so an index built before another process wrote is refreshed.
        One atomic upsert: concurrent writers each get their own number, none is lost (the row
        stays locked until the writer's transaction ends)."""
        table = db.revisions
        bump = db.upsert(conn, table, {"layer": layer, "count": 1}, keys=("layer",),
                         set_={"count": table.c.count + 1})
        return int(conn.execute(bump.returning(table.c.count)).scalar_one())

    def _revisions(self, layers: tuple[str, ...]) -> dict[str, int]:
        """The write counts of ``layers`` (0 for a layer never written), in one read."""
        table = db.revisions
        with self._read() as conn:
            rows = conn.execute(select(table.c.layer, table.c.count)
                                .where(table.c.layer.in_(list(layers)))).all()
        found = {layer: int(count) for layer, count in rows}
        return {layer: found.get(layer, 0) for layer in layers}


def meta_value(conn: Connection, key: str, *, lock: bool = False):
    """The value stored under ``key`` in the ``meta`` table, or None; ``lock`` holds the row
    until the transaction ends (to write it back changed)."""
    table = db.meta
    query = select(table.c.value).where(table.c.key == key)
    return conn.execute(query.with_for_update() if lock else query).scalar()


def set_meta_value(conn: Connection, key: str, value) -> None:
    """Store ``value`` under ``key`` (one atomic upsert)."""
    conn.execute(db.upsert(conn, db.meta, {"key": key, "value": value}, keys=("key",)))
