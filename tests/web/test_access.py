"""Roles and access: every write endpoint refused to anonymous callers and viewers and accepted
for the role that may do it; tokens (hashed, revocable, expiring), sessions with CSRF, the
one-time password of the first admin, and rate-limited sign-in."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from geo.registry import database as db
from tests.web.conftest import PASSWORD
from web.openapi import OPERATIONS

VADUZ = [9.5209, 47.1410]


def _feature(layer: str) -> dict:
    properties = {"shelters": {"name": "new hall", "shelter_class": "emergency",
                               "capacity_people": 100},
                  "depots": {"name": "new depot"},
                  "teams": {"name": "new team", "type": "fire", "headcount": 5},
                  "hazards": {"name": "new hazard", "type": "flood", "radius_m": 50},
                  "incidents": {"name": "new incident", "type": "fire"},
                  "population": {"population": 10}}[layer]
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": VADUZ},
            "properties": properties}


def _write_requests(client, registry, admin: dict) -> list[tuple[str, str, dict, str]]:
    """(method, path, request kwargs, role that may) for every write endpoint, on fresh records
    made by the admin (so each request can succeed for the right role)."""
    team = registry.layer("teams").query("status == 'available'").index[0]
    depot = registry.layer("depots").index[0]
    incident = client.post("/collections/incidents/items", json=_feature("incidents"),
                           headers=admin).json["id"]

    def fresh(layer: str) -> tuple[str, dict]:
        made = client.post(f"/collections/{layer}/items", json=_feature(layer), headers=admin)
        return made.json["id"], {"If-Match": made.headers["ETag"]}

    requests = []
    for layer, role in (("shelters", "planner"), ("incidents", "dispatcher")):
        requests.append(("POST", f"/collections/{layer}/items", {"json": _feature(layer)}, role))
        item, match = fresh(layer)
        requests.append(("PUT", f"/collections/{layer}/items/{item}",
                         {"json": _feature(layer), "headers": match}, role))
        item, match = fresh(layer)
        requests.append(("PATCH", f"/collections/{layer}/items/{item}",
                         {"json": {"properties": {"name": "renamed"}}, "headers": match}, role))
        item, match = fresh(layer)
        requests.append(("DELETE", f"/collections/{layer}/items/{item}", {"headers": match},
                         role))
    csv_file = "name,type,headcount,lon,lat\nimported team,fire,4,9.52,47.14\n"
    requests += [
        ("POST", f"/api/incidents/{incident}/assign", {"json": {"team": team}}, "dispatcher"),
        ("POST", f"/api/teams/{team}/status",
         {"json": {"status": "en_route", "expected": ["assigned"]}}, "dispatcher"),
        ("POST", f"/api/teams/{team}/release", {"json": {}}, "dispatcher"),
        ("POST", f"/api/teams/{team}/position", {"json": {"at": VADUZ}}, "dispatcher"),
        ("PUT", f"/api/depots/{depot}/inventory/water", {"json": {"quantity": 10}}, "planner"),
        ("POST", "/api/layers/teams/import",
         {"data": {"file": (io.BytesIO(csv_file.encode()), "teams.csv")},
          "content_type": "multipart/form-data"}, "planner"),
        ("POST", "/api/users", {"json": {"name": "someone", "role": "viewer",
                                         "password": PASSWORD}}, "admin"),
        ("PATCH", "/api/users/viewer-user", {"json": {"disabled": False}}, "admin"),
        ("POST", "/api/tokens", {"json": {"user": "viewer-user"}}, "admin"),
        ("DELETE", "/api/tokens/1", {}, "admin"),
    ]
    return requests


WRITE_PERMISSIONS = {"dispatch", "edit", "import", "admin"}


def _is_write(op) -> bool:
    return op.method != "get" and (callable(op.permission) or op.permission in WRITE_PERMISSIONS)


def _template(path: str) -> str:
    """/collections/shelters/items/S-1 → the OpenAPI path it is an instance of."""
    for op in OPERATIONS:
        pattern = op.path.split("/")
        parts = path.split("/")
        if len(pattern) == len(parts) and all(
                p == q or (p.startswith("{") and q) for p, q in zip(pattern, parts)):
            return op.path
    raise AssertionError(f"no operation for {path}")


def test_every_write_endpoint_is_refused_to_anonymous_and_viewers_and_allowed_to_its_role(
        client, registry, headers):
    requests = _write_requests(client, registry, headers("admin"))
    covered = {(method.lower(), _template(path)) for method, path, _, _ in requests}
    writes = {(op.method, op.path) for op in OPERATIONS if _is_write(op)}
    assert writes <= covered, f"write endpoints without an access test: {writes - covered}"
    for method, path, kwargs, role in requests:
        for caller, status in ((None, 401), ("viewer", 403)):
            sent = dict(kwargs, headers={**kwargs.get("headers", {}), **headers(caller)})
            if "data" in sent:  # a file object is read once: give each request its own
                sent["data"] = {"file": (io.BytesIO(b"name\n"), "teams.csv")}
            refused = client.open(path, method=method, **sent)
            assert refused.status_code == status, (method, path, caller, refused.json)
            assert refused.json["error"]["code"] in ("unauthorized", "forbidden")
        allowed = client.open(path, method=method,
                              **dict(kwargs, headers={**kwargs.get("headers", {}),
                                                      **headers(role)}))
        assert allowed.status_code < 300, (method, path, role, allowed.json)


def test_refused_writes_change_nothing(client, registry, headers):
    before = registry.layer("shelters")
    response = client.post("/collections/shelters/items", json=_feature("shelters"),
                           headers=headers("viewer"))
    assert response.status_code == 403
    assert response.json["error"]["field"] == "role"
    assert len(registry.layer("shelters")) == len(before)
    assert registry.audit_log(layer="shelters", limit=1)["actor"].tolist() != ["web:viewer-user"]


def test_a_dispatcher_may_not_edit_shelters_and_a_planner_may_not_assign(client, registry,
                                                                         headers):
    assert client.post("/collections/shelters/items", json=_feature("shelters"),
                       headers=headers("dispatcher")).status_code == 403
    incident = client.post("/collections/incidents/items", json=_feature("incidents"),
                           headers=headers("dispatcher")).json["id"]
    team = registry.layer("teams").query("status == 'available'").index[0]
    refused = client.post(f"/api/incidents/{incident}/assign", json={"team": team},
                          headers=headers("planner"))
    assert refused.status_code == 403
    assert registry.get("teams", team)["status"] == "available"


def test_tokens_are_stored_hashed_shown_once_and_revocable(client, registry, tokens, headers):
    token = tokens["viewer"]
    with registry.engine.connect() as conn:
        stored = conn.execute(db.api_tokens.select()).mappings().all()
    assert all(token not in json.dumps(dict(row), default=str) for row in stored)
    listed = client.get("/api/tokens", headers=headers("admin")).json["tokens"]
    assert all("token" not in entry for entry in listed)
    mine = next(t for t in listed if t["user"] == "viewer-user")
    assert client.get("/collections", headers=headers("viewer")).status_code == 200
    assert client.delete(f"/api/tokens/{mine['id']}", headers=headers("admin")).status_code == 204
    refused = client.get("/collections", headers=headers("viewer"))
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "invalid_token"
    again = client.delete(f"/api/tokens/{mine['id']}", headers=headers("admin"))
    assert again.status_code == 409


def test_an_expired_token_is_refused(client, registry, tokens, headers):
    table = db.api_tokens
    with registry.engine.begin() as conn:
        conn.execute(update(table).values(expires_at=db.utc_now() - timedelta(seconds=1)))
    response = client.get("/collections", headers=headers("viewer"))
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_token"


def test_an_unknown_token_is_an_error_not_anonymous(client):
    response = client.get("/collections", headers={"Authorization": "Bearer geo_nonsense"})
    assert response.status_code == 401
    assert response.json["error"]["field"] == "Authorization"


def test_a_created_token_works_once_shown(client, headers):
    created = client.post("/api/tokens", json={"user": "planner-user", "label": "qgis"},
                          headers=headers("admin"))
    assert created.status_code == 201
    token = created.json["token"]
    assert client.get("/collections", headers={"Authorization": f"Bearer {token}"}).status_code \
        == 200


def _sign_in(client, name: str, password: str):
    csrf = client.get("/api/session").json["csrf_token"]
    return client.post("/api/session", json={"name": name, "password": password},
                       headers={"X-CSRF-Token": csrf})


def test_session_sign_in_and_csrf_on_state_changing_requests(client, registry, tokens):
    signed_in = _sign_in(client, "dispatcher-user", PASSWORD)
    assert signed_in.status_code == 200 and signed_in.json["role"] == "dispatcher"
    csrf = signed_in.json["csrf_token"]
    assert client.get("/collections/teams/items").status_code == 200  # reads need no token
    no_csrf = client.post("/collections/incidents/items", json=_feature("incidents"))
    assert no_csrf.status_code == 403 and no_csrf.json["error"]["code"] == "csrf"
    wrong = client.post("/collections/incidents/items", json=_feature("incidents"),
                        headers={"X-CSRF-Token": "x" + csrf})
    assert wrong.status_code == 403
    made = client.post("/collections/incidents/items", json=_feature("incidents"),
                       headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    assert client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/collections").status_code == 401


def test_sign_in_needs_the_csrf_token(client, tokens):
    client.get("/api/session")
    response = client.post("/api/session", json={"name": "viewer-user", "password": PASSWORD})
    assert response.status_code == 403 and response.json["error"]["code"] == "csrf"


def test_sign_in_is_rate_limited_per_name(client, app, tokens):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _sign_in(client, "viewer-user", "wrong password").status_code == 401
    blocked = _sign_in(client, "viewer-user", PASSWORD)  # even the right one, for a while
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert _sign_in(client, "planner-user", PASSWORD).status_code == 429  # same address


def test_passwords_are_hashed_with_scrypt(registry, tokens):
    with registry.engine.connect() as conn:
        hashes = [row.password_hash for row in conn.execute(db.users.select())]
    assert hashes and all(h.startswith("scrypt:") and PASSWORD not in h for h in hashes)


def test_first_admin_gets_a_one_time_password_to_change(app, client):
    password = app.extensions["geo"].first_password
    assert password and len(password) >= 12
    signed_in = _sign_in(client, "admin", password)
    assert signed_in.status_code == 200 and signed_in.json["must_change_password"]
    csrf = signed_in.json["csrf_token"]
    blocked = client.get("/collections")
    assert blocked.status_code == 403
    assert blocked.json["error"]["code"] == "password_change_required"
    changed = client.post("/api/session/password", json={"current": password,
                                                         "new": "a new long password"},
                          headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200 and not changed.json["must_change_password"]
    assert client.get("/collections").status_code == 200


def test_the_first_admin_is_made_once(app, tmp_path, demo_file, cache_dir):
    from tests.web.conftest import create_app
    db_url = app.config["DB_URL"]
    again = create_app({"TESTING": True, "DB_URL": db_url, "CACHE_DIR": str(cache_dir),
                        "INSTANCE_PATH": str(tmp_path / "instance"), "NETWORK_MODES": []})
    assert again.extensions["geo"].first_password is None
    assert [a.name for a in again.extensions["geo"].registry().accounts()] == ["admin"]


@pytest.mark.parametrize("role", ["viewer", "dispatcher", "planner"])
def test_only_admins_manage_accounts(client, headers, role):
    assert client.get("/api/users", headers=headers(role)).status_code == 403
    assert client.get("/api/users", headers=headers("admin")).status_code == 200
