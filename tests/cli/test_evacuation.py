"""``python -m geo evacuate`` on a copy of the demo registry (its hazards are all inactive: the
Rhine flood band is evacuated as a planning scenario)."""

import json
import shutil

import pytest

from geo.cli.main import main


@pytest.fixture
def run(demo_file, tmp_path, cache_dir, capsys):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, path)

    def invoke(*argv):
        try:
            code = main(["evacuate", *argv, "--db", str(path), "--cache-dir", str(cache_dir)])
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err
    return invoke


def test_json_and_routes(run, tmp_path):
    out = tmp_path / "routes.geojson"
    code, stdout, _ = run("--hazard", "H-flood-rhine", "--json", "--out", str(out))
    assert code == 0
    result = json.loads(stdout)
    for key in ("hazards", "population_inside", "placed", "unplaced", "unplaced_by_reason",
                "clearance_time_s", "total_person_s", "flows", "shelters", "unplaced_points",
                "excluded_shelters", "solve_status", "summary", "notes", "attribution"):
        assert key in result
    assert result["hazards"] == ["H-flood-rhine"] and result["solve_status"] == "optimal"
    assert set(result["unplaced_by_reason"]) == {"capacity_short", "no_reachable_shelter"}
    assert result["placed"] + result["unplaced"] == pytest.approx(result["population_inside"])
    assert result["clearance_time_s"] == pytest.approx(
        max(f["travel_time_s"] for f in result["flows"]))
    routes = json.loads(out.read_text())
    assert routes["attribution"] == "© OpenStreetMap contributors"
    assert len(routes["features"]) == len(result["flows"])
    assert {f["geometry"]["type"] for f in routes["features"]} == {"LineString"}
    assert {"point", "shelter", "people", "travel_time_s"} <= set(
        routes["features"][0]["properties"])


def test_text_output(run):
    code, stdout, _ = run("--hazard", "H-flood-rhine,H-flood-rhine", "--max-time", "30")
    assert code == 0
    lines = stdout.splitlines()
    assert any(line.startswith("shelter ") and "placed, room left for" in line for line in lines)
    summary = next(line for line in lines if line.startswith("evacuating H-flood-rhine: "))
    assert "people placed;" in summary and "cannot be placed" in summary
    assert "no shelter within the time limit" in summary  # 30 min is too short for some
    assert any(line.startswith("everyone placed has arrived after ") for line in lines)
    assert "note: not active, evacuated as a planning scenario: H-flood-rhine" in lines


@pytest.mark.parametrize("argv, message", [
    (("--hazard", "H-flood-rhin"),
     "error: hazards: 'H-flood-rhin' is not a hazard of the registry (did you mean "
     "H-flood-rhine?) (the registry has 32 hazards)"),
    ((), "error: hazards: none of the registry's 32 hazards is active; name the hazards to "
         "evacuate (as a planning scenario), e.g. H-flood-rhine, "),
    (("--hazard", "H-flood-rhine", "--max-time", "0"),
     "error: --max-time: expected a positive number of minutes, got 0"),
    (("--hazard", "H-flood-rhine", "--mode", "fly"), "error: mode: "),
])
def test_bad_input_is_one_line_and_exit_2(run, argv, message):
    code, stdout, stderr = run(*argv)
    assert code == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1
