"""Long imports stage their rows outside the write lock, and take it only to switch them in.

SQLite lets one connection write at a time. An import that inserted a large population grid in
one transaction held that lock for its whole run (a 1.5-million-cell grid: about 30 s of
inserts), and a dispatcher's ``assign_team`` waited behind it, then failed. Instead, the checked
rows go first into a ``TEMPORARY`` table of the import's own connection, in chunks of short
transactions that take no lock on the registry (temporary tables live in the connection's own
temp database); then one write transaction copies them into the layer inside SQLite
(``INSERT ... SELECT``: about 3 s for 1.5 million rows, 0.2 s for 100,000) and the staging table
is dropped.

Still all or nothing: until that transaction commits no other connection sees a row, and a
failure or a kill leaves the layer as it was, with no staging residue anywhere, since SQLite
deletes a connection's temporary tables when the connection closes or its process dies. The
same holds on PostgreSQL, whose temporary tables are per session too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from uuid import uuid4

from sqlalchemy import Column, Connection, Engine, MetaData, Table, insert, select

from geo.registry.store import CHUNK

log = logging.getLogger(__name__)

# Batches up to this size are inserted in the write transaction itself: one statement of them
# takes a fraction of a second, less than staging would cost.
STAGE_ABOVE_ROWS = CHUNK


@contextmanager
def staged(engine: Engine, table: Table, rows: Sequence[Mapping]) -> Iterator[
        tuple[Connection, Table]]:
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite) on a connection that holds ``rows``
    in a temporary table with their columns (typed as in ``table``), written before the
    transaction began; the caller copies them in (:func:`copy_in`) and commits by leaving the
    block."""
    given = set(rows[0]) if rows else set()
    staging = Table(f"staging_{table.name}_{uuid4().hex[:12]}", MetaData(),
                    *(Column(column.name, column.type) for column in table.columns
                      if column.name in given),
                    prefixes=["TEMPORARY"])
    with engine.connect() as conn:
        try:
            with conn.begin():
                staging.create(conn)
            for start in range(0, len(rows), CHUNK):
                with conn.begin():  # short, and on the temp database only: no registry lock
                    conn.execute(insert(staging), list(rows[start:start + CHUNK]))
            log.debug("staged %d rows for %s", len(rows), table.name)
            conn.execution_options(write=True)
            with conn.begin():
                yield conn, staging
        finally:
            _drop(conn, staging)


def copy_in(conn: Connection, table: Table, staging: Table) -> None:
    """Copy the staged rows into ``table``; its columns the rows lack get their defaults."""
    columns = [column.name for column in staging.columns]
    conn.execute(insert(table).from_select(columns, select(*staging.columns)))


def _drop(conn: Connection, staging: Table) -> None:
    """Drop the staging table, so the pooled connection goes back clean; a connection that
    cannot is discarded (and its temporary tables with it)."""
    conn.execution_options(write=False)
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            staging.drop(conn, checkfirst=True)
    except Exception:  # whatever broke, the connection must not be reused
        log.warning("could not drop %s; discarding its connection", staging.name)
        with contextlib.suppress(Exception):
            conn.invalidate()
