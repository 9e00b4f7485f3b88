"""What the map needs besides the features: every layer's write count (polled to stay current)
and every layer's fields with their allowed values (to build forms)."""

from __future__ import annotations

from geo.core.vocabulary import TEAM_STATUSES
from geo.registry.schema import LAYERS


def test_a_write_moves_its_layers_count_and_no_other(client, headers, registry):
    before = client.get("/api/revisions", headers=headers("viewer")).json["revisions"]
    assert set(LAYERS) <= set(before)
    team = registry.layer("teams").index[0]
    moved = client.post(f"/api/teams/{team}/position", json={"at": [9.52, 47.15]},
                        headers=headers("dispatcher"))
    assert moved.status_code == 200
    after = client.get("/api/revisions", headers=headers("viewer")).json["revisions"]
    assert after["teams"] == before["teams"] + 1
    assert after["incidents"] == before["incidents"] + 1  # incidents show their teams
    assert {k: v for k, v in after.items() if k not in ("teams", "incidents")} == \
        {k: v for k, v in before.items() if k not in ("teams", "incidents")}


def test_revisions_need_a_reader(client):
    assert client.get("/api/revisions").status_code == 401


def test_layer_fields_with_their_allowed_values(client, headers, registry):
    answer = client.get("/api/layers", headers=headers("viewer")).json
    teams = {f["name"]: f for f in answer["layers"]["teams"]["fields"]}
    assert teams["status"]["choices"] == list(TEAM_STATUSES)
    assert teams["headcount"]["required"] and teams["headcount"]["kind"] == "int"
    shelters = {f["name"]: f for f in answer["layers"]["shelters"]["fields"]}
    # Allowed values that are data: the standards' classes, the catalogue's items.
    assert shelters["shelter_class"]["choices"] == list(registry.standards.classes)
    inventory = {f["name"]: f for f in answer["layers"]["inventory"]["fields"]}
    assert inventory["item"]["choices"] == list(registry.catalogue().index)
    assert answer["items"]["water"]["zh"] == "饮用水"
    assert answer["layers"]["inventory"]["geometry_types"] == []
    assert "Polygon" in answer["layers"]["shelters"]["geometry_types"]


def test_every_problem_of_a_record_is_listed_with_its_field(client, headers, registry):
    before = len(registry.layer("shelters"))
    answer = client.post("/collections/shelters/items", headers={
        **headers("planner"), "Content-Type": "application/geo+json"}, json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [9.52, 47.14]},
        "properties": {"shelter_class": "emergency", "capacity_people": -5, "status": "x"}})
    assert answer.status_code == 422
    problems = {p["field"]: p["problem"] for p in answer.json["error"]["problems"]}
    assert set(problems) == {"capacity_people", "status"}
    assert problems["capacity_people"] == "-5 is negative (must be ≥ 0)"
    assert len(registry.layer("shelters")) == before
