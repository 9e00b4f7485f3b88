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
    assert len(result["areas"]) == 12  # 6 shelters x 2 breaks
    collection = json.loads(out.read_text())
    assert collection["attribution"] == "© OpenStreetMap contributors"
    assert collection["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


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
    (["dispatch", "--at", "9.52,47.14"], "incident: .* look swapped"),
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


def test_exposure_reports_inactive_hazards_too(run):
    code, stdout, _ = run("exposure", "--json")
    assert code == 0 and "active" in json.loads(stdout)["hazards"][0]


def test_missing_explicit_database_is_an_error(cache_dir, capsys, tmp_path):
    code = main(["coverage", "--db", str(tmp_path / "none.sqlite"), "--cache-dir", str(cache_dir)])
    assert code == 2 and "there is no registry at" in capsys.readouterr().err


def test_mode_follows_the_layer(run):
    code, stdout, _ = run("coverage", "--layer", "teams", "--breaks", "5", "--json")
    assert code == 0
    walk_code, walk_out, _ = run("coverage", "--breaks", "5", "--json")
    driven = json.loads(stdout)["summary"][0]["covered"]
    walked = json.loads(walk_out)["summary"][0]["covered"]
    # 8 available teams driving for 5 minutes cover more than 6 shelters reached on foot.
    assert walk_code == 0 and driven > walked
