"""Dispatchers' and planners' writes over HTTP: assignments (one winner, a 409 with the team's
status for the other), releases, status and position changes, inventory, imports and
exports through the CLI's code — each with its audit entry."""

from __future__ import annotations

import io
import json
import threading

import geopandas as gpd
import pytest

VADUZ = [9.5209, 47.1410]


@pytest.fixture
def incident(client, headers) -> str:
    made = client.post("/collections/incidents/items", headers=headers("dispatcher"), json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": VADUZ},
        "properties": {"type": "fire", "name": "barn fire"}})
    assert made.status_code == 201
    return made.json["id"]


@pytest.fixture
def team(registry) -> str:
    return registry.layer("teams").query("status == 'available'").index[0]


def test_assign_then_a_second_dispatcher_gets_409_with_the_team_status(client, registry,
                                                                        headers, incident,
                                                                        team):
    won = client.post(f"/api/incidents/{incident}/assign", json={"team": team},
                      headers=headers("dispatcher"))
    assert won.status_code == 200
    assert won.json["team"]["status"] == "assigned"
    lost = client.post(f"/api/incidents/{incident}/assign", json={"team": team},
                       headers=headers("admin"))
    assert lost.status_code == 409
    assert lost.json["error"]["code"] == "conflict"
    assert lost.json["error"]["current"] == "assigned"
    # Who got it, for the second dispatcher to see.
    holder = lost.json["error"]["holder"]
    assert holder["incident"] == incident and holder["assigned_by"] == "web:dispatcher-user"
    assert holder["assigned_at"].endswith("+00:00")
    assert "by web:dispatcher-user" in lost.json["error"]["message"]
    assert registry.get("incidents", incident)["status"] == "dispatched"
    audit = registry.audit_log(layer="incidents", record_id=incident)
    assert (audit["action"] == "assign").sum() == 1
    assert audit.query("action == 'assign'")["actor"].tolist() == ["web:dispatcher-user"]


def test_concurrent_assignments_over_http_have_one_winner(app, registry, tokens, incident,
                                                          team):
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def assign():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(f"/api/incidents/{incident}/assign", json={"team": team},
                                    headers={"Authorization": f"Bearer {tokens['dispatcher']}"}
                                    ).status_code)

    threads = [threading.Thread(target=assign) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 7


def test_release_and_status_changes(client, registry, headers, incident, team):
    client.post(f"/api/incidents/{incident}/assign", json={"team": team},
                headers=headers("dispatcher"))
    moved_on = client.post(f"/api/teams/{team}/status",
                           json={"status": "en_route", "expected": ["assigned"]},
                           headers=headers("dispatcher"))
    assert moved_on.status_code == 200 and moved_on.json["status"] == "en_route"
    stale = client.post(f"/api/teams/{team}/status",
                        json={"status": "on_scene", "expected": ["assigned"]},
                        headers=headers("dispatcher"))
    assert stale.status_code == 409 and stale.json["error"]["current"] == "en_route"
    released = client.post(f"/api/teams/{team}/release", json={},
                           headers=headers("dispatcher"))
    assert released.status_code == 200 and released.json["status"] == "available"
    assert registry.layer("incidents").loc[incident, "assigned_teams"] == []


def test_unknown_team_or_incident_is_404(client, headers, incident, team):
    assert client.post("/api/incidents/I-none/assign", json={"team": team},
                       headers=headers("dispatcher")).status_code == 404
    response = client.post(f"/api/incidents/{incident}/assign", json={"team": "T-none"},
                           headers=headers("dispatcher"))
    assert response.status_code == 404 and "T-none" in response.json["error"]["message"]


def test_a_team_moves(client, registry, headers, team):
    moved = client.post(f"/api/teams/{team}/position", json={"at": VADUZ},
                        headers=headers("dispatcher"))
    assert moved.status_code == 200
    position = registry.get("teams", team)["geometry"]
    assert (position.x, position.y) == tuple(VADUZ)


def test_inventory_is_set_checked_and_audited(client, registry, headers):
    depot = registry.layer("depots").index[0]
    response = client.put(f"/api/depots/{depot}/inventory/饮用水", json={"quantity": 1234},
                          headers=headers("planner"))
    assert response.status_code == 200 and response.json["stock"]["water"] == 1234
    assert registry.stock(depot)["water"] == 1234
    negative = client.put(f"/api/depots/{depot}/inventory/water", json={"quantity": -1},
                          headers=headers("planner"))
    assert negative.status_code == 422 and negative.json["error"]["field"] == "quantity"
    unknown = client.put(f"/api/depots/{depot}/inventory/gold", json={"quantity": 1},
                         headers=headers("planner"))
    assert unknown.status_code == 422 and unknown.json["error"]["field"] == "item"
    assert registry.stock(depot)["water"] == 1234
    assert client.get("/api/depots/D-none/inventory",
                      headers=headers("viewer")).status_code == 404


def test_import_is_all_or_nothing_with_the_row_report(client, registry, headers):
    before = len(registry.layer("teams"))
    bad = ("名称,类型,人数,lon,lat\n"
           "good team,消防,4,9.52,47.14\n"
           "bad team,firemen,-3,9.52,47.14\n").encode("gbk")
    rejected = client.post("/api/layers/teams/import", headers=headers("planner"),
                           data={"file": (io.BytesIO(bad), "teams.csv"), "encoding": "gbk"},
                           content_type="multipart/form-data")
    assert rejected.status_code == 422
    problems = rejected.json["error"]["problems"]
    assert {p["field"] for p in problems} == {"类型", "人数"}
    assert {p["row"] for p in problems} == {"3"}
    assert len(registry.layer("teams")) == before
    good = bad.decode("gbk").replace("firemen,-3", "医疗,3").encode("gbk")
    imported = client.post("/api/layers/teams/import", headers=headers("planner"),
                           data={"file": (io.BytesIO(good), "teams.csv"), "encoding": "gbk"},
                           content_type="multipart/form-data")
    assert imported.status_code == 201 and imported.json["imported"] == 2
    assert len(registry.layer("teams")) == before + 2
    assert set(registry.layer("teams").loc[imported.json["ids"], "type"]) == {"fire", "medical"}


def test_import_needs_a_file_of_a_known_kind(client, headers):
    missing = client.post("/api/layers/teams/import", headers=headers("planner"), data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.json["error"]["field"] == "file"
    odd = client.post("/api/layers/teams/import", headers=headers("planner"),
                      data={"file": (io.BytesIO(b"x"), "teams.exe")},
                      content_type="multipart/form-data")
    assert odd.status_code == 422 and odd.json["error"]["field"] == "file"
    unknown = client.post("/api/layers/rivers/import", headers=headers("planner"),
                          data={"file": (io.BytesIO(b"x"), "r.csv")},
                          content_type="multipart/form-data")
    assert unknown.status_code == 422 and unknown.json["error"]["field"] == "layer"


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "shp"])
def test_export_every_format_reads_back(client, registry, headers, tmp_path, fmt):
    response = client.get(f"/api/layers/depots/export?format={fmt}", headers=headers("viewer"))
    assert response.status_code == 200
    path = tmp_path / f"depots.{ {'shp': 'zip'}.get(fmt, fmt)}"
    path.write_bytes(response.data)
    if fmt == "csv":
        text = path.read_text(encoding="utf-8")
        assert len(text.strip().splitlines()) == len(registry.layer("depots")) + 1
        return
    frame = gpd.read_file(path)
    assert len(frame) == len(registry.layer("depots"))
    if fmt == "geojson":
        assert json.loads(response.data)["type"] == "FeatureCollection"
