"""The registry database: its tables (SQLAlchemy Core), engine and schema version.

Two databases are supported, behind the same tables and callers:

- **SQLite** (the embedded default): one file, WAL journal so that readers and the writer do
  not block each other, foreign keys on, write transactions taken with ``BEGIN IMMEDIATE`` so
  that a read-then-write cannot interleave with another writer, and a busy wait after which a
  write gives up with :class:`~geo.errors.BusyError`.
- **PostgreSQL with PostGIS** (``postgresql://user@host/db``, driven by psycopg 3): READ
  COMMITTED transactions, so every write that depends on what it read either locks the row
  (``SELECT ... FOR UPDATE``), is a conditional update (team status, stock) or an atomic upsert
  (revision counters, settings); a ``lock_timeout`` of the same busy wait, and a lock wait that
  ran out, a serialization failure or a deadlock become :class:`~geo.errors.BusyError`. Each
  feature table also gets a PostGIS ``geom`` column computed from ``geometry_wkb``, with a GiST
  index that the registry's spatial queries use (:mod:`geo.registry.postgis`).

Geometries are stored portably as hex WKB text (``geometry_wkb``) with their lon/lat bounds in
plain float columns, so that the callers read layers the same way from either database. Other
URL schemes are refused.

Where the database lives: the ``--db`` option (a path or a URL), else ``$GEO_DB_URL``, else
``instance/registry.sqlite`` under the current directory.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from geo.core.vocabulary import INCIDENT_OPEN, SHELTER_OPEN, TEAM_AVAILABLE
from geo.errors import BusyError, GeoError, SourceError, ValidationError
from geo.registry import postgis

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
# Version 2 added users, API tokens, login attempts and jobs (the web service's tables);
# version 3 moved the per-layer write counts from ``meta`` rows into the ``revisions`` table.
DEFAULT_DB_PATH = Path("instance") / "registry.sqlite"
DB_URL_ENV = "GEO_DB_URL"
# How long a write waits for another writer before giving up with "registry busy". Long imports
# hold the write lock only for their last short transaction (see geo.registry.staging).
SQLITE_BUSY_TIMEOUT_S = 30.0
BUSY_TIMEOUT_ENV = "GEO_DB_BUSY_TIMEOUT_S"
SQLITE_AT_LEAST = (3, 35)  # upserts with RETURNING (revisions, settings, stock)
# PostgreSQL errors that mean "another transaction was in the way", not a fault: a lock wait
# that reached lock_timeout, a serialization failure, a deadlock. Worth a retry, like SQLITE_BUSY.
BUSY_SQLSTATES = frozenset({"55P03", "40001", "40P01"})
# Before version 3 the write counts were ``meta`` rows keyed ``revision:<layer>``.
REVISION_PREFIX = "revision:"
URL_FORMS = "sqlite:///path/to/registry.sqlite or postgresql://user@host/database"


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A moment in UTC, read back time-zone aware from either database: SQLite keeps no zone
    and hands back naive times, which a client would take for its own local time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


# Tables are declared with SQLAlchemy Core, not as ORM models: every read and write here is a
# Core statement, and the ORM (its import and its mapping of each model) cost every command
# about 0.2 s for nothing.
METADATA = MetaData()


def _feature_columns() -> list[Column]:
    """Columns every layer shares: stable id, name, notes, provenance, times, geometry (after
    the layer's own columns)."""
    return [
        Column("id", String(64), primary_key=True),
        Column("name", String(300), nullable=False, default=""),
        Column("notes", Text, nullable=False, default=""),
        Column("source", String(300), nullable=False, default=""),  # "osm:way/123", "demo", …
        Column("created_at", UtcDateTime(), nullable=False, default=utc_now),
        Column("updated_at", UtcDateTime(), nullable=False, default=utc_now),
        Column("geometry_wkb", Text, nullable=False),  # hex WKB, EPSG:4326
        Column("min_lon", Float, nullable=False),
        Column("min_lat", Float, nullable=False),
        Column("max_lon", Float, nullable=False),
        Column("max_lat", Float, nullable=False),
    ]


schema_version = Table(
    "schema_version", METADATA,
    Column("version", Integer, primary_key=True),
    Column("applied_at", UtcDateTime(), nullable=False, default=utc_now),
)

# Registry-wide settings, e.g. ``region_bounds`` (the lon/lat box imports must fall in).
meta = Table(
    "meta", METADATA,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

# How many committed writes each layer has had (see :mod:`geo.registry.store`), bumped by one
# atomic upsert per write, so that concurrent writers never lose a count.
revisions = Table(
    "revisions", METADATA,
    Column("layer", String(64), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
)

shelters = Table(
    "shelters", METADATA,
    Column("shelter_class", String(64), nullable=False),
    Column("effective_area_m2", Float, nullable=True),
    Column("capacity_people", Integer, nullable=False),
    Column("occupancy", Integer, nullable=False, default=0),  # people there now
    Column("status", String(32), nullable=False, default=SHELTER_OPEN),
    Column("facilities", JSON, nullable=False, default=list),
    Column("contact", String(300), nullable=False, default=""),
    *_feature_columns(),
    CheckConstraint("capacity_people >= 0", name="shelter_capacity_nonnegative"),
    CheckConstraint("occupancy >= 0", name="shelter_occupancy_nonnegative"),
    CheckConstraint("effective_area_m2 IS NULL OR effective_area_m2 >= 0",
                    name="shelter_area_nonnegative"),
)

depots = Table(
    "depots", METADATA,
    Column("contact", String(300), nullable=False, default=""),
    *_feature_columns(),
)

# The supply item catalogue; extendable (:meth:`geo.registry.Registry.add_catalogue_item`).
catalogue = Table(
    "catalogue", METADATA,
    Column("item", String(64), primary_key=True),
    Column("name_en", String(200), nullable=False, default=""),
    Column("name_zh", String(200), nullable=False, default=""),
    Column("unit", String(32), nullable=False, default="piece"),
)

inventory = Table(
    "inventory", METADATA,
    Column("depot", String(64), ForeignKey("depots.id", ondelete="CASCADE"), primary_key=True),
    Column("item", String(64), ForeignKey("catalogue.item"), primary_key=True),
    Column("quantity", Float, nullable=False),
    Column("unit", String(32), nullable=False, default=""),
    Column("updated_at", UtcDateTime(), nullable=False, default=utc_now),
    CheckConstraint("quantity >= 0", name="inventory_quantity_nonnegative"),
)

# A team's geometry is its current position; ``home_wkb`` its home base.
teams = Table(
    "teams", METADATA,
    Column("type", String(32), nullable=False),
    Column("headcount", Integer, nullable=False),
    Column("equipment", JSON, nullable=False, default=list),
    Column("home_base", String(300), nullable=False, default=""),
    Column("home_wkb", Text, nullable=True),
    Column("status", String(32), nullable=False, default=TEAM_AVAILABLE),
    Column("turnout_s", Float, nullable=False, default=0.0),
    *_feature_columns(),
    CheckConstraint("headcount >= 0", name="team_headcount_nonnegative"),
    CheckConstraint("turnout_s >= 0", name="team_turnout_nonnegative"),
)

hazards = Table(
    "hazards", METADATA,
    Column("type", String(32), nullable=False),
    Column("risk_level", Integer, nullable=False, default=2),
    Column("radius_m", Float, nullable=True),  # for point hazards
    Column("active", Boolean, nullable=False, default=True),
    *_feature_columns(),
    CheckConstraint("risk_level BETWEEN 1 AND 4", name="hazard_risk_level_1_4"),
    CheckConstraint("radius_m IS NULL OR radius_m >= 0", name="hazard_radius_nonnegative"),
)

incidents = Table(
    "incidents", METADATA,
    Column("type", String(32), nullable=False),
    Column("severity", Integer, nullable=False, default=2),
    Column("reported_at", UtcDateTime(), nullable=False, default=utc_now),
    Column("needs", JSON, nullable=False, default=dict),  # {"teams": {...}, "supplies": {...}}
    Column("status", String(32), nullable=False, default=INCIDENT_OPEN),
    *_feature_columns(),
)

assignments = Table(
    "assignments", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident", String(64), ForeignKey("incidents.id", ondelete="CASCADE"),
           nullable=False),
    Column("team", String(64), ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("assigned_at", UtcDateTime(), nullable=False, default=utc_now),
    Column("assigned_by", String(200), nullable=False, default=""),
    Column("released_at", UtcDateTime(), nullable=True),
)

# Demand points: people living at a place (a building's share, a grid cell, a census area).
population = Table(
    "population", METADATA,
    Column("population", Float, nullable=False),
    Column("floor_area_m2", Float, nullable=True),
    *_feature_columns(),
    CheckConstraint("population >= 0", name="population_nonnegative"),
)

audit_log = Table(
    "audit_log", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, default=utc_now),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),  # insert / update / delete / status / import
    Column("layer", String(32), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("old", JSON, nullable=True),
    Column("new", JSON, nullable=True),
)

# Someone who signs in to the web service; ``role`` is one of :data:`ROLES`.
users = Table(
    "users", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False, default=utc_now),
)

# A token for scripts. Only its SHA-256 is kept: the token itself is shown once.
api_tokens = Table(
    "api_tokens", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # to recognise a token in lists
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False, default=utc_now),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

# Sign-in attempts, kept in the database so every worker process counts the same ones.
login_attempts = Table(
    "login_attempts", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False, default=utc_now),
    Column("ok", Boolean, nullable=False),
    Index("login_attempts_name_at", "name", "at"),
    Index("login_attempts_address_at", "address", "at"),
)

# Long work run by a worker process: kept here so that its result outlives the process, and a
# job whose worker stopped is seen as lost (its heartbeat stops).
jobs = Table(
    "jobs", METADATA,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("owner", String(100), nullable=False, default=""),
    Column("status", String(16), nullable=False),  # queued / running / done / failed / lost
    Column("progress", Float, nullable=False, default=0.0),  # 0..1
    Column("message", Text, nullable=False, default=""),
    Column("params", JSON, nullable=False, default=dict),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("worker", String(100), nullable=False, default=""),  # host:pid
    Column("created_at", UtcDateTime(), nullable=False, default=utc_now),
    Column("heartbeat_at", UtcDateTime(), nullable=False, default=utc_now),
    Column("finished_at", UtcDateTime(), nullable=True),
)

# The tables of features (a geometry each): on PostgreSQL each also gets a PostGIS column.
FEATURE_TABLES: tuple[Table, ...] = (shelters, depots, teams, hazards, incidents, population)


def resolve_url(db: str | os.PathLike | None = None) -> str:
    """The database URL: ``db`` (a URL or a file path), else ``$GEO_DB_URL``, else the default."""
    value = os.fspath(db) if db is not None else os.environ.get(DB_URL_ENV) or ""
    if not value:
        value = str(Path.cwd() / DEFAULT_DB_PATH)
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def busy_timeout_s(value: float | None = None) -> float:
    """How long a write waits for another writer: ``value``, else ``$GEO_DB_BUSY_TIMEOUT_S``,
    else 30 s."""
    text = os.environ.get(BUSY_TIMEOUT_ENV) if value is None else value
    if text is None or text == "":
        return SQLITE_BUSY_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        where = f"${BUSY_TIMEOUT_ENV}" if value is None else "busy_timeout_s"
        raise ValidationError(f"{where}: expected a number of seconds ≥ 0, got {text!r}")
    return seconds


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means that another connection was in the way (SQLite's
    SQLITE_BUSY / SQLITE_LOCKED; on PostgreSQL a lock wait that ran out, a serialization failure
    or a deadlock), as opposed to a real fault."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return "database is locked" in text or "database table is locked" in text or (
        "database is busy" in text)


@contextmanager
def busy_as_error(url: str) -> Iterator[None]:
    """Turn a wait for another writer that ran out into :class:`~geo.errors.BusyError`."""
    try:
        yield
    except DBAPIError as exc:
        if not is_busy(exc):
            raise
        raise _busy_error(url) from exc


def _busy_error(url: str) -> BusyError:
    return BusyError(f"registry busy: another process is writing to {_safe(url)}; nothing was "
                     f"written, try again in a moment")


def backend(url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``: which database ``url`` names; any other scheme (or
    driver) is refused with :class:`~geo.errors.SourceError`."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    base, _, driver = scheme.partition("+")
    if base == "sqlite" and driver in ("", "pysqlite"):
        return "sqlite"
    if base in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return "postgresql"
    raise SourceError(f"database {_safe(url)}: unsupported URL scheme {scheme or url!r}; "
                      f"expected {URL_FORMS}")


def make_engine(url: str, *, busy_timeout: float | None = None) -> Engine:
    """An engine for ``url``; SQLite files get their folder, WAL, foreign keys and a busy wait
    of ``busy_timeout`` seconds (:func:`busy_timeout_s`); PostgreSQL gets psycopg 3, READ
    COMMITTED and a ``lock_timeout`` of the same."""
    timeout_s = busy_timeout_s(busy_timeout)
    if backend(url) == "sqlite":
        return _sqlite_engine(url, timeout_s)
    return _postgres_engine(url, timeout_s)


def _postgres_engine(url: str, timeout_s: float) -> Engine:
    # lock_timeout=0 would mean "wait for ever"; a busy timeout of 0 means "do not wait".
    lock_ms = max(1, round(timeout_s * 1000))
    try:
        return create_engine(f"postgresql+psycopg://{url.split('://', 1)[1]}",
                             isolation_level="READ COMMITTED", pool_pre_ping=True,
                             connect_args={"options": f"-c lock_timeout={lock_ms}",
                                           "connect_timeout": 10})
    except (SQLAlchemyError, ImportError) as exc:
        raise SourceError(f"database {_safe(url)}: cannot connect ({exc})") from exc


def _sqlite_path(url: str) -> str:
    """The file of a ``sqlite:///`` URL ("" or ":memory:" for an in-memory database)."""
    return url.split(":///", 1)[1] if ":///" in url else ""


def _sqlite_engine(url: str, timeout_s: float) -> Engine:
    if sqlite3.sqlite_version_info < SQLITE_AT_LEAST:
        raise SourceError(f"database {url}: SQLite {sqlite3.sqlite_version} is too old; the "
                          f"registry needs {'.'.join(map(str, SQLITE_AT_LEAST))} or newer "
                          f"(INSERT ... ON CONFLICT ... RETURNING)")
    path = _sqlite_path(url)
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": timeout_s})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # SQLAlchemy, not the driver, decides where transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_database(url: str, *, create: bool = True,
                  busy_timeout: float | None = None) -> Engine:
    """Connect, create the schema in an empty database, and check its version.

    A database written by newer code (a higher schema version) is refused with a
    :class:`GeoError` rather than read or altered. On PostgreSQL, creating a registry also
    creates the ``postgis`` extension (a clear :class:`SourceError` if the server lacks it).
    """
    kind = backend(url)
    if not create and kind == "sqlite" and not _sqlite_file_exists(url):
        raise SourceError(f"database {url}: no registry here (run 'registry init')")
    engine = make_engine(url, busy_timeout=busy_timeout)
    try:
        with engine.connect() as conn:
            stored = _stored_version(conn)
        if stored is None and not create:
            raise SourceError(f"database {_safe(url)}: no registry here (run 'registry init')")
        if stored is not None and stored > SCHEMA_VERSION:
            raise GeoError(f"database {_safe(url)} has schema version {stored}, newer than this "
                           f"software supports ({SCHEMA_VERSION}); upgrade the software")
        if stored is None or stored < SCHEMA_VERSION:
            _create_or_migrate(engine, url)
    except SQLAlchemyError as exc:
        engine.dispose()
        if is_busy(exc):
            raise _busy_error(url) from exc
        raise SourceError(f"database {_safe(url)}: {str(exc).splitlines()[0]}") from exc
    except GeoError:
        engine.dispose()
        raise
    return engine


def _create_or_migrate(engine: Engine, url: str) -> None:
    """Create the schema in an empty database, or migrate an older one, in one write
    transaction (both databases have transactional DDL). The version is read again inside it:
    of several processes opening a new registry at once, one creates it, the others see it
    (on PostgreSQL an advisory lock makes them wait, as ``BEGIN IMMEDIATE`` does on SQLite)."""
    on_postgres = engine.dialect.name == "postgresql"
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        if on_postgres:
            postgis.lock_schema(conn)
        stored = _stored_version(conn)
        if stored is not None and stored >= SCHEMA_VERSION:
            return
        if on_postgres:
            postgis.create_extension(conn, _safe(url))
        if stored is None:
            METADATA.create_all(conn)
            log.info("creating registry schema v%d at %s", SCHEMA_VERSION, _safe(url))
        else:
            _migrate(conn, stored, url)
        if on_postgres:
            postgis.add_geometry_columns(conn, list(FEATURE_TABLES))
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=utc_now()))


def _migrate(conn: Connection, stored: int, url: str) -> None:
    """Bring a registry of an older schema version up to this one (in the caller's
    transaction). Versions 1 → 2 only added tables, which ``create_all`` adds (it leaves
    existing tables alone); 2 → 3 added ``revisions`` and moves the counts there from ``meta``."""
    if stored not in (1, 2):
        raise GeoError(f"database {_safe(url)} has schema version {stored}; this software "
                       f"needs {SCHEMA_VERSION} and has no migration for it")
    METADATA.create_all(conn)
    old = meta.c.key.like(f"{REVISION_PREFIX}%")
    counts = [{"layer": key.removeprefix(REVISION_PREFIX), "count": int(value)}
              for key, value in conn.execute(select(meta.c.key, meta.c.value).where(old))]
    if counts:
        conn.execute(insert(revisions), counts)
    conn.execute(delete(meta).where(old))
    log.info("migrating registry %s from schema v%d to v%d", _safe(url), stored, SCHEMA_VERSION)


def upsert(conn: Connection, target: Table, values: Mapping[str, object], *,
           keys: Sequence[str], set_: Mapping[str, object] | None = None,
           ) -> postgresql.Insert | sqlite.Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE``: one atomic insert-or-update on either
    database (no read-then-write for a concurrent writer to slip into). ``set_`` is what a
    conflicting row gets, by default the other given values."""
    statement = _dialect(conn).insert(target).values(**values)
    if set_ is None:
        set_ = {name: statement.excluded[name] for name in values if name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=dict(set_))


def insert_new(conn: Connection, target: Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT ... ON CONFLICT DO NOTHING``: rows whose key is taken are skipped, not an
    error (two processes seeding the same rows at once)."""
    return _dialect(conn).insert(target).on_conflict_do_nothing()


def _dialect(conn: Connection):
    """The SQLAlchemy dialect module whose ``insert`` has ``on_conflict_*`` for ``conn`` (the
    PostgreSQL one is imported only for a PostgreSQL registry)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    from sqlalchemy.dialects import sqlite

    return sqlite


def paths_to_create(url: str) -> list[Path]:
    """What opening ``url`` would create: a SQLite file that does not exist yet, then its
    missing folders, innermost first (nothing for other databases)."""
    path = _sqlite_path(url)
    if not url.startswith("sqlite") or path in ("", ":memory:") or Path(path).exists():
        return []
    created = [Path(path)]
    folder = Path(path).parent
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    return created


def remove_created(paths: list[Path]) -> None:
    """Remove a SQLite file made by :func:`paths_to_create` (with its journals) and the
    folders made for it, if they hold nothing else."""
    if not paths:
        return
    database, folders = paths[0], paths[1:]
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _sqlite_file_exists(url: str) -> bool:
    path = _sqlite_path(url)
    return path in ("", ":memory:") or Path(path).is_file()


def _stored_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(schema_version.name):
        return None
    return conn.execute(select(schema_version.c.version).order_by(
        schema_version.c.version.desc()).limit(1)).scalar()


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
