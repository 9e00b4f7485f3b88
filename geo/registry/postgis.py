"""PostGIS: the SQL only a PostgreSQL registry runs.

Each feature table keeps its geometry as hex WKB text (``geometry_wkb``, which SQLite stores as
well); on PostgreSQL it also gets ``geom geometry(Geometry, 4326)``, a column *generated* from
``geometry_wkb`` by the server, so it cannot drift from it whatever writes the row (an insert,
an update, an ``INSERT ... SELECT`` from a staging table), and a GiST index on it. The
registry's "what is near here" queries then ask the server through that index (bounding-box
overlap ``&&`` and the k-nearest-neighbour ordering ``<->``) instead of an in-process rtree.

GeoAlchemy2 (which brings SQLAlchemy's PostgreSQL and MySQL dialects along) is imported by the
queries that use it, so that a SQLite registry never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import Column, Connection, MetaData, String, Table, func, select, text
from sqlalchemy.exc import DBAPIError

from geo.errors import SourceError

SRID = 4326
GEOM = "geom"
# Any number, the same in every process: the key of the lock held while creating the schema.
SCHEMA_LOCK = 0x6765_6F72_6567  # "georeg"

# The feature tables as the spatial queries see them: their id and the generated column, which
# the models (shared with SQLite) do not declare.
_views = MetaData()
_views_lock = threading.Lock()


def lock_schema(conn: Connection) -> None:
    """Wait until no other process is creating or migrating the schema, and keep them waiting
    until this transaction ends."""
    conn.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))


def create_extension(conn: Connection, where: str) -> None:
    """``CREATE EXTENSION postgis`` unless there; a clear error when the server lacks it (or
    the user may not create it)."""
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise SourceError(
            f"database {where}: the registry needs the PostGIS extension, which could not be "
            f"created ({reason}); install PostGIS on the server (Debian: postgresql-15-postgis-3) "
            f"or ask its administrator to run CREATE EXTENSION postgis") from exc


def add_geometry_columns(conn: Connection, tables: Iterable[Table]) -> None:
    """The generated ``geom`` column and its GiST index on each feature table (idempotent)."""
    for table in tables:
        name = table.name
        conn.execute(text(
            f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {GEOM} geometry(Geometry, {SRID}) "
            f"GENERATED ALWAYS AS (ST_GeomFromWKB(decode(geometry_wkb, 'hex'), {SRID})) STORED"))
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {index_name(name)} "
                          f"ON {name} USING gist ({GEOM})"))


def index_name(table: str) -> str:
    return f"{table}_{GEOM}_gist"


def intersecting(conn: Connection, table: str,
                 bounds: tuple[float, float, float, float]) -> list[str]:
    """Ids of the features whose bounding box overlaps the lon/lat ``bounds`` (through the
    GiST index)."""
    from geoalchemy2 import functions as st

    view = _view(table)
    envelope = st.ST_MakeEnvelope(*bounds, SRID)
    return list(conn.execute(select(view.c.id).where(view.c.geom.intersects(envelope)))
                .scalars())


def nearest(conn: Connection, table: str, lon: float, lat: float, k: int) -> list[str]:
    """Ids of the ``k`` features nearest to (lon, lat) in degrees (an index-assisted
    k-nearest-neighbour scan; a candidate filter, not a distance in metres)."""
    from geoalchemy2 import functions as st

    view = _view(table)
    point = st.ST_SetSRID(st.ST_MakePoint(lon, lat), SRID)
    return list(conn.execute(select(view.c.id).order_by(view.c.geom.distance_centroid(point))
                             .limit(int(k))).scalars())


def _view(table: str) -> Table:
    from geoalchemy2 import Geometry

    with _views_lock:
        if table not in _views.tables:
            Table(table, _views, Column("id", String, primary_key=True),
                  Column(GEOM, Geometry(srid=SRID, spatial_index=False)))
        return _views.tables[table]
