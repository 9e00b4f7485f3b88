"""Shared fixtures: real OSM extracts from data/, networks built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from geo.core.resources import LIECHTENSTEIN_OSM, MONACO_OSM, data_path
from geo.network.build import build_network
from geo.registry import Registry
from geo.registry.demo import build_demo
from tests.registry import postgres

LIECHTENSTEIN = data_path(LIECHTENSTEIN_OSM)
MONACO = data_path(MONACO_OSM)
EXTRACTS = {"liechtenstein": LIECHTENSTEIN, "monaco": MONACO}

# Commands the tests start run in their own process, each with just what it imports (the CLI
# server that would run them otherwise has its own tests, with a folder of their own).
os.environ["GEO_CLI_SERVER"] = "0"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("network-cache")


@pytest.fixture(scope="session")
def networks(cache_dir):
    """``networks(region, mode)`` → the RoadNetwork, built once per session."""
    built = {}

    def get(region: str, mode: str):
        if (region, mode) not in built:
            built[region, mode] = build_network(EXTRACTS[region], mode=mode, cache_dir=cache_dir)
        return built[region, mode]

    return get


@pytest.fixture(scope="session")
def li_drive(networks):
    return networks("liechtenstein", "drive")


@pytest.fixture(scope="session")
def li_walk(networks):
    return networks("liechtenstein", "walk")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# A throwaway PostgreSQL + PostGIS server (registry and web tests) ----------------------------

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


# The Liechtenstein demo registry, built once per session (the web and browser tests copy it) --

@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "registry.sqlite"
    with Registry(str(path)) as registry:
        build_demo(registry)
    return path
