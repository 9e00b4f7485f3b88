"""The layers read by a client nobody here wrote: OWSLib's OGC API – Features client against the
real service (gunicorn, two worker processes) over HTTP on loopback, every layer compared with
the registry as it reads it."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import owslib.ogcapi
import pytest
import requests
import shapely
from owslib.ogcapi.features import Features
from shapely.geometry import shape

from geo.registry import Registry
from geo.services.records import FEATURE_LAYERS
from tests.web.conftest import PASSWORD, copy_registry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
READY_WITHIN_S = 120
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
# Around Vaduz: some of each layer's records, not all.
VADUZ = (9.50, 47.12, 9.54, 47.16)


@dataclass(frozen=True)
class Service:
    url: str
    token: str
    registry: Registry


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    """Return once ``/api/health`` answers 200; fail with the server's output if it exits or
    is not ready within READY_WITHIN_S."""
    deadline = time.monotonic() + READY_WITHIN_S
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with status {process.returncode}:\n"
                        f"{log.read_text(errors='replace')}")
        try:
            response = requests.get(f"{url}api/health", timeout=5)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text}"
        except requests.RequestException as exc:  # not listening yet, or busy loading
            last = str(exc)
        time.sleep(0.5)
    pytest.fail(f"the service was not ready within {READY_WITHIN_S} s (last answer: {last}); "
                f"its output:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def service(tmp_path_factory, demo_file, cache_dir, li_drive, li_walk) -> Iterator[Service]:
    """gunicorn on a copy of the demo registry with a viewer's token. The networks are built
    into the session's cache first (``li_drive``, ``li_walk``), so the workers only load them."""
    folder = tmp_path_factory.mktemp("ogc-server")
    db_path = copy_registry(demo_file, folder / "registry.sqlite")
    registry = Registry(str(db_path))
    registry.add_user("owslib-user", "viewer", PASSWORD)
    token = registry.create_token("owslib-user")[0]
    port = free_port()
    env = {**os.environ, "GEO_WEB_BIND": f"127.0.0.1:{port}", "GEO_WEB_WORKERS": "2",
           "GEO_DB_URL": str(db_path), "GEO_CACHE_DIR": str(cache_dir),
           "GEO_WEB_INSTANCE_PATH": str(folder / "instance")}
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen([str(GUNICORN), "--config", "web/gunicorn_conf.py"],
                                   cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_ready(url, process, log)
        yield Service(url, token, registry)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        registry.close()


@pytest.fixture
def owslib_headers() -> Iterator[None]:
    """OWSLib keeps the headers of every client in one module-level dict; put it back after
    each test, so that a token does not outlive its test."""
    saved = dict(owslib.ogcapi.REQUEST_HEADERS)
    yield
    owslib.ogcapi.REQUEST_HEADERS.clear()
    owslib.ogcapi.REQUEST_HEADERS.update(saved)


@pytest.fixture
def features(service, owslib_headers) -> Features:
    return Features(service.url, headers={"Authorization": f"Bearer {service.token}"})


def next_query(page: dict) -> dict[str, str] | None:
    """The query of the page's ``next`` link, as keyword arguments for OWSLib."""
    following = [link for link in page["links"] if link["rel"] == "next"]
    return dict(parse_qsl(urlsplit(following[0]["href"]).query)) if following else None


def ids_of(page: dict) -> list[str]:
    return [feature["id"] for feature in page["features"]]


def test_owslib_reads_the_landing_page_and_conformance(features, service):
    rels = {link["rel"]: link["href"] for link in features.links}
    assert rels["data"] == f"{service.url}collections"
    assert CORE in features.conformance()["conformsTo"]


def test_owslib_lists_every_layer(features):
    assert [c["id"] for c in features.collections()["collections"]] == list(FEATURE_LAYERS)
    assert features.feature_collections() == list(FEATURE_LAYERS)


@pytest.mark.parametrize("layer", FEATURE_LAYERS)
def test_owslib_reads_each_layer_as_the_registry_holds_it(features, service, layer):
    frame = service.registry.layer(layer)
    collection = features.collection(layer)
    [bbox] = collection["extent"]["spatial"]["bbox"]
    if len(frame):
        assert bbox == pytest.approx(list(frame.total_bounds))
    everything = features.collection_items(layer, limit=10_000)
    assert features.response_headers["Content-Type"] == "application/geo+json"
    assert everything["numberMatched"] == everything["numberReturned"] == len(frame)
    assert sorted(ids_of(everything)) == sorted(frame.index)
    first = features.collection_items(layer, limit=3)
    assert first["numberMatched"] == len(frame)
    assert ids_of(first) == sorted(frame.index)[:3]


@pytest.mark.parametrize("layer", ["shelters", "teams", "hazards", "population"])
def test_owslib_bbox_and_offset_match_the_registry(features, service, layer):
    frame = service.registry.layer(layer)
    inside = frame.index[shapely.intersects(frame.geometry.to_numpy(), shapely.box(*VADUZ))]
    assert 0 < len(inside) < len(frame)
    page = features.collection_items(layer, bbox=list(VADUZ), limit=10_000)
    assert sorted(ids_of(page)) == sorted(inside)
    assert page["numberMatched"] == len(inside)
    middle = features.collection_items(layer, offset=2, limit=4)
    assert ids_of(middle) == sorted(frame.index)[2:6]


def test_owslib_follows_next_links_through_the_teams_in_pages_of_five(features, service):
    pages = [features.collection_items("teams", limit=5)]
    while (query := next_query(pages[-1])) is not None:
        pages.append(features.collection_items("teams", **query))
    seen = [i for page in pages for i in ids_of(page)]
    teams = service.registry.layer("teams").index
    assert len(seen) == len(set(seen)) and set(seen) == set(teams)
    assert len(pages) == math.ceil(len(teams) / 5)
    assert all(page["numberMatched"] == len(teams) for page in pages)


@pytest.mark.parametrize("layer", ["shelters", "depots", "teams", "hazards", "population"])
def test_owslib_reads_one_item(features, service, layer):
    record_id = sorted(service.registry.layer(layer).index)[-1]
    feature = features.collection_item(layer, record_id)
    assert feature["id"] == record_id
    assert shape(feature["geometry"]).equals(service.registry.get(layer, record_id)["geometry"])
    assert features.response_headers["ETag"].strip('"')
    assert {link["rel"] for link in feature["links"]} >= {"self", "collection"}


def test_owslib_without_a_token_is_refused(service, owslib_headers):
    anonymous = Features(service.url)  # the landing page is open to all
    with pytest.raises(RuntimeError, match="Authorization"):
        anonymous.collections()
