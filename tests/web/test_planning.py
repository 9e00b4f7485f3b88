"""Siting and evacuation over HTTP, as jobs: the same answers as the application layer called
directly, matrix siting against a brute force over every combination of sites, bad input a 422
naming the field (before any job where it can be known then, else the job's error)."""

from __future__ import annotations

import itertools
import sqlite3

import numpy as np
import pytest

from geo import services
from geo.io.shelter_sites import osm_candidate_sites
from tests.web.job_polling import wait_for_job

FLOOD = "H-flood-rhine"  # the demo's flood band; inactive, so named as a planning scenario


def _jobs(registry) -> int:
    with sqlite3.connect(registry.url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT count(*) FROM jobs").fetchone()[0]


def _run(client, path: str, payload: dict, headers: dict) -> dict:
    accepted = client.post(path, json=payload, headers=headers)
    assert accepted.status_code == 202, accepted.json
    assert accepted.headers["Location"] == accepted.json["href"]
    return wait_for_job(client, accepted.json["href"], headers)


# ---- siting on the road network ----------------------------------------------------------


@pytest.fixture
def mclp(app, client, headers) -> tuple[dict, object]:
    """The job's result for mclp with 2 new sites, and the application layer's own answer."""
    job = _run(client, "/api/siting", {"problem": "mclp", "p": 2}, headers("viewer"))
    assert job["status"] == "done", job["error"]
    assert job["progress"] == 1.0
    direct = services.site(app.extensions["geo"].context(), problem="mclp", p=2)
    return job["result"], direct


def test_siting_job_chooses_among_the_candidates_with_before_and_after(app, mclp):
    result, _ = mclp
    assert result["status"] == "optimal" and result["gap"] == 0
    assert result["objective"] > 0
    assert len(result["sites"]) == 2 and result["kept"] == []
    ctx = app.extensions["geo"].context()
    candidates = osm_candidate_sites(ctx.source.osm_path, standards=ctx.registry.standards,
                                     shelter_class=None)
    assert set(result["sites"]) <= set(candidates.index)
    assert [s["id"] for s in result["new_sites"]] == result["sites"]
    assert {row["scenario"] for row in result["before_after"]} == {"before", "after"}
    features = result["features"]["features"]
    assert sorted(f["properties"]["id"] for f in features) == sorted(result["sites"])
    assert all(f["geometry"]["type"] == "Point" for f in features)
    assert result["attribution"].startswith("©")


def test_siting_job_answers_as_the_application_layer(mclp):
    result, direct = mclp
    assert sorted(result["sites"]) == sorted(direct.solution.sites)
    assert result["objective"] == pytest.approx(direct.solution.objective)
    assert result["before_after"] == direct.to_dict()["before_after"]


def test_siting_among_candidates_given_as_geojson(client, headers, mclp):
    _, direct = mclp
    chosen = direct.features()
    candidates = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"c{n}", "properties": {"capacity_people": 500},
         "geometry": {"type": "Point", "coordinates": [point.x, point.y]}}
        for n, point in enumerate(chosen.geometry)]}
    job = _run(client, "/api/siting", {"problem": "pmedian", "p": 1, "candidates": candidates},
               headers("viewer"))
    assert job["status"] == "done", job["error"]
    assert len(job["result"]["sites"]) == 1 and job["result"]["sites"][0] in {"c0", "c1"}

    too_many = _run(client, "/api/siting", {"problem": "pmedian", "p": 3,
                                            "candidates": candidates}, headers("viewer"))
    assert too_many["status"] == "failed"  # known only once the candidates are placed
    assert too_many["error"]["status"] == 422 and too_many["error"]["field"] == "p"
    assert too_many["error"]["message"] == ("p: 3 new sites asked for, but only 2 candidates "
                                            "can be chosen")


# ---- siting on a cost matrix --------------------------------------------------------------


def _matrix(seed: int, n: int = 7, m: int = 5, *, unreachable: float = 0.0):
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 100, (n, m)).astype(float)
    costs[rng.random((n, m)) < unreachable] = np.inf
    return costs, rng.integers(1, 20, n).astype(float)


def _objective(problem: str, costs, weights, sites, cutoff):
    nearest = costs[:, list(sites)].min(axis=1)
    reachable = np.isfinite(costs).any(axis=1)  # rows no candidate reaches are left out
    if problem == "mclp":
        return float((weights * (nearest <= cutoff)).sum())
    if problem == "pmedian":
        return float((weights * nearest)[reachable].sum())
    return float(nearest[reachable].max())  # pcenter


def _brute(problem: str, costs, weights, p: int | None, cutoff):
    m = costs.shape[1]
    if problem == "lscp":
        coverable = (costs <= cutoff).any(axis=1)
        return next(count for count in range(1, m + 1)
                    for sites in itertools.combinations(range(m), count)
                    if (costs[coverable][:, list(sites)] <= cutoff).any(axis=1).all())
    values = [_objective(problem, costs, weights, sites, cutoff)
              for sites in itertools.combinations(range(m), p)]
    return max(values) if problem == "mclp" else min(values)


def _as_json(costs) -> list[list[float | None]]:
    return [[None if np.isinf(c) else float(c) for c in row] for row in costs]


@pytest.mark.parametrize(("problem", "p", "cutoff", "unreachable"), [
    ("mclp", 2, 40.0, 0.2),
    ("pmedian", 2, None, 0.0),
    ("pcenter", 2, None, 0.0),
    ("lscp", None, 50.0, 0.2),
])
def test_siting_on_a_cost_matrix_is_the_best_of_every_combination(client, headers, problem, p,
                                                                 cutoff, unreachable):
    costs, weights = _matrix(3, unreachable=unreachable)
    demand_ids = [f"d{i}" for i in range(costs.shape[0])]
    candidate_ids = [f"s{j}" for j in range(costs.shape[1])]
    payload = {"problem": problem, "weights": weights.tolist(),
               "cost_matrix": {"demand_ids": demand_ids, "candidate_ids": candidate_ids,
                               "costs": _as_json(costs)}}
    payload |= {k: v for k, v in {"p": p, "cutoff": cutoff}.items() if v is not None}
    job = _run(client, "/api/siting", payload, headers("viewer"))
    assert job["status"] == "done", job["error"]
    result = job["result"]
    best = _brute(problem, costs, weights, p, cutoff)
    assert result["status"] == "optimal"
    assert result["objective"] == pytest.approx(best)
    chosen = [candidate_ids.index(s) for s in result["sites"]]
    if problem == "lscp":
        assert len(chosen) == best
    else:
        assert len(chosen) == p
        assert _objective(problem, costs, weights, chosen, cutoff) == pytest.approx(best)
    assert result["features"] == {"type": "FeatureCollection", "features": []}


def test_more_sites_than_the_matrix_has_candidates_fails_the_job_naming_p(client, headers):
    costs, weights = _matrix(1, m=3)
    job = _run(client, "/api/siting", {
        "problem": "pmedian", "p": 4, "weights": weights.tolist(),
        "cost_matrix": {"demand_ids": list(range(7)), "candidate_ids": ["a", "b", "c"],
                        "costs": _as_json(costs)}}, headers("viewer"))
    assert job["status"] == "failed"
    assert job["error"]["status"] == 422 and job["error"]["field"] == "p"
    assert job["error"]["message"] == "p: 4 new sites asked for, but only 3 candidates can be " \
                                      "chosen"


MATRIX = {"demand_ids": ["a", "b"], "candidate_ids": [1, 2],
          "costs": [[1.0, None], [3.0, 4.0]]}


@pytest.mark.parametrize(("payload", "field", "words"), [
    ({"problem": "mclp", "p": 0}, "p", "greater than or equal to 1"),
    ({"problem": "mclp", "p": 2.5}, "p", ""),
    ({"problem": "maxcover", "p": 2}, "problem", "'lscp', 'mclp', 'pmedian' or 'pcenter'"),
    ({"problem": "mclp"}, "p", "mclp needs the number of new sites"),
    ({"problem": "lscp", "p": 2}, "p", "give no p"),
    ({"problem": "mclp", "p": 1, "time_limit_s": 601}, "time_limit_s", "600"),
    ({"problem": "mclp", "p": 1, "minutes": 0}, "minutes", "greater than 0"),
    ({"problem": "mclp", "p": 1, "candidates": "schools"}, "candidates", ""),
    ({"problem": "mclp", "p": 1, "demand_column": "people",
      "demand": {"type": "FeatureCollection", "features": [
          {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.52, 47.14]},
           "properties": {"population": 5}}]}}, "demand_column", "people"),
    ({"problem": "mclp", "p": 1, "weights": [1, 2]}, "weights", "only with cost_matrix"),
    ({"problem": "pmedian", "p": 1, "cost_matrix": MATRIX}, "weights", "required"),
    ({"problem": "mclp", "p": 1, "cost_matrix": MATRIX, "weights": [1, 2]}, "cutoff",
     "mclp on a cost matrix needs a cutoff"),
    ({"problem": "pmedian", "p": 1, "cost_matrix": MATRIX, "weights": [1, 2, 3]}, "weights",
     "3 weights for the 2 demand rows of cost_matrix"),
    ({"problem": "pmedian", "p": 1, "cost_matrix": MATRIX, "weights": [1, 2],
      "candidates": "osm"}, "candidates", "not given with cost_matrix"),
    ({"problem": "pmedian", "p": 1, "cost_matrix": MATRIX, "weights": [1, 2],
      "hazards": False}, "hazards", "not given with cost_matrix"),
    ({"problem": "pmedian", "p": 1, "weights": [1, 2],
      "cost_matrix": {**MATRIX, "costs": [[1.0, -2.0], [3.0, 4.0]]}}, "cost_matrix",
     "negative (-2) at demand 'a', candidate 2"),
    ({"problem": "pmedian", "p": 1, "weights": [1, 2],
      "cost_matrix": {**MATRIX, "costs": [[1.0, 2.0], [3.0]]}}, "cost_matrix.costs.1",
     "1 costs for the 2 candidate_ids"),
    ({"problem": "pmedian", "p": 1, "weights": [1, 2],
      "cost_matrix": {**MATRIX, "costs": [[1.0, 2.0]]}}, "cost_matrix", "demand"),
    ({"problem": "pmedian", "p": 1, "weights": [1, 2],
      "cost_matrix": {**MATRIX, "candidate_ids": [1, 1]}}, "cost_matrix", "duplicate"),
    ({"problem": "pmedian", "p": 1, "weights": [1, -2], "cost_matrix": MATRIX}, "weights.1",
     "greater than or equal to 0"),
])
def test_bad_siting_input_is_a_422_naming_the_field_before_any_job(client, registry, headers,
                                                                   payload, field, words):
    response = client.post("/api/siting", json=payload, headers=headers("viewer"))
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ") and words in error["message"]
    assert _jobs(registry) == 0  # refused before any job was queued


# ---- evacuation -----------------------------------------------------------------------------


def test_evacuation_job_of_the_demo_flood_band(app, client, headers):
    job = _run(client, "/api/evacuation", {"hazards": [FLOOD]}, headers("viewer"))
    assert job["status"] == "done", job["error"]
    assert job["progress"] == 1.0
    result = job["result"]
    assert result["hazards"] == [FLOOD]
    assert result["placed"] > 0
    assert result["placed"] + result["unplaced"] == pytest.approx(result["population_inside"])
    features = job["result"]["features"]["features"]
    assert len(features) == len(result["flows"]) > 0
    assert all(f["geometry"]["type"] == "LineString" for f in features)
    assert any(f"planning scenario: {FLOOD}" in note for note in result["notes"])
    direct = services.evacuate(app.extensions["geo"].context(), hazards=[FLOOD])
    assert result["placed"] == pytest.approx(direct.placed)
    assert result["total_person_s"] == pytest.approx(direct.total_person_s)


def test_evacuation_within_a_time_limit_places_no_more(client, headers):
    job = _run(client, "/api/evacuation", {"hazards": [FLOOD], "max_minutes": 5,
                                           "mode": "walk"}, headers("viewer"))
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert result["clearance_time_s"] is None or result["clearance_time_s"] <= 300 + 1e-6
    assert result["placed"] + result["unplaced"] == pytest.approx(result["population_inside"])


def test_an_unknown_hazard_is_a_422_naming_hazards(client, headers):
    response = client.post("/api/evacuation", json={"hazards": [FLOOD, "H-flood-nile"]},
                           headers=headers("viewer"))
    assert response.status_code == 422
    assert response.json["error"]["field"] == "hazards"
    message = response.json["error"]["message"]
    assert "'H-flood-nile' is not a hazard of the registry (did you mean H-flood-rhine?)" \
        in message


def test_no_hazard_named_and_none_active_is_a_422_saying_what_to_do(client, headers):
    response = client.post("/api/evacuation", json={}, headers=headers("viewer"))
    assert response.status_code == 422  # the demo's hazards are all inactive
    assert response.json["error"]["field"] == "hazards"
    assert "name the hazards to evacuate" in response.json["error"]["message"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"hazards": FLOOD}, "hazards"),
    ({"hazards": [FLOOD], "max_minutes": 0}, "max_minutes"),
    ({"hazards": [FLOOD], "mode": "fly"}, "mode"),
    ({"hazards": [FLOOD], "colour": "red"}, "colour"),
])
def test_bad_evacuation_input_names_the_field(client, headers, payload, field):
    response = client.post("/api/evacuation", json=payload, headers=headers("viewer"))
    assert response.status_code == 422
    assert response.json["error"]["field"] == field


# ---- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "payload"), [
    ("/api/siting", {"problem": "pmedian", "p": 1, "weights": [1, 2], "cost_matrix": MATRIX}),
    ("/api/evacuation", {"hazards": [FLOOD]}),
])
def test_planning_analyses_need_the_permission_to_read_as_coverage_does(client, headers, path,
                                                                        payload):
    anonymous = client.post(path, json=payload)
    assert anonymous.status_code == 401
    assert anonymous.json["error"]["field"] == "Authorization"
    for role in ("viewer", "dispatcher", "planner", "admin"):
        assert client.post(path, json=payload, headers=headers(role)).status_code == 202, role
