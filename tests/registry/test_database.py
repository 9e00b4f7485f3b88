"""The registry database: where it lives, SQLite settings, schema version checks."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlalchemy import text

from geo.errors import GeoError, SourceError, ValidationError
from geo.registry import database as db
from geo.registry.registry import Registry


def test_url_from_option_env_or_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(db.DB_URL_ENV, raising=False)
    assert db.resolve_url() == f"sqlite:///{tmp_path / 'instance' / 'registry.sqlite'}"
    monkeypatch.setenv(db.DB_URL_ENV, "postgresql://planner@dbhost/registry")
    assert db.resolve_url() == "postgresql://planner@dbhost/registry"
    assert db.resolve_url("other.sqlite") == f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert db.resolve_url("sqlite:///x.db") == "sqlite:///x.db"


def test_default_location_is_created_under_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(db.DB_URL_ENV, raising=False)
    Registry().close()
    assert (tmp_path / "instance" / "registry.sqlite").is_file()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_wait(tmp_path, monkeypatch):
    monkeypatch.delenv(db.BUSY_TIMEOUT_ENV, raising=False)
    engine = db.open_database(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    engine.dispose()
    monkeypatch.setenv(db.BUSY_TIMEOUT_ENV, "2.5")
    with Registry(str(tmp_path / "r.sqlite")) as registry, registry.engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 2_500
    with Registry(str(tmp_path / "r.sqlite"), busy_timeout=0.25) as registry, \
            registry.engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 250
    monkeypatch.setenv(db.BUSY_TIMEOUT_ENV, "soon")
    with pytest.raises(ValidationError, match=r"\$GEO_DB_BUSY_TIMEOUT_S: expected a number"):
        Registry(str(tmp_path / "r.sqlite"))


def test_database_rejects_negative_stock_even_past_the_api(tmp_path):
    path = tmp_path / "r.sqlite"
    Registry(str(path)).close()
    with sqlite3.connect(path) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO inventory (depot, item, quantity, unit, updated_at) "
                     "VALUES ('D1', 'water', -1, 'L', '2026-01-01')")


def test_inventory_needs_an_existing_depot(tmp_path):
    path = tmp_path / "r.sqlite"
    Registry(str(path)).close()
    with sqlite3.connect(path) as conn, pytest.raises(sqlite3.IntegrityError, match="FOREIGN"):
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("INSERT INTO inventory (depot, item, quantity, unit, updated_at) "
                     "VALUES ('nowhere', 'water', 1, 'L', '2026-01-01')")


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "r.sqlite"
    Registry(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (db.SCHEMA_VERSION + 1,))
    with pytest.raises(GeoError, match=rf"schema version {db.SCHEMA_VERSION + 1}, newer than "
                                       r"this software supports"):
        Registry(str(path))


def test_opening_without_create_needs_an_existing_registry(tmp_path):
    with pytest.raises(SourceError, match="no registry here"):
        Registry(str(tmp_path / "missing.sqlite"), create=False)


def test_schema_version_is_recorded_once(tmp_path):
    path = tmp_path / "r.sqlite"
    for _ in range(2):
        Registry(str(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [
            (db.SCHEMA_VERSION,)]


def _as_version(path, version: int) -> None:
    """Turn a registry file of this version back into one as ``version`` left it."""
    with sqlite3.connect(path) as conn:
        # Before version 3, the write counts were meta rows "revision:<layer>".
        conn.execute("INSERT INTO meta (key, value) SELECT 'revision:' || layer, count "
                     "FROM revisions")
        conn.execute("DROP TABLE revisions")
        if version < 2:  # none of the web's tables
            for name in ("api_tokens", "users", "login_attempts", "jobs"):
                conn.execute(f"DROP TABLE {name}")
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, '2026-01-01')",
                     (version,))


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_registry_is_migrated_keeping_its_records_and_revisions(tmp_path, version):
    path = tmp_path / "r.sqlite"
    with Registry(str(path)) as registry:
        registry.add("depots", {"name": "old depot", "geometry": {"type": "Point",
                                                                   "coordinates": [9.52, 47.14]}})
        registry.update("depots", registry.layer("depots").index[0], {"contact": "112"})
        registry.set_region([9.47, 47.04, 9.64, 47.28])
    _as_version(path, version)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'revision:depots'").fetchall() \
            == [(2,)]
    with Registry(str(path)) as registry:
        assert list(registry.layer("depots")["name"]) == ["old depot"]
        assert registry.revision("depots") == 2  # carried over, not restarted
        registry.add("depots", {"geometry": {"type": "Point", "coordinates": [9.53, 47.15]}})
        assert registry.revision("depots") == 3
        assert registry.region is not None  # other meta rows stay
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version")]
        tables = {t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        old_counts = conn.execute("SELECT key FROM meta WHERE key LIKE 'revision:%'").fetchall()
    assert max(versions) == db.SCHEMA_VERSION == 3
    assert {"users", "api_tokens", "login_attempts", "jobs", "revisions"} <= tables
    assert old_counts == []


def test_an_unknown_older_version_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    Registry(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 0")
    with pytest.raises(GeoError, match="schema version 0; this software needs"):
        Registry(str(path))


def test_schema_compiles_for_postgresql():
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    ddl = "\n".join(str(CreateTable(table).compile(dialect=postgresql.dialect()))
                    for table in db.METADATA.sorted_tables)
    assert "CREATE TABLE teams" in ddl and "geometry_wkb TEXT NOT NULL" in ddl
    assert "CHECK (quantity >= 0)" in ddl and "REFERENCES depots (id) ON DELETE CASCADE" in ddl


def test_unreachable_server_or_missing_driver_is_a_clear_error():
    with pytest.raises(SourceError, match=r"database postgresql://\*\*\*@127.0.0.1:9/none"):
        db.open_database("postgresql://planner:secret@127.0.0.1:9/none")


@pytest.mark.parametrize("url", ["mysql://planner:secret@dbhost/registry",
                                 "postgresql+asyncpg://planner:secret@dbhost/registry",
                                 "oracle://planner:secret@dbhost/registry"])
def test_databases_other_than_sqlite_and_postgresql_are_refused(tmp_path, url, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scheme = url.split("://")[0]
    with pytest.raises(SourceError, match=re.escape(
            f"database {scheme}://***@dbhost/registry: unsupported URL scheme {scheme!r}; "
            f"expected sqlite:///path/to/registry.sqlite or postgresql://user@host/database")):
        Registry(url)
    assert list(tmp_path.iterdir()) == []  # nothing made on the way
