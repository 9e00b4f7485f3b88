"""``python -m geo service-area | coverage | dispatch | exposure`` on a real registry file."""

import json
import re

import numpy as np
import pytest
import shapely

from geo.cli.main import main
from geo.registry.registry import Registry
from tests.analysis_inputs import points_along_roads


@pytest.fixture(scope="module")
def registry_file(tmp_path_factory, li_drive):
    path = tmp_path_factory.mktemp("registry") / "registry.sqlite"
    rng = np.random.default_rng(3)
    lon, lat = points_along_roads(li_drive, 700, rng)
    point = iter(zip(lon, lat))
    with Registry(str(path)) as reg:
        reg.add_many("shelters", [
            {"id": f"S{i}", "name": f"避难所 {i}", "shelter_class": "emergency",
             "capacity_people": 300, "occupancy": 50 * (i % 3), "status": "open",
             "geometry": shapely.Point(next(point))} for i in range(6)])
        reg.add_many("teams", [
            {"id": f"T{i}", "name": f"Team {i}", "type": ["fire", "medical"][i % 2],
             "headcount": 4 + i % 5, "turnout_s": 60 + 30 * (i % 4),
             "status": ["available", "available", "off_duty"][i % 3],
             "geometry": shapely.Point(next(point))} for i in range(12)])
        reg.add_many("depots", [{"id": f"D{i}", "name": f"Depot {i}",
                                 "geometry": shapely.Point(next(point))} for i in range(3)])
        for i in range(3):
            reg.set_stock(f"D{i}", "water", 200.0)
        reg.add_many("population", [{"id": f"P{i}", "population": 10.0,
                                     "geometry": shapely.Point(next(point))} for i in range(600)])
        reg.add("hazards", {"id": "H1", "type": "fuel_station", "radius_m": 80.0,
                            "geometry": shapely.Point(next(point))})
    return path


@pytest.fixture
def run(registry_file, cache_dir, capsys):
    def invoke(*argv):
        try:
            code = main([*argv, "--db", str(registry_file), "--cache-dir", str(cache_dir)])
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err
    return invoke


def test_service_area_writes_geojson_with_credit(run, tmp_path):
    out = tmp_path / "areas.geojson"
    code, stdout, _ = run("service-area", "--breaks", "5,10", "--json", "--out", str(out))
    assert code == 0
    result = json.loads(stdout)
    # By default one area per break for all shelters together
    assert [(a["facility"], a["to_break"]) for a in result["areas"]] == [(None, 300), (None, 600)]
    collection = json.loads(out.read_text())
    assert collection["attribution"] == "© OpenStreetMap contributors"
    assert collection["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_service_area_per_facility_and_filled(run):
    code, stdout, _ = run("service-area", "--breaks", "5,10", "--overlap", "overlap", "--json")
    assert code == 0 and len(json.loads(stdout)["areas"]) == 12  # 6 shelters x 2 breaks
    code, stdout, _ = run("service-area", "--breaks", "10", "--form", "filled", "--json")
    filled = json.loads(stdout)["areas"][0]["area_m2"]
    code, stdout, _ = run("service-area", "--breaks", "10", "--json")
    assert code == 0 and filled > json.loads(stdout)["areas"][0]["area_m2"]


def test_service_area_refuses_a_bad_fill_distance(run):
    code, _, stderr = run("service-area", "--breaks", "10", "--form", "filled", "--fill-m", "-5")
    assert code == 2 and "fill_m" in stderr and "Traceback" not in stderr


def test_coverage_summary_adds_up(run):
    code, stdout, _ = run("coverage", "--breaks", "5,10,15", "--json")
    summary = json.loads(stdout)["summary"]
    assert code == 0 and len(summary) == 3
    for row in summary:
        assert row["covered"] + row["uncovered"] + row["unreachable"] == pytest.approx(row["total"])
        assert row["total"] == 6000


def test_dispatch_teams_supplies_and_shelters(run, tmp_path):
    out = tmp_path / "dispatch.geojson"
    code, stdout, _ = run("dispatch", "--at", "47.1410,9.5209", "--k", "3", "--type", "fire",
                          "--items", "water=500,tents=2", "--json", "--out", str(out))
    result = json.loads(stdout)
    assert code == 0
    assert len(result["teams"]) == 3 and all(t["type"] == "fire" for t in result["teams"])
    assert [t["eta_s"] for t in result["teams"]] == sorted(t["eta_s"] for t in result["teams"])
    assert sum(a["quantity"] for a in result["supplies"]["allocation"]) == 500
    assert result["supplies"]["shortfall"] == {"tents": 2.0}
    assert 1 <= len(result["shelters"]) <= 3
    kinds = {f["properties"]["kind"] for f in json.loads(out.read_text())["features"]}
    assert kinds == {"team", "depot", "shelter"}


def test_dispatch_text_output(run):
    code, stdout, _ = run("dispatch", "--at", "47.1410,9.5209", "--k", "2")
    assert code == 0 and "ETA" in stdout and "© OpenStreetMap contributors" in stdout


def test_dispatch_takes_types_and_items_as_dispatchers_type_them(run):
    code, stdout, _ = run("dispatch", "--at", "47.1410,9.5209", "--k", "2", "--type",
                          "Fire，医疗", "--items", "饮用水＝500", "--shelters", "0", "--json")
    result = json.loads(stdout)
    assert code == 0 and result["note"] == ""
    assert sorted(t["type"] for t in result["teams"]) == ["fire", "fire", "medical", "medical"]
    assert result["supplies"]["shortfall"] == {}
    assert sum(a["quantity"] for a in result["supplies"]["allocation"]) == 500


def test_dispatch_beside_a_cut_off_road_says_how_far_the_connected_road_is(run):
    code, stdout, _ = run("dispatch", "--at", "47.110566,9.523598", "--k", "2")
    assert code == 0 and stdout.count("ETA") == 2
    assert "routed from the nearest connected road, 55 m away" in stdout


def test_dispatch_minimum_headcount(run, registry_file):
    code, stdout, _ = run("dispatch", "--at", "47.1410,9.5209", "--k", "12",
                          "--min-headcount", "8", "--json")
    with Registry(str(registry_file)) as reg:
        teams = reg.layer("teams")
    big = teams[(teams["status"] == "available") & (teams["headcount"] >= 8)]
    assert code == 0 and 0 < len(big) < (teams["status"] == "available").sum()
    assert {t["id"] for t in json.loads(stdout)["teams"]} == set(big.index)


def test_barriers_file_cuts_off_a_team(run, registry_file, li_drive, tmp_path):
    """A ring drawn around the best team's position closes every road out of it."""
    argv = ("dispatch", "--at", "47.1410,9.5209", "--k", "3", "--shelters", "0", "--json")
    code, stdout, _ = run(*argv)
    free = json.loads(stdout)
    best = free["teams"][0]["id"]
    with Registry(str(registry_file)) as reg:
        team = reg.layer("teams").loc[best].geometry
    x, y = li_drive.to_xy.transform(team.x, team.y)
    ring = shapely.Point(x, y).buffer(250).exterior.buffer(15)
    ring = shapely.transform(ring, lambda xy: np.column_stack(li_drive.to_lonlat.transform(*xy.T)))
    barriers = tmp_path / "ring.geojson"
    barriers.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(ring)}]}))
    code, stdout, _ = run(*argv, "--barriers", str(barriers))
    cut = json.loads(stdout)
    assert code == 0 and free["unreachable_teams"] == []
    assert best not in [t["id"] for t in cut["teams"]] and len(cut["teams"]) == 3
    reasons = {u["id"]: u["reason"] for u in cut["unreachable_teams"]}
    assert reasons[best] == "cut_off_by_hazard"


def test_exposure(run):
    code, stdout, _ = run("exposure", "--json")
    result = json.loads(stdout)
    assert code == 0 and len(result["hazards"]) == 1
    assert result["hazards"][0]["type"] == "fuel_station" and result["hazards"][0]["road_km"] > 0


@pytest.mark.parametrize("argv, message", [
    (["service-area", "--breaks", "5,x"], "--breaks: expected comma-separated numbers"),
    (["service-area", "--breaks", "-5"], "breaks: expected positive numbers"),
    (["dispatch", "--at", "47.14,9.52", "--items", "water"], "--items: expected ITEM=QUANTITY"),
    (["dispatch", "--at", "47.14,9.52", "--items", "water=lots"],
     "items.water: quantity must be a number"),
    (["dispatch", "--at", "47.14,9.52", "--k", "0"], "k: expected a positive whole number"),
    (["dispatch", "--at", "47.14,9.52", "--type", "fire,medic"],
     r"team_types: 'medic' is not a known team type \(did you mean medical \(医疗\)\?\); "
     r"allowed: fire \(消防\)"),
    (["dispatch", "--at", "47.14,9.52", "--items", "Wasser=5"],
     r"items: 'Wasser' is not a known catalogue item \(did you mean water \(饮用水\)\?\)"),
    (["dispatch", "--at", "47.14,9.52", "--items", "water=5,water=6"],
     "--items: 'water' is given twice"),
    (["dispatch", "--at", "9.52,47.14"], "at: .* look swapped"),
    (["coverage", "--layer", "incidents"], "argument --layer: invalid choice: 'incidents'"),
    (["coverage", "--breaks", "5", "--mode", "bike"], "mode: unknown mode 'bike'"),
    (["dispatch", "--at", "47.14,9.52", "--mode", "walk"], "--mode: teams and depots drive"),
    (["service-area", "--facilities", "/no/such.geojson"],
     "--facilities: /no/such.geojson: no such file"),
])
def test_bad_input_is_one_line(run, argv, message):
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err


def test_without_a_registry_analyses_say_how_to_make_one(tmp_path, monkeypatch, cache_dir,
                                                          capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GEO_DB_URL", raising=False)
    code = main(["dispatch", "--at", "47.1410,9.5209", "--k", "2", "--json",
                 "--cache-dir", str(cache_dir)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "python -m geo registry demo" in err
    assert not (tmp_path / "instance").exists()


def test_a_registry_of_another_region_is_refused_in_one_line(tmp_path, cache_dir, capsys):
    path = tmp_path / "elsewhere.sqlite"
    with Registry(str(path)) as reg:
        reg.add("teams", {"id": "T1", "type": "fire", "headcount": 4,
                          "geometry": shapely.Point(24.94, 60.17)})
    code = main(["dispatch", "--at", "47.1410,9.5209", "--db", str(path),
                 "--cache-dir", str(cache_dir)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "covers longitude 24.9400..24.9400" in err and "drive network of liechtenstein" in err


def test_exposure_reports_inactive_hazards_too(tmp_path, cache_dir, capsys):
    path = tmp_path / "hazards.sqlite"
    with Registry(str(path)) as reg:
        reg.add_many("hazards", [
            {"id": "ON", "type": "fuel_station", "radius_m": 80.0,
             "geometry": shapely.Point(9.5209, 47.1410)},
            {"id": "OFF", "type": "gas_storage", "radius_m": 120.0, "active": False,
             "geometry": shapely.Point(9.5100, 47.1650)}])
    code = main(["exposure", "--json", "--db", str(path), "--cache-dir", str(cache_dir)])
    hazards = json.loads(capsys.readouterr().out)["hazards"]
    assert code == 0
    assert {h["hazard"]: h["active"] for h in hazards} == {"ON": True, "OFF": False}
    assert all(h["road_km"] > 0 for h in hazards)


def test_missing_explicit_database_is_an_error(cache_dir, capsys, tmp_path):
    code = main(["coverage", "--db", str(tmp_path / "none.sqlite"), "--cache-dir", str(cache_dir)])
    assert code == 2 and "there is no registry at" in capsys.readouterr().err


@pytest.mark.parametrize("layer, default, other", [("teams", "drive", "walk"),
                                                    ("shelters", "walk", "drive")])
def test_mode_follows_the_layer(run, layer, default, other):
    def covered(*mode):
        code, stdout, _ = run("coverage", "--layer", layer, "--breaks", "5", "--json", *mode)
        assert code == 0
        return [row["covered"] for row in json.loads(stdout)["summary"]]

    # Without --mode the layer's own network is used: the same answer as naming it, and not
    # the answer of the other network.
    assert covered() == covered("--mode", default) != covered("--mode", other)
