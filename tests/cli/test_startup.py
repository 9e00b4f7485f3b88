"""A command imports what it uses and no more (issue 12: ``python -m geo dispatch`` starts in a
blink). Each command runs in a fresh interpreter, which then lists the modules it loaded; the
heavy packages of the other commands, of the web service and of PostgreSQL must not be among
them. No timing: a module import that comes back at the top of a file turns this red."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo.cli.main import COMMAND_MODULES, COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]

# Run a command through geo.cli.main, then print the top-level names of the modules loaded.
RUN_AND_LIST = """
import json, sys
from geo.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

# Never needed to read the demo registry and answer from the network: solvers (siting,
# evacuation), the web service, tiles and maps, rasters, the ORM, PostGIS, network ingestion.
NOT_FOR_ANY_QUERY = ["scipy.optimize", "highspy", "flask", "werkzeug", "PIL", "folium",
                     "rasterio", "osmnx", "networkx", "geoalchemy2",
                     "sqlalchemy.orm", "sqlalchemy.dialects.postgresql",
                     "sqlalchemy.dialects.mysql",
                     "geo.analysis.evacuation", "geo.analysis.siting", "geo.io.tiles",
                     "geo.services.basemap", "geo.registry.demo", "geo.cli.registry",
                     "geo.cli.siting"]
# A dispatch needs none of the other analyses (nor the grids and contours of service areas), and
# a network loaded from the cache needs none of what builds one (OSM readers, progress bars).
NOT_FOR_A_DISPATCH = ["geo.services.analyses", "geo.analysis.coverage",
                      "geo.analysis.service_areas", "geo.analysis.exposure",
                      "geo.analysis.area_grid", "geo.analysis.grid_kernel",
                      "geo.analysis.stretch_kernel", "geo.analysis.lonlat_fit", "contourpy",
                      "numba",
                      "geo.network.osm_read", "geo.network.simplify", "geo.core.progress", "tqdm"]
# A route needs neither the registry nor any table.
NOT_FOR_A_ROUTE = ["sqlalchemy", "pandas", "geopandas", "yaml", "geo.registry.registry"]


def loaded_modules(*argv: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", RUN_AND_LIST, *argv], cwd=ROOT,
                            capture_output=True, text=True, check=False, timeout=300)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    return set(report["modules"])


@pytest.fixture(scope="module")
def demo_run(demo_file, cache_dir, li_drive, li_walk):
    return ["--db", str(demo_file), "--cache-dir", str(cache_dir)]


def test_dispatch_loads_no_solver_web_or_postgis_module(demo_run):
    loaded = loaded_modules("dispatch", "--at", "47.1650,9.5100", "--k", "3",
                            "--items", "water=500", *demo_run)
    assert "geo.analysis.dispatch" in loaded
    assert sorted(loaded & set(NOT_FOR_ANY_QUERY + NOT_FOR_A_DISPATCH)) == []


def test_route_loads_neither_the_registry_nor_pandas(cache_dir, li_walk):
    loaded = loaded_modules("route", "--mode", "walk", "--from", "47.1410,9.5209",
                            "--to", "47.1650,9.5100", "--cache-dir", str(cache_dir))
    assert "geo.routing.paths" in loaded
    assert sorted(loaded & set(NOT_FOR_ANY_QUERY + NOT_FOR_A_DISPATCH + NOT_FOR_A_ROUTE)) == []


def test_every_command_is_found_in_the_module_that_registers_it():
    registered = build_parser()._subparsers._group_actions[0].choices
    assert sorted(registered) == sorted(COMMANDS)
    for command, module in COMMANDS.items():
        assert module in COMMAND_MODULES
        parser = build_parser(command)
        assert command in parser._subparsers._group_actions[0].choices
