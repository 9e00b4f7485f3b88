"""The OpenAPI 3.1 document: every route in it with each of its methods, made from the very
models that validate the requests, valid OpenAPI 3.1, every error status a route gives
documented; and the interactive page to try it, served without outside requests."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest
import schemathesis

from web.openapi import OPERATIONS, error_statuses

# Methods Flask adds to every rule by itself (HEAD answers as GET, OPTIONS lists the methods):
# no view of ours handles them, so they are not operations of the API.
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}
# Flask's static files (the app serves none: web/ has no static folder; the interactive page's
# assets are documented routes of their own, /api/docs/{name}), and the map UI's pages, files
# and basemap tiles (blueprint "ui"): pages for browsers, not operations of the API.
UNDOCUMENTED_ENDPOINTS = {"static"}
UI_BLUEPRINT = "ui."


@pytest.fixture
def document(client) -> dict:
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.json


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_every_route_is_documented_with_each_of_its_methods(app, document):
    routes = {(_openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules()
              if rule.endpoint not in UNDOCUMENTED_ENDPOINTS
              and not rule.endpoint.startswith(UI_BLUEPRINT)
              for method in rule.methods - AUTOMATIC_METHODS}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item}
    assert routes == documented
    assert ("/api/tokens/{token_id}", "delete") in documented  # <int:token_id> converted
    assert len(routes) > 30


def test_request_schemas_are_the_models_that_validate_the_requests(document):
    components = document["components"]["schemas"]
    checked = 0
    for op in OPERATIONS:
        spec = document["paths"][op.path][op.method]
        if op.body is not None:
            ref = spec["requestBody"]["content"][op.body_media]["schema"]["$ref"]
            own = op.body.model_json_schema(ref_template="#/components/schemas/{model}")
            defs = own.pop("$defs", {})
            assert components[ref.rsplit("/", 1)[1]] == own, op.endpoint
            for name, schema in defs.items():
                assert components[name] == schema, (op.endpoint, name)
            checked += 1
        if op.query is not None:
            properties = op.query.model_json_schema()["properties"]
            query = {p["name"]: p["schema"] for p in spec["parameters"] if p["in"] == "query"}
            assert set(query) == set(properties), op.endpoint
            for name, schema in query.items():
                assert schema == {k: v for k, v in properties[name].items() if k != "title"}
    assert checked >= 15


def test_the_import_form_documents_its_file(document):
    form = document["paths"]["/api/layers/{layer}/import"]["post"]["requestBody"]["content"]
    schema = document["components"]["schemas"][
        form["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]]
    file = schema["properties"]["file"]
    assert file["type"] == "string" and file["format"] == "binary"  # an upload
    assert schema["required"] == ["file"]


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name  # JSON Schema 2020-12
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', str(document)
                          .replace("'", '"')))
    assert refs and refs <= set(document["components"]["schemas"])


def test_a_broken_document_is_refused_by_the_validation(document):
    """The validation above refuses what is not OpenAPI 3.1 (it would not pass anything)."""
    broken = {**document, "paths": {"/api/health": {"get": {"responses": {"200": 5}}}}}
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(broken).validate()


def test_errors_are_documented_with_the_error_schema(document):
    for op in OPERATIONS:
        responses = document["paths"][op.path][op.method]["responses"]
        assert "default" not in responses  # every status listed, so a new one is noticed
        for status in error_statuses(op):
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (op.endpoint, status)
    token = document["paths"]["/api/tokens/{token_id}"]["delete"]
    assert set(token["responses"]) == {"204", "401", "403", "404", "409", "429", "503"}
    item = document["paths"]["/collections/{layer}/items/{item_id}"]["put"]["responses"]
    assert {"400", "412", "415", "422", "428"} <= set(item)


def _example_path(op) -> str:
    def value(match: re.Match) -> str:
        schema = op.path_schemas.get(match.group(1), {})
        return str(schema["enum"][0]) if "enum" in schema else (
            "1" if schema.get("type") == "integer" else "x")

    return re.sub(r"{(\w+)}", value, op.path)


def test_refusals_of_anonymous_callers_are_documented(client, document):
    """Every operation that needs a permission refuses an anonymous caller with a documented
    401 (and one that does not answers with a documented status)."""
    for op in OPERATIONS:
        answer = client.open(_example_path(op), method=op.method.upper(), buffered=True)
        documented = document["paths"][op.path][op.method]["responses"]
        assert str(answer.status_code) in documented, (op.endpoint, answer.status_code)
        if op.permission is not None:
            assert answer.status_code == 401, op.endpoint
            assert answer.json["error"]["field"] == "Authorization"


def test_a_huge_token_id_is_not_found(client, headers, document):
    schema = next(p["schema"] for p in document["paths"]["/api/tokens/{token_id}"]["delete"]
                  ["parameters"] if p["name"] == "token_id")
    assert schema == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    for token_id in (2**63 - 1, 2**63, 10**40):
        answer = client.delete(f"/api/tokens/{token_id}", headers=headers("admin"))
        assert answer.status_code == 404 and answer.json["error"]["field"] == "token"


def test_times_are_iso_8601(client, headers):
    created = client.post("/api/tokens", json={"user": "viewer-user", "expires_days": 1},
                          headers=headers("admin"))
    assert created.status_code == 201
    listed = client.get("/api/tokens", headers=headers("admin")).json["tokens"]
    mine = next(t for t in listed if t["id"] == created.json["id"])
    for when in (created.json["created_at"], mine["created_at"], mine["expires_at"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", when), when


def test_the_interactive_page_loads_only_assets_of_the_service(client, document):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    urls = re.findall(r'(?:src|href|url)\s*[:=]\s*"([^"]+)"', text)
    assert urls and all(u.startswith("/api/") for u in urls)
    documented = set(document["paths"]["/api/docs/{name}"]["get"]["responses"]["200"]
                     ["content"])
    for url in urls:
        with client.get(url) as asset:  # closed: a file is streamed
            assert asset.status_code == 200, url
            if url != "/api/openapi.json":
                assert asset.mimetype in documented, url
    assert client.get("/api/docs/../../etc/passwd").status_code == 404
    assert client.get("/api/docs/index.html").status_code == 404


def test_exports_have_the_documented_media_type_of_their_format(client, headers, document):
    content = document["paths"]["/api/layers/{layer}/export"]["get"]["responses"]["200"][
        "content"]
    for fmt in ("geojson", "csv", "gpkg", "shp"):
        answer = client.get(f"/api/layers/depots/export?format={fmt}", headers=headers("viewer"))
        assert answer.status_code == 200 and answer.mimetype in content, fmt
