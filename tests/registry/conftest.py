"""Registry fixtures: the same tests against both databases the registry supports.

``registry_url`` runs a test twice: on a SQLite file, and on a database of its own on a
throwaway PostgreSQL + PostGIS server (:mod:`tests.registry.postgres`), started once per test
session. Without the server binaries the PostgreSQL runs are skipped, unless
``GEO_REQUIRE_POSTGRES=1`` (as ``scripts/test.sh`` sets it), when they fail.
"""

from __future__ import annotations

import os

import pytest

from tests.registry import postgres

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_server():
    reason = postgres.unavailable()
    if reason is not None:
        if os.environ.get(postgres.REQUIRE_ENV) == "1":
            pytest.fail(f"{postgres.REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    server = postgres.Server()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A new database on the test server holding an empty registry, dropped after the test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def empty_postgres_url(postgres_server):
    """A new database on the test server with nothing in it (not even PostGIS)."""
    name = postgres_server.create_database(template="template0")
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def registry_url(request, tmp_path):
    """Where a registry goes: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    return request.getfixturevalue("postgres_url")
