"""A real service on a copy of the Liechtenstein demo registry (built once per session from the
embedded OSM extract), with one account and API token per role."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from geo.registry import Registry
from geo.registry.accounts import ROLES
from web import create_app

PASSWORD = "correct horse battery"


def copy_registry(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite registry (the backup API, so the WAL is included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def make_app(tmp_path: Path, demo_file: Path, cache_dir: Path, **config):
    db_path = copy_registry(demo_file, tmp_path / "registry.sqlite")
    return create_app({"TESTING": True, "DB_URL": str(db_path), "CACHE_DIR": str(cache_dir),
                       "INSTANCE_PATH": str(tmp_path / "instance"), "LOAD_NETWORKS_NOW": True,
                       **config})


@pytest.fixture
def app(tmp_path, demo_file, cache_dir):
    return make_app(tmp_path, demo_file, cache_dir)


@pytest.fixture
def registry(app) -> Registry:
    return app.extensions["geo"].registry()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(registry) -> dict[str, str]:
    """An API token per role (accounts named after their role, with PASSWORD)."""
    made = {}
    for role in ROLES:
        name = f"{role}-user"
        registry.add_user(name, role, PASSWORD)
        made[role] = registry.create_token(name)[0]
    return made


@pytest.fixture
def headers(tokens):
    """``headers(role)`` → the Authorization header of that role's token (None: anonymous)."""

    def make(role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {tokens[role]}"}

    return make
