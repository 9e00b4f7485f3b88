"""The command-line contract: ``python -m geo network build`` and ``python -m geo route``."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from geo.cli.main import main
from tests.conftest import LIECHTENSTEIN, MONACO

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(cache_dir, capsys):
    def invoke(*argv):
        code = main([*argv, "--cache-dir", str(cache_dir)])
        out, err = capsys.readouterr()
        return code, out, err
    return invoke


def test_network_build_json(run):
    code, out, _ = run("network", "build", "--mode", "drive", "--json")
    summary = json.loads(out)
    assert code == 0
    assert summary["nodes"] > 1000 and summary["edges"] > 2000
    assert summary["crs"] == "EPSG:32632"
    assert {"dropped_nodes", "dropped_edges", "build_seconds", "cache_path"} <= summary.keys()


def test_network_build_text_mentions_the_osm_credit(run):
    code, out, _ = run("network", "build", "--osm", str(MONACO), "--mode", "walk")
    assert code == 0 and "walk network of monaco.osm.gz" in out
    assert "© OpenStreetMap contributors" in out


def test_route_json(run):
    code, out, _ = run("route", "--mode", "drive", "--from", "47.1410,9.5209",
                       "--to", "47.2200,9.5450", "--json")
    result = json.loads(out)
    assert code == 0
    assert result["travel_time_s"] > 60 and result["length_m"] > 5000
    assert len(result["snap_m"]) == 2
    assert result["geometry"]["type"] == "LineString"
    lon, lat = result["geometry"]["coordinates"][0]
    assert 9.4 < lon < 9.7 and 47.0 < lat < 47.3  # GeoJSON order: lon, lat


def test_route_from_a_point_to_itself_is_zero(run):
    code, out, _ = run("route", "--from", "47.1410,9.5209", "--to", "47.1410,9.5209", "--json")
    assert code == 0 and json.loads(out)["travel_time_s"] == 0


@pytest.mark.parametrize("argv, message", [
    (["--to", "47.22,abc"], "--to: expected two numbers LAT,LON"),
    (["--to", "nan,9.5"], "--to: coordinates must be finite"),
    (["--to", "47.22"], "--to: expected LAT,LON"),
    (["--to", "147.22,9.5"], "--to: .* out of range"),
    (["--to", "9.545,47.22"], "--to: .* look swapped"),
    (["--to", "46.0,9.5"], "--to: .* outside the network's extent"),
    (["--to", "47.22,9.545", "--mode", "bike"], "mode: unknown mode 'bike'"),
    (["--to", "47.22,9.545", "--osm", "/no/such.osm.pbf"], "no such file"),
])
def test_route_bad_input_is_one_line_with_exit_2(run, argv, message):
    code, out, err = run("route", "--from", "47.1410,9.5209", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")
    assert re.search(message, err), err


def test_truncated_pbf_gives_one_line_and_caches_nothing(tmp_path):
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(LIECHTENSTEIN.read_bytes()[:300_000])
    cache = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-m", "geo", "network", "build", "--osm", str(broken),
         "--cache-dir", str(cache)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {broken}: cannot read OSM data")
    assert not cache.exists() or not any(cache.iterdir())


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        main(["teleport"])
    assert exit_info.value.code == 2
