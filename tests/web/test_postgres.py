"""The web service on a PostgreSQL + PostGIS registry (the many-users set-up): the same demo,
the same answers as on SQLite for a dispatch, one winner of an assignment, a stale edit
refused, a job's result kept, layers paged by bbox through the GiST index."""

from __future__ import annotations

import json
import time

import pytest

from geo.registry import Registry
from geo.registry.demo import build_demo
from tests.web.conftest import PASSWORD, make_app
from web import create_app

pytestmark = pytest.mark.postgres
VADUZ = [9.5209, 47.1410]
USERS = {"dispatcher": "dispatcher", "dispatcher-2": "dispatcher", "planner": "planner"}


@pytest.fixture
def pg_app(postgres_url, tmp_path, cache_dir):
    with Registry(postgres_url) as registry:
        build_demo(registry)
        for name, role in USERS.items():
            registry.add_user(name, role, PASSWORD)
    app = create_app({"TESTING": True, "DB_URL": postgres_url, "CACHE_DIR": str(cache_dir),
                      "INSTANCE_PATH": str(tmp_path / "instance"), "LOAD_NETWORKS_NOW": True})
    registry = app.extensions["geo"].registry()
    tokens = {name: registry.create_token(name)[0] for name in USERS}
    yield app, {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}
    app.extensions["geo"].jobs.shutdown()
    app.extensions["geo"].registry().close()


def test_the_service_reports_ready_on_postgresql(pg_app):
    app, _ = pg_app
    health = app.test_client().get("/api/health")
    assert health.status_code == 200 and health.json["database"] == "reachable"


def test_dispatch_answers_as_on_sqlite(pg_app, tmp_path, demo_file, cache_dir):
    app, auth = pg_app
    body = {"at": VADUZ, "k": 3, "items": {"water": 500}}
    on_pg = app.test_client().post("/api/dispatch", json=body, headers=auth["dispatcher"])
    (tmp_path / "lite").mkdir()
    lite = make_app(tmp_path / "lite", demo_file, cache_dir)
    on_sqlite = lite.test_client().post("/api/dispatch", json=body, headers={
        "Authorization": f"Bearer {_token(lite, 'dispatcher')}"})
    assert on_pg.status_code == on_sqlite.status_code == 200
    teams = [(t["id"], round(t["eta_s"], 3)) for t in on_pg.json["teams"]]
    assert teams and teams == [(t["id"], round(t["eta_s"], 3)) for t in on_sqlite.json["teams"]]
    assert on_pg.json["supplies"]["allocation"] == on_sqlite.json["supplies"]["allocation"]


def _token(app, role: str) -> str:
    registry = app.extensions["geo"].registry()
    registry.add_user(f"{role}-user", role, PASSWORD)
    return registry.create_token(f"{role}-user")[0]


def test_one_assignment_wins_and_the_other_sees_who_has_the_team(pg_app):
    app, auth = pg_app
    client = app.test_client()
    made = client.post("/collections/incidents/items", headers=auth["dispatcher"], json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": VADUZ},
        "properties": {"type": "fire", "name": "barn fire"}})
    assert made.status_code == 201
    teams = client.get("/collections/teams/items?status=available&limit=1",
                       headers=auth["dispatcher"]).json["features"]
    team = teams[0]["id"]
    path = f"/api/incidents/{made.json['id']}/assign"
    assert client.post(path, json={"team": team}, headers=auth["dispatcher"]).status_code == 200
    second = client.post(path, json={"team": team}, headers=auth["dispatcher-2"])
    assert second.status_code == 409 and second.json["error"]["current"] == "assigned"


def test_an_edit_based_on_a_stale_copy_is_412(pg_app):
    app, auth = pg_app
    client = app.test_client()
    shelter = client.get("/collections/shelters/items?limit=1",
                         headers=auth["planner"]).json["features"][0]
    path = f"/collections/shelters/items/{shelter['id']}"
    stale = client.get(path, headers=auth["planner"]).headers["ETag"]
    patch = {"content_type": "application/merge-patch+json"}
    first = client.patch(path, data=json.dumps({"properties": {"notes": "checked"}}),
                         headers={**auth["planner"], "If-Match": stale}, **patch)
    assert first.status_code == 200
    late = client.patch(path, data=json.dumps({"properties": {"notes": "late"}}),
                        headers={**auth["planner"], "If-Match": stale}, **patch)
    assert late.status_code == 412
    assert client.get(path, headers=auth["planner"]).json["properties"]["notes"] == "checked"


def test_a_bbox_page_holds_exactly_the_features_inside(pg_app):
    app, auth = pg_app
    client = app.test_client()
    west, south, east, north = 9.50, 47.10, 9.55, 47.16
    page = client.get(f"/collections/population/items?bbox={west},{south},{east},{north}"
                      "&limit=10000", headers=auth["planner"]).json
    every = app.extensions["geo"].registry().layer("population")
    inside = every.cx[west:east, south:north]
    assert page["features"] and {f["id"] for f in page["features"]} == set(inside.index)


def test_a_job_runs_and_keeps_its_result_in_postgresql(pg_app):
    app, auth = pg_app
    client = app.test_client()
    accepted = client.post("/api/coverage", json={"breaks": [5]}, headers=auth["planner"])
    assert accepted.status_code == 202
    deadline = time.monotonic() + 120
    while (job := client.get(accepted.json["href"], headers=auth["planner"]).json)[
            "status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "done", job
    total = app.extensions["geo"].registry().layer("population")["population"].sum()
    assert job["result"]["summary"][0]["total"] == pytest.approx(total)
