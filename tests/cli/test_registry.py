"""``python -m geo registry ...``: real files, one-line errors, exit codes, nothing partial."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.cli.main import main
from geo.registry.registry import Registry
from tests.conftest import MONACO

ROOT = Path(__file__).resolve().parents[2]
CSV = ("id,name,type,headcount,status,lon,lat\n"
       "T1,Feuerwehr Vaduz 消防队,fire,9,available,9.5209,47.1410\n"
       "T2,Samariter,medical,3,off_duty,9.5103,47.1640\n")


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "registry.sqlite")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("cli-demo") / "demo.sqlite")
    assert main(["registry", "demo", "--db", path]) == 0
    return path


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys, *argv) -> str:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_init_creates_the_database_with_a_region(capsys, db):
    code, out, _ = _run(capsys, "registry", "init", "--db", db, "--region", "9.47,47.04,9.64,47.28")
    assert code == 0 and "registry ready" in out and "9.47, 47.04, 9.64, 47.28" in out
    with Registry(db) as registry:
        assert registry.region.as_list() == [9.47, 47.04, 9.64, 47.28]
    assert "--region: expected W,S,E,N" in _error(capsys, "registry", "init", "--db", db,
                                                   "--region", "9.4,47")


def test_database_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_DB_URL", str(tmp_path / "env.sqlite"))
    assert _run(capsys, "registry", "init")[0] == 0
    assert (tmp_path / "env.sqlite").is_file()


def test_demo_then_list(capsys, demo_db):
    code, out, _ = _run(capsys, "registry", "list", "--layer", "teams", "--db", demo_db)
    assert code == 0 and "Feuerwehr Balzers" in out and "turnout_s" in out
    code, out, _ = _run(capsys, "registry", "list", "--layer", "shelters", "--db", demo_db,
                        "--json", "--limit", "5")
    collection = json.loads(out)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 5
    assert {"shelter_class", "capacity_people"} <= set(collection["features"][0]["properties"])
    assert "not empty" in _error(capsys, "registry", "demo", "--db", demo_db)


def test_demo_of_another_region_says_where_its_population_comes_from(capsys, tmp_path):
    code, out, _ = _run(capsys, "registry", "demo", "--osm", str(MONACO),
                        "--db", str(tmp_path / "estimated.sqlite"))
    assert code == 0
    line = out.splitlines()[-1]
    assert line.startswith("population (estimated): ") and "people estimated from" in line
    assert "40 m² per person, a planning assumption" in line and "39,000" not in line
    code, out, _ = _run(capsys, "registry", "demo", "--osm", str(MONACO), "--population", "38350",
                        "--db", str(tmp_path / "given.sqlite"))
    assert code == 0 and out.splitlines()[-1] == (
        "population (given): 38,350 people, the total given by the user, spread over "
        "residential floor area")
    with Registry(str(tmp_path / "given.sqlite")) as registry:
        assert registry.layer("population")["population"].sum() == pytest.approx(38_350)
    assert "m2_per_person: expected a positive number" in _error(
        capsys, "registry", "demo", "--osm", str(MONACO), "--m2-per-person", "-1",
        "--db", str(tmp_path / "bad.sqlite"))


@pytest.mark.slow  # builds the demo twice
def test_demo_replace_and_population_total(capsys, db):
    assert _run(capsys, "registry", "demo", "--db", db, "--population", "1200")[0] == 0
    code, out, _ = _run(capsys, "registry", "demo", "--db", db, "--replace")
    assert code == 0 and "shelters" in out
    assert "population (official): 39,000 people (Liechtenstein's resident population" in out
    with Registry(db) as registry:
        assert registry.layer("population")["population"].sum() == pytest.approx(39_000)


def test_import_good_file(capsys, db, tmp_path):
    path = tmp_path / "teams.csv"
    path.write_bytes(CSV.encode("gb18030"))
    code, out, _ = _run(capsys, "registry", "import", str(path), "--layer", "teams", "--db", db)
    assert code == 0 and out.strip() == f"imported 2 teams from {path}"
    with Registry(db) as registry:
        assert registry.get("teams", "T1")["name"] == "Feuerwehr Vaduz 消防队"
        assert registry.audit_log(layer="teams")["actor"].str.startswith("cli").all()


def test_bad_import_is_one_line_and_writes_nothing(capsys, db, tmp_path):
    path = tmp_path / "teams.csv"
    path.write_text(CSV + "T3,Bad,dragons,-4,available,9.52,47.14\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    line = _error(capsys, "registry", "import", str(path), "--layer", "teams", "--db", db,
                  "--report", str(report))
    assert "row 4: headcount: -4 is negative" in line and "nothing imported" in line
    rows = list(csv.reader(report.read_text(encoding="utf-8-sig").splitlines()))
    assert rows == [["row", "field", "problem"],
                    ["4", "headcount", "'-4 is negative (must be ≥ 0)"],  # not a formula
                    ["4", "type", "'dragons' is not one of fire (消防), medical (医疗), "
                                  "search_rescue (搜救), hazmat (危化品处置), "
                                  "water_rescue (水上救援), police (公安), volunteer (志愿者), "
                                  "comprehensive (综合救援)"]]
    with Registry(db) as registry:
        assert registry.counts()["teams"] == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--crs", "EPSG:999999"], "crs: unknown CRS 'EPSG:999999'"),
    (["--encoding", "klingon"], "encoding: 'klingon' is not a text encoding Python knows"),
])
def test_bad_options_are_reported(capsys, db, tmp_path, argv, message):
    path = tmp_path / "teams.csv"
    path.write_text(CSV, encoding="utf-8")
    assert message in _error(capsys, "registry", "import", str(path), "--layer", "teams",
                             "--db", db, *argv)


def test_missing_or_empty_files(capsys, db, tmp_path):
    assert "no such file" in _error(capsys, "registry", "import", str(tmp_path / "x.csv"),
                                    "--layer", "teams", "--db", db)
    (tmp_path / "empty.geojson").write_text("")
    assert "empty" in _error(capsys, "registry", "import", str(tmp_path / "empty.geojson"),
                             "--layer", "teams", "--db", db)
    with pytest.raises(SystemExit) as caught:
        main(["registry", "list", "--layer", "boats", "--db", db])
    assert caught.value.code == 2
    assert "invalid choice: 'boats'" in capsys.readouterr().err


def test_list_or_export_of_a_missing_database_creates_nothing(capsys, tmp_path):
    missing = tmp_path / "missing.sqlite"
    assert "no registry here" in _error(capsys, "registry", "list", "--layer", "teams",
                                        "--db", str(missing))
    assert "no registry here" in _error(capsys, "registry", "export", "--layer", "teams",
                                        "--format", "csv", "--db", str(missing))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "shp"])
def test_export_and_import_again(capsys, demo_db, tmp_path, fmt):
    out = tmp_path / f"hazards.{ {'shp': 'zip'}.get(fmt, fmt)}"
    code, printed, _ = _run(capsys, "registry", "export", "--layer", "hazards", "--format", fmt,
                            "--out", str(out), "--db", demo_db)
    assert code == 0 and printed.startswith("wrote 32 hazards")
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no partial file left
    copy = str(tmp_path / "copy.sqlite")
    assert _run(capsys, "registry", "import", str(out), "--layer", "hazards", "--db", copy)[0] == 0
    with Registry(copy) as registry, Registry(demo_db) as original:
        again, first = registry.layer("hazards"), original.layer("hazards")
        assert sorted(again.index) == sorted(first.index)
        assert again.loc[first.index, "type"].tolist() == first["type"].tolist()


def test_failed_export_leaves_no_file(capsys, demo_db, tmp_path):
    out = tmp_path / "teams.csv"
    assert "crs: unknown CRS" in _error(capsys, "registry", "export", "--layer", "teams",
                                        "--format", "csv", "--out", str(out), "--db", demo_db,
                                        "--crs", "EPSG:0")
    assert list(tmp_path.iterdir()) == []


def test_export_to_an_unwritable_place_is_one_line(capsys, demo_db, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "cannot write" in _error(capsys, "registry", "export", "--layer", "teams", "--format",
                                    "csv", "--out", str(blocker / "teams.csv"), "--db", demo_db)


def test_newer_schema_refused_by_the_cli(capsys, db):
    Registry(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    assert "schema version 99, newer than this software" in _error(
        capsys, "registry", "list", "--layer", "teams", "--db", db)


def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "geo", "registry", "list", "--layer", "teams",
                             "--db", str(tmp_path / "none.sqlite")], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: database") and "Traceback" not in result.stderr


def test_population_from_census_polygons_replaces_the_proxy(capsys, tmp_path):
    db = str(tmp_path / "registry.sqlite")
    census = gpd.GeoDataFrame({"residents": [1500, 700]},
                              geometry=[shapely.box(9.50, 47.13, 9.53, 47.15),
                                        shapely.box(9.53, 47.13, 9.56, 47.15)], crs=4326)
    path = tmp_path / "census.gpkg"
    census.to_file(path)
    code, out, _ = _run(capsys, "registry", "population", "--polygons", str(path),
                        "--column", "residents", "--db", db)
    assert code == 0 and "2 points, 2,200 people from census.gpkg" in out
    with Registry(db) as registry:
        population = registry.layer("population")
        source = registry.population_source
    assert population["population"].tolist() == [1500, 700]
    assert source == {"people": 2200, "method": "polygons",
                      "note": "2,200 people from census.gpkg (census polygons)"}
    assert "'people' is not a column" in _error(capsys, "registry", "population", "--polygons",
                                                str(path), "--column", "people", "--db", db)
    with Registry(db) as registry:
        assert registry.counts()["population"] == 2  # the failed load changed nothing


def test_a_file_that_is_not_a_database_is_one_clear_line(capsys, tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("meeting notes, not a registry\n")
    message = _error(capsys, "registry", "list", "--layer", "teams", "--db", str(path))
    assert "file is not a database" in message and str(path) in message
    assert path.read_text() == "meeting notes, not a registry\n"
