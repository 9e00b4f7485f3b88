"""Registry fixtures: the same tests against both databases the registry supports.

``registry_url`` runs a test twice: on a SQLite file, and on a database of its own on a
throwaway PostgreSQL + PostGIS server (:mod:`tests.registry.postgres`, its fixtures in
``tests/conftest.py``), started once per test session. Without the server binaries the
PostgreSQL runs are skipped, unless ``GEO_REQUIRE_POSTGRES=1`` (as ``scripts/test.sh`` sets
it), when they fail.
"""

from __future__ import annotations

import pytest

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


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
