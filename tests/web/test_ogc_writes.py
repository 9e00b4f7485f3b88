"""Changing the layers through OGC API – Features (Part 4): who may, the If-Match a change
needs, what a refused change leaves (nothing), and the audit entry each change leaves."""

from __future__ import annotations

import json

import pytest

from geo.registry.records import record_tag

GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
# A small hall in Vaduz, about 20 m by 20 m.
HALL = {"type": "Polygon", "coordinates": [[[9.5200, 47.1400], [9.5203, 47.1400],
                                            [9.5203, 47.1402], [9.5200, 47.1402],
                                            [9.5200, 47.1400]]]}


def shelter(registry, **properties) -> dict:
    shelter_class = registry.layer("shelters")["shelter_class"].iloc[0]
    return {"type": "Feature", "geometry": HALL,
            "properties": {"name": "Gemeindesaal", "shelter_class": shelter_class,
                           "capacity_people": 40, **properties}}


def incident() -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.5210, 47.1410]},
            "properties": {"type": "fire", "severity": 3, "name": "Scheunenbrand"}}


def post(client, layer: str, feature: dict, headers: dict):
    return client.post(f"/collections/{layer}/items", data=json.dumps(feature),
                       content_type=GEOJSON, headers=headers)


def audit_actions(registry, layer: str, record_id: str) -> list[str]:
    """The audit log's actions on a record, oldest first."""
    return list(registry.audit_log(layer=layer, record_id=record_id)["action"])[::-1]


@pytest.fixture
def hall(client, headers, registry) -> tuple[str, str]:
    """A shelter added by a planner: its item path and ETag."""
    response = post(client, "shelters", shelter(registry), headers("planner"))
    assert response.status_code == 201, response.get_data(as_text=True)
    record_id = response.get_json(force=True)["id"]
    return f"/collections/shelters/items/{record_id}", response.headers["ETag"]


def stored_tag(registry, path: str) -> str:
    layer, record_id = path.split("/")[2], path.split("/")[-1]
    return f'"{record_tag(registry.get(layer, record_id))}"'


# ---- creating ---------------------------------------------------------------------------------


def test_a_planner_adds_a_shelter(client, headers, registry):
    response = post(client, "shelters", shelter(registry), headers("planner"))
    assert response.status_code == 201
    assert response.mimetype == GEOJSON
    record_id = response.get_json(force=True)["id"]
    assert response.headers["Location"].endswith(f"/collections/shelters/items/{record_id}")
    assert response.headers["ETag"] == f'"{record_tag(registry.get("shelters", record_id))}"'
    assert registry.get("shelters", record_id)["name"] == "Gemeindesaal"
    read = client.get(response.headers["Location"], headers=headers("viewer"))
    assert read.status_code == 200
    assert read.get_json(force=True)["properties"]["capacity_people"] == 40
    assert read.headers["ETag"] == response.headers["ETag"]
    log = registry.audit_log(layer="shelters", record_id=record_id)
    assert list(log["action"]) == ["insert"]
    assert list(log["actor"]) == ["web:planner-user"]


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("dispatcher", 403),
                                              (None, 401)])
def test_only_planners_add_shelters(client, headers, registry, role, status):
    before = len(registry.layer("shelters"))
    response = post(client, "shelters", shelter(registry), headers(role))
    assert response.status_code == status
    assert len(registry.layer("shelters")) == before


def test_a_dispatcher_reports_an_incident(client, headers, registry):
    response = post(client, "incidents", incident(), headers("dispatcher"))
    assert response.status_code == 201
    record_id = response.get_json(force=True)["id"]
    assert registry.get("incidents", record_id)["type"] == "fire"
    assert audit_actions(registry, "incidents", record_id) == ["insert"]


def test_a_viewer_may_not_report_an_incident(client, headers, registry):
    assert post(client, "incidents", incident(), headers("viewer")).status_code == 403
    assert len(registry.layer("incidents")) == 0


def test_a_new_feature_with_a_bad_value_is_422_naming_it(client, headers, registry):
    before = len(registry.layer("shelters"))
    response = post(client, "shelters", shelter(registry, capacity_people=-1),
                    headers("planner"))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "capacity_people"
    assert len(registry.layer("shelters")) == before


# ---- changing and deleting need If-Match ------------------------------------------------------


def edits(registry) -> dict[str, tuple[str, dict]]:
    """A replacement, a merge patch and a delete of the hall, as (method, request options)."""
    replacement = shelter(registry, name="Gemeindesaal Vaduz", capacity_people=35)
    return {"PUT": ("PUT", {"data": json.dumps(replacement), "content_type": GEOJSON}),
            "PATCH": ("PATCH", {"data": json.dumps({"properties": {"capacity_people": 30}}),
                                "content_type": MERGE_PATCH}),
            "DELETE": ("DELETE", {})}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_change_without_if_match_is_428(client, headers, registry, hall, method):
    path, etag = hall
    _, options = edits(registry)[method]
    response = client.open(path, method=method, headers=headers("planner"), **options)
    assert response.status_code == 428
    assert response.get_json()["error"]["field"] == "If-Match"
    assert stored_tag(registry, path) == etag


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_change_based_on_a_stale_copy_is_412(client, headers, registry, hall, method):
    path, stale = hall
    newer = client.patch(path, data=json.dumps({"properties": {"occupancy": 5}}),
                         content_type=MERGE_PATCH,
                         headers={**headers("planner"), "If-Match": stale})
    assert newer.status_code == 200
    current = newer.headers["ETag"]
    _, options = edits(registry)[method]
    response = client.open(path, method=method, **options,
                           headers={**headers("planner"), "If-Match": stale})
    assert response.status_code == 412
    assert f'"{response.get_json()["error"]["current_etag"]}"' == current
    assert stored_tag(registry, path) == current


def test_put_replaces_the_feature(client, headers, registry, hall):
    path, etag = hall
    _, options = edits(registry)["PUT"]
    response = client.put(path, **options, headers={**headers("planner"), "If-Match": etag})
    assert response.status_code == 200
    record = registry.get("shelters", path.split("/")[-1])
    assert (record["name"], record["capacity_people"]) == ("Gemeindesaal Vaduz", 35)
    assert response.headers["ETag"] == stored_tag(registry, path) != etag
    assert audit_actions(registry, "shelters", record["id"]) == ["insert", "update"]


def test_patch_changes_only_the_properties_given(client, headers, registry, hall):
    path, etag = hall
    _, options = edits(registry)["PATCH"]
    response = client.patch(path, **options, headers={**headers("planner"), "If-Match": etag})
    assert response.status_code == 200
    record = registry.get("shelters", path.split("/")[-1])
    assert (record["name"], record["capacity_people"]) == ("Gemeindesaal", 30)
    assert response.get_json(force=True)["properties"]["capacity_people"] == 30
    assert response.headers["ETag"] == stored_tag(registry, path)
    assert audit_actions(registry, "shelters", record["id"]) == ["insert", "update"]


def test_patch_may_move_the_feature(client, headers, registry, hall):
    path, etag = hall
    moved = {"type": "Polygon", "coordinates": [[[x + 0.001, y] for x, y in ring]
                                                for ring in HALL["coordinates"]]}
    response = client.patch(path, data=json.dumps({"geometry": moved}),
                            content_type=MERGE_PATCH,
                            headers={**headers("planner"), "If-Match": etag})
    assert response.status_code == 200
    geometry = registry.get("shelters", path.split("/")[-1])["geometry"]
    assert geometry.bounds[0] == pytest.approx(9.5210)


def test_delete_removes_the_feature(client, headers, registry, hall):
    path, etag = hall
    response = client.delete(path, headers={**headers("planner"), "If-Match": etag})
    assert response.status_code == 204
    assert client.get(path, headers=headers("viewer")).status_code == 404
    assert audit_actions(registry, "shelters", path.split("/")[-1]) == ["insert", "delete"]


def test_a_patch_with_a_bad_value_is_422_naming_the_field_and_changes_nothing(
        client, headers, registry, hall):
    path, etag = hall
    response = client.patch(path, data=json.dumps({"properties": {"capacity_people": -5}}),
                            content_type=MERGE_PATCH,
                            headers={**headers("planner"), "If-Match": etag})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == "capacity_people" and "capacity_people" in error["message"]
    assert stored_tag(registry, path) == etag
    assert audit_actions(registry, "shelters", path.split("/")[-1]) == ["insert"]


def test_a_viewer_may_not_change_a_shelter(client, headers, registry, hall):
    path, etag = hall
    response = client.delete(path, headers={**headers("viewer"), "If-Match": etag})
    assert response.status_code == 403
    assert stored_tag(registry, path) == etag


def test_a_dispatcher_may_not_change_a_shelter_but_may_close_an_incident(client, headers,
                                                                         registry, hall):
    path, etag = hall
    dispatcher = headers("dispatcher")
    patch = json.dumps({"properties": {"capacity_people": 10}})
    refused = client.patch(path, data=patch, content_type=MERGE_PATCH,
                           headers={**dispatcher, "If-Match": etag})
    assert refused.status_code == 403
    created = post(client, "incidents", incident(), dispatcher)
    incident_path = f"/collections/incidents/items/{created.get_json(force=True)['id']}"
    closed = client.patch(incident_path, data=json.dumps({"properties": {"status": "closed"}}),
                          content_type=MERGE_PATCH,
                          headers={**dispatcher, "If-Match": created.headers["ETag"]})
    assert closed.status_code == 200, closed.get_data(as_text=True)
    assert closed.get_json(force=True)["properties"]["status"] == "closed"


def test_changing_an_unknown_feature_is_404(client, headers):
    response = client.delete("/collections/shelters/items/S-no-such-hall",
                             headers={**headers("planner"), "If-Match": '"0"'})
    assert response.status_code == 404


def test_adding_a_feature_with_a_taken_id_is_409(client, headers, registry, hall):
    hall_id = hall[0].rsplit("/", 1)[1]
    before = registry.get("shelters", hall_id)
    again = post(client, "shelters", {**shelter(registry, name="another"), "id": hall_id},
                 headers("planner"))
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    assert hall_id in again.json["error"]["message"]
    assert registry.get("shelters", hall_id) == before
