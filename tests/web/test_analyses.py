"""The analyses over HTTP: the same answers as the application layer with the CLI's defaults,
jobs for the long ones, and every kind of bad input a clear 4xx naming the field."""

from __future__ import annotations

import sqlite3

import pytest

from geo import services
from tests.web.job_polling import wait_for_job

SCHAAN = [9.5100, 47.1650]  # lon, lat


def test_dispatch_answers_as_the_application_layer_does_with_the_cli_defaults(app, client,
                                                                              headers):
    response = client.post("/api/dispatch", json={"at": SCHAAN, "items": {"饮用水": 500}},
                           headers=headers("viewer"))
    assert response.status_code == 200
    body = response.json
    expected = services.dispatch(app.extensions["geo"].context(), at=tuple(SCHAAN),
                                 items={"water": 500}).to_dict()
    assert [t["id"] for t in body["teams"]] == [t["id"] for t in expected["teams"]]
    assert len(body["teams"]) == 5  # the CLI's --k
    assert [t["eta_s"] for t in body["teams"]] == pytest.approx(
        [t["eta_s"] for t in expected["teams"]])
    assert len(body["shelters"]) == 3  # the CLI's --shelters
    assert body["supplies"]["allocation"] == expected["supplies"]["allocation"]
    entries = body["teams"] + body["shelters"] + [
        d for d in body["supplies"]["depots"] if d["route"] is not None]
    assert all(e["route"]["type"] == "LineString" and len(e["route"]["coordinates"]) >= 2
               for e in entries)
    assert body["teams"][0]["route"] == expected["teams"][0]["route"]
    assert body["attribution"].startswith("©")


def test_dispatch_by_type_in_chinese(client, headers):
    body = client.post("/api/dispatch", json={"at": SCHAAN, "team_types": ["消防"], "k": 2},
                       headers=headers("viewer")).json
    assert body["teams"] and {t["type"] for t in body["teams"]} == {"fire"}


def test_service_areas_run_as_a_job_with_progress_then_the_result(app, client, headers):
    accepted = client.post("/api/service-areas", json={"breaks": [5, 10]},
                           headers=headers("viewer"))
    assert accepted.status_code == 202
    assert accepted.headers["Location"] == accepted.json["href"]
    job = wait_for_job(client, accepted.json["href"], headers("viewer"))
    assert job["status"] == "done" and job["progress"] == 1.0
    expected = services.service_areas(app.extensions["geo"].context(), breaks_s=[300, 600])
    areas = job["result"]["areas"]
    assert len(areas) == len(expected.areas)
    assert sorted(a["area_m2"] for a in areas) == pytest.approx(
        sorted(expected.areas["area_m2"]))
    assert len(job["result"]["features"]["features"]) == len(areas)


def test_filled_service_areas_over_http_are_the_application_layers(app, client, headers):
    accepted = client.post("/api/service-areas",
                           json={"breaks": [10], "form": "filled", "fill_m": 150},
                           headers=headers("viewer"))
    job = wait_for_job(client, accepted.json["href"], headers("viewer"))
    ctx = app.extensions["geo"].context()
    filled = services.service_areas(ctx, breaks_s=[600], form="filled", fill_m=150)
    band = services.service_areas(ctx, breaks_s=[600])
    area_m2 = job["result"]["areas"][0]["area_m2"]
    assert area_m2 == pytest.approx(filled.areas["area_m2"].iloc[0])
    assert area_m2 > band.areas["area_m2"].iloc[0]


@pytest.mark.parametrize("body, field", [({"breaks": [10], "form": "blob"}, "form"),
                                         ({"breaks": [10], "fill_m": -3}, "fill_m"),
                                         ({"breaks": [10], "buffer_m": 0}, "buffer_m")])
def test_bad_service_area_shapes_are_refused_naming_the_field(client, headers, body, field):
    answer = client.post("/api/service-areas", json=body, headers=headers("viewer"))
    assert answer.status_code == 422
    assert answer.json["error"]["field"] == field


def test_coverage_job_with_demand_given_as_geojson(client, headers):
    demand = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": SCHAAN},
         "properties": {"population": 120}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.5209, 47.1410]},
         "properties": {"population": 80}}]}
    accepted = client.post("/api/coverage", json={"breaks": [15], "demand": demand},
                           headers=headers("viewer"))
    job = wait_for_job(client, accepted.json["href"], headers("viewer"))
    summary = job["result"]["summary"]
    assert summary[0]["total"] == 200 and summary[0]["break"] == 900


def test_a_failed_job_says_why_with_the_field(client, headers):
    accepted = client.post("/api/coverage", json={"layer": "teams", "mode": "walk",
                                                  "direction": "from", "breaks": [1],
                                                  "unit": "m", "demand_column": "people",
                                                  "demand": {"type": "FeatureCollection",
                                                             "features": []}},
                           headers=headers("viewer"))
    assert accepted.status_code == 422  # checked before any job starts
    assert accepted.json["error"]["field"] == "demand_column"


def test_an_unknown_job_is_404(client, headers):
    response = client.get("/api/jobs/nope", headers=headers("viewer"))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_exposure(client, registry, headers):
    body = client.post("/api/exposure", json={}, headers=headers("viewer")).json
    assert len(body["hazards"]) == len(registry.layer("hazards"))
    assert len(body["features"]["features"]) == len(body["hazards"])


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "at"),
    ({"at": [9.51]}, "at.1"),
    ({"at": ["9.51", "47.16"]}, "at.0"),  # strings are not numbers
    ({"at": [200, 47.16]}, "at.0"),
    ({"at": [9.51, 95]}, "at.1"),
    ({"at": SCHAAN, "k": 0}, "k"),
    ({"at": SCHAAN, "k": "5"}, "k"),
    ({"at": SCHAAN, "k": 2.5}, "k"),
    ({"at": SCHAAN, "items": {"water": -1}}, "items.water"),
    ({"at": SCHAAN, "team_types": "fire"}, "team_types"),
    ({"at": SCHAAN, "colour": "red"}, "colour"),
])
def test_bad_dispatch_input_names_the_field(client, headers, payload, field):
    response = client.post("/api/dispatch", json=payload, headers=headers("viewer"))
    assert response.status_code == 422
    assert response.json["error"]["field"] == field
    assert response.json["error"]["message"].startswith(f"{field}: ")


@pytest.mark.parametrize(("payload", "field", "words"), [
    ({"at": SCHAAN, "team_types": ["firemen"]}, "team_types", "not a known team type"),
    ({"at": SCHAAN, "items": {"gold": 1}}, "items", "gold"),
    ({"at": [47.1650, 9.5100]}, "at", "swapped"),
])
def test_unknown_names_and_swapped_coordinates_are_errors_not_empty_answers(client, headers,
                                                                            payload, field,
                                                                            words):
    response = client.post("/api/dispatch", json=payload, headers=headers("viewer"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == field
    assert words in response.json["error"]["message"]


def test_non_json_bodies_are_415_and_malformed_json_400(client, headers):
    as_form = client.post("/api/dispatch", data={"at": "9.5,47.1"}, headers=headers("viewer"))
    assert as_form.status_code == 415 and as_form.json["error"]["field"] == "Content-Type"
    broken = client.post("/api/dispatch", data="{\"at\": [9.5,", headers=headers("viewer"),
                         content_type="application/json")
    assert broken.status_code == 400 and broken.json["error"]["code"] == "bad_json"


def test_oversized_bodies_are_413(app, client, headers):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/dispatch", data="[" + "1," * 2000 + "1]",
                           content_type="application/json", headers=headers("viewer"))
    assert response.status_code == 413
    assert response.json["error"]["code"]


def test_unknown_routes_and_methods_answer_json(client, headers):
    missing = client.get("/api/nothing", headers=headers("viewer"))
    assert missing.status_code == 404 and missing.is_json
    wrong = client.get("/api/dispatch", headers=headers("viewer"))
    assert wrong.status_code == 405 and wrong.is_json and "POST" in wrong.headers["Allow"]


def test_unexpected_errors_are_json_without_details(app, client, registry, headers):
    with sqlite3.connect(registry.url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP TABLE hazards")  # a real fault: the database lost a table
    response = client.post("/api/exposure", json={}, headers=headers("viewer"))
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal"
    text = response.get_data(as_text=True)
    assert "hazards" not in text and "Traceback" not in text and "<html" not in text.lower()
