"""Never a traceback, nothing written before it is valid: the command line on hostile input and
hostile output places (full disks and devices, named pipes, missing folders, closed pipes)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.cli.main import main
from geo.registry.registry import Registry
from tests.analysis_inputs import points_along_roads

ROOT = Path(__file__).resolve().parents[2]
FULL = Path("/dev/full")
has_dev_full = pytest.mark.skipif(not FULL.is_char_device(), reason="no /dev/full here")


@pytest.fixture(scope="module")
def registry_file(tmp_path_factory, li_drive) -> str:
    """A real registry on real Liechtenstein roads, with a population layer of some size."""
    path = str(tmp_path_factory.mktemp("robust") / "registry.sqlite")
    lon, lat = points_along_roads(li_drive, 3006, np.random.default_rng(8))
    with Registry(path) as registry:
        registry.add_many("shelters", [
            {"id": f"S{i}", "name": f"避难所 {i}", "shelter_class": "emergency",
             "capacity_people": 300, "geometry": shapely.Point(lon[i], lat[i])}
            for i in range(3)])
        registry.add_many("population", [
            {"id": f"P{i}", "population": 12.5, "notes": "a resident of the test registry",
             "geometry": shapely.Point(lon[i], lat[i])} for i in range(3, 3006)])
    return path


def _run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(capsys, *argv) -> str:
    code, _, err = _run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ---- output places ----------------------------------------------------------------------------


@has_dev_full
@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg", "shp"])
def test_export_to_a_full_device_is_an_error_and_the_device_stays(capsys, registry_file, fmt):
    line = _one_line_error(capsys, "registry", "export", "--layer", "shelters", "--format", fmt,
                           "--out", str(FULL), "--db", registry_file)
    assert line == "error: --out: /dev/full: cannot write (No space left on device)"
    assert FULL.is_char_device()


@has_dev_full
def test_analysis_out_to_a_full_device_is_an_error_and_the_device_stays(capsys, registry_file,
                                                                        cache_dir):
    line = _one_line_error(capsys, "coverage", "--db", registry_file, "--cache-dir",
                           str(cache_dir), "--out", str(FULL))
    assert line == "error: --out: /dev/full: cannot write (No space left on device)"
    assert FULL.is_char_device()


def test_analysis_out_into_a_named_pipe_streams_the_result(capsys, registry_file, cache_dir,
                                                           tmp_path):
    fifo = tmp_path / "areas.geojson"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text("utf-8")),
                              daemon=True)
    reader.start()
    code, _, err = _run(capsys, "service-area", "--db", registry_file, "--cache-dir",
                        str(cache_dir), "--breaks", "5", "--out", str(fifo))
    reader.join(timeout=30)
    assert code == 0, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the pipe, not a file in its place
    assert len(json.loads(received[0])["features"]) == 1  # one area for all facilities


def test_coverage_out_writes_every_registry_column_as_json(capsys, registry_file, cache_dir,
                                                           tmp_path):
    out = tmp_path / "uncovered.geojson"
    code, _, err = _run(capsys, "coverage", "--db", registry_file, "--cache-dir",
                        str(cache_dir), "--breaks", "1", "--out", str(out))
    assert code == 0, err
    features = json.loads(out.read_text("utf-8"))["features"]
    assert features and features[0]["properties"]["notes"] == "a resident of the test registry"
    created = features[0]["properties"]["created_at"]
    assert isinstance(created, str) and created[:2] == "20"  # an ISO 8601 time


FULL_DISK = """
import json, resource, signal, sys
# A file may not grow past the limit: writes beyond it fail (EFBIG), as on a full disk.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]),) * 2)
from geo.cli.main import main
for argv in json.loads(sys.argv[1]):
    print(main(argv), flush=True)
"""


def test_exports_on_a_full_disk_keep_the_old_file(registry_file, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    runs, outs = [], []
    for fmt, suffix in [("csv", ".csv"), ("geojson", ".geojson"), ("gpkg", ".gpkg"),
                        ("shp", ".zip")]:
        out = folder / f"population{suffix}"
        out.write_text("the previous export")
        outs.append(out)
        runs.append(["registry", "export", "--layer", "population", "--format", fmt, "--out",
                     str(out), "--db", registry_file])
    result = subprocess.run([sys.executable, "-c", FULL_DISK, json.dumps(runs), "200000"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.stdout.split() == ["2"] * len(runs), result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(runs) and all(
        line.startswith("error: --out: ") and "cannot write" in line for line in lines), lines
    assert [out.read_text() for out in outs] == ["the previous export"] * len(runs)
    assert sorted(p.name for p in folder.iterdir()) == sorted(out.name for out in outs)


def test_report_into_a_missing_folder_is_made(capsys, registry_file, tmp_path):
    rows = tmp_path / "teams.csv"
    rows.write_text("id,type,headcount,lon,lat\nT1,fire,-3,9.52,47.14\n", encoding="utf-8")
    report = tmp_path / "reports" / "2024" / "teams-problems.csv"
    db = str(tmp_path / "new.sqlite")
    line = _one_line_error(capsys, "registry", "import", str(rows), "--layer", "teams",
                           "--db", db, "--report", str(report))
    assert "headcount: -3 is negative" in line and str(report) in line
    assert "headcount" in report.read_text(encoding="utf-8-sig")


# ---- bad input files --------------------------------------------------------------------------


def _feature_collection(geometry: str, properties: str = '{"type": "fire", "headcount": 3}'):
    return ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            f'{properties}, "geometry": {geometry}}}]}}')


@pytest.mark.parametrize(("text", "message"), [
    (_feature_collection('{"type": "Point", "coordinates": ' + "[" * 100_000 + "]" * 100_000
                         + "}"), "not GeoJSON (arrays or objects nested too deeply)"),
    (_feature_collection('{"type": "Point", "coordinates": ' + "[" * 600 + "]" * 600 + "}"),
     "row 1: geometry: not a GeoJSON geometry (coordinates nested too deeply)"),
    (_feature_collection('{"type": "Point", "coordinates": [9.52, 47.14]}',
                         '{"type": "fire", "headcount": "1e300"}'),
     "row 1: headcount: 1e+300 is above the maximum 10,000"),
])
def test_hostile_geojson_is_one_line_and_imports_nothing(capsys, tmp_path, text, message):
    path = tmp_path / "teams.geojson"
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "registry.sqlite"
    Registry(str(db)).close()
    assert message in _one_line_error(capsys, "registry", "import", str(path), "--layer",
                                      "teams", "--db", str(db))
    with Registry(str(db)) as registry:
        assert registry.counts()["teams"] == 0


def test_deeply_nested_json_in_a_csv_cell_is_a_row_problem(capsys, tmp_path):
    path = tmp_path / "incidents.csv"
    needs = '"' + '{""a"":' * 50_000 + "1" + "}" * 50_000 + '"'
    path.write_text(f"type,needs,lon,lat\nfire,{needs},9.52,47.14\n", encoding="utf-8")
    line = _one_line_error(capsys, "registry", "import", str(path), "--layer", "incidents",
                           "--db", str(tmp_path / "registry.sqlite"))
    assert "row 2: needs: " in line and "is not a valid dict" in line and len(line) < 400


def test_shelter_capacity_of_1e300_is_one_line(capsys, tmp_path):
    path = tmp_path / "shelters.csv"
    path.write_text("name,shelter_class,capacity_people,lon,lat\n"
                    "Gym,emergency,1e300,9.52,47.14\n", encoding="utf-8")
    line = _one_line_error(capsys, "registry", "import", str(path), "--layer", "shelters",
                           "--db", str(tmp_path / "registry.sqlite"))
    assert "row 2: capacity_people: 1e+300 is above the maximum 10,000,000" in line


def test_a_binary_standards_file_is_one_line_and_creates_nothing(capsys, tmp_path):
    standards = tmp_path / "standards.yaml"
    standards.write_bytes(bytes(range(256)) * 8)
    db = tmp_path / "registry.sqlite"
    line = _one_line_error(capsys, "registry", "init", "--db", str(db), "--standards",
                           str(standards))
    assert "not UTF-8 text" in line and not db.exists()


# ---- arguments and the terminal ---------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["route", "--from", "-33.9,18.4", "--to", "47.14,9.52"],
    ["route", "--from", "47.14,9.52", "--to", "-33.9, -18.4"],
    ["dispatch", "--at", "-33.9,-58.38", "--db"],
])
def test_southern_and_western_points_need_no_equals_sign(capsys, registry_file, cache_dir,
                                                        argv):
    argv = [*argv, registry_file] if argv[-1] == "--db" else argv
    line = _one_line_error(capsys, *argv, "--cache-dir", str(cache_dir))
    assert "is outside the network's extent" in line  # read as a point, then checked


def test_a_region_west_of_greenwich_needs_no_equals_sign(capsys, tmp_path):
    code, out, err = _run(capsys, "registry", "init", "--db", str(tmp_path / "r.sqlite"),
                          "--region", "-74.1,40.6,-73.9,40.8")
    assert code == 0 and "region -74.1, 40.6, -73.9, 40.8" in out, err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_closed_pipe_ends_a_listing_quietly(registry_file, json_flag):
    # `registry list | head -1`: the reader leaves after one line, with more to come.
    with subprocess.Popen(
            [sys.executable, "-m", "geo", "registry", "list", "--layer", "population", "--db",
             registry_file, *json_flag], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(100)
        process.stdout.close()
        err = process.stderr.read().decode()
        assert process.wait(timeout=120) == 141 and err == ""


# ---- a failed command leaves no new database ---------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["registry", "init", "--region", "9.4,47"],
    ["registry", "demo", "--osm", "missing.osm.pbf"],
    ["registry", "import", "missing.csv", "--layer", "teams"],
    ["registry", "import", "BAD_ROWS", "--layer", "teams"],
    ["registry", "population", "--polygons", "missing.gpkg"],
], ids=["init", "demo", "import-missing", "import-bad-rows", "population"])
def test_a_failed_command_leaves_no_new_database(capsys, tmp_path, argv):
    bad_rows = tmp_path / "teams.csv"
    bad_rows.write_text("type,headcount,lon,lat\nfire,-1,9.52,47.14\n", encoding="utf-8")
    argv = [str(bad_rows) if a == "BAD_ROWS" else str(tmp_path / a) if "missing" in a else a
            for a in argv]
    db = tmp_path / "instance" / "registry.sqlite"
    _one_line_error(capsys, *argv, "--db", str(db))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["teams.csv"]


def test_a_failed_command_keeps_an_existing_database(capsys, tmp_path):
    db = tmp_path / "registry.sqlite"
    with Registry(str(db)) as registry:
        registry.add("teams", {"id": "T1", "type": "fire", "headcount": 4,
                               "geometry": shapely.Point(9.52, 47.14)})
    _one_line_error(capsys, "registry", "import", str(tmp_path / "missing.csv"), "--layer",
                    "teams", "--db", str(db))
    with Registry(str(db)) as registry:
        assert list(registry.layer("teams").index) == ["T1"]
