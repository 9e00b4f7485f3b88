"""Long imports and short writes: large batches are staged outside the write lock and switched
in whole (on a SQLite file and on PostgreSQL); a write that finds the SQLite file held says
"registry busy"."""

from __future__ import annotations

import sqlite3
import threading
import time

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import Affine
from sqlalchemy import text

from geo.cli.main import main
from geo.errors import BusyError, RecordsRejectedError
from geo.registry import database as db
from geo.registry.registry import Registry
from geo.registry.staging import STAGE_ABOVE_ROWS

VADUZ = (9.5209, 47.1410)
STAGED_ROWS = 2 * STAGE_ABOVE_ROWS + 1


def _people(n: int, *, prefix: str = "P", seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(9.48, 9.62, n), rng.uniform(47.05, 47.26, n)
    return [{"id": f"{prefix}{i}", "population": float(i % 7), "geometry": shapely.Point(x, y)}
            for i, (x, y) in enumerate(zip(lon, lat))]


def _temporary_tables(registry: Registry) -> list[str]:
    """Temporary tables left on the pooled connection the registry hands out next (SQLite), or
    on any session (PostgreSQL's catalogue lists every session's)."""
    query = ("SELECT relname FROM pg_class WHERE relpersistence = 't'" if registry.postgis
             else "SELECT name FROM sqlite_temp_master")
    with registry.engine.connect() as conn:
        return list(conn.execute(text(query)).scalars())


def _hold_write_lock(path) -> sqlite3.Connection:
    """Another process's writer in the middle of its transaction."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


@pytest.fixture
def path(tmp_path):
    return tmp_path / "registry.sqlite"


def _registry(url: str) -> Registry:
    registry = Registry(url, busy_timeout=0.3)
    registry.add("teams", {"id": "T1", "type": "fire", "headcount": 6,
                           "geometry": shapely.Point(*VADUZ)})
    registry.add("incidents", {"id": "I1", "type": "fire", "geometry": shapely.Point(*VADUZ)})
    return registry


@pytest.fixture
def reg(path):
    """A registry on a SQLite file, for the tests of its write lock."""
    with _registry(f"sqlite:///{path}") as registry:
        yield registry


@pytest.fixture
def any_reg(registry_url):
    """A registry on either database."""
    with _registry(registry_url) as registry:
        yield registry


def test_a_large_batch_is_staged_and_switched_in_whole(any_reg):
    reg = any_reg
    people = _people(STAGED_ROWS)
    ids = reg.add_many("population", people, actor="grid")
    assert len(ids) == reg.counts()["population"] == STAGED_ROWS
    stored = reg.get("population", "P7")
    assert stored["population"] == 0.0 and stored["geometry"].equals(people[7]["geometry"])
    assert stored["created_at"] is not None
    entry = reg.audit_log(layer="population").iloc[0]
    assert entry["action"] == "import" and entry["new"]["count"] == STAGED_ROWS
    assert list(reg.nearby("population", stored["geometry"].x, stored["geometry"].y,
                           radius_m=0.01).index) == ["P7"]
    assert _temporary_tables(reg) == []


def test_replace_switches_the_whole_layer_in_one_write(any_reg):
    reg = any_reg
    reg.add_many("population", _people(STAGED_ROWS))
    others = _people(STAGED_ROWS, prefix="Q", seed=1)
    point = others[0]["geometry"]
    assert reg.nearest("population", point.x, point.y).index[0].startswith("P")
    reg.add_many("population", others, replace=True)
    population = reg.layer("population")
    assert len(population) == STAGED_ROWS and population.index.str.startswith("Q").all()
    assert reg.nearest("population", point.x, point.y).index[0] == "Q0"  # index rebuilt
    actions = reg.audit_log(layer="population")["action"].tolist()
    assert actions[:2] == ["import", "clear"]


def test_ids_already_taken_reject_a_staged_batch_and_leave_nothing(any_reg):
    reg = any_reg
    reg.add_many("population", _people(3))
    with pytest.raises(RecordsRejectedError, match="id 'P2' already exists in population"):
        reg.add_many("population", _people(STAGED_ROWS))
    assert reg.counts()["population"] == 3
    assert _temporary_tables(reg) == []


def test_a_held_write_lock_gives_a_clear_busy_error_and_leaves_the_layer_as_it_was(reg, path):
    reg.add_many("population", _people(3, prefix="old"))
    other = _hold_write_lock(path)
    try:
        started = time.perf_counter()
        with pytest.raises(BusyError, match="registry busy: another process is writing to "
                                            ".*registry.sqlite; nothing was written, try again"):
            reg.assign_team("I1", "T1")
        assert time.perf_counter() - started < 5
        with pytest.raises(BusyError, match="registry busy"):
            reg.add_many("population", _people(STAGED_ROWS), replace=True)  # staged, then stuck
    finally:
        other.rollback()
        other.close()
    assert reg.layer("population").index.tolist() == ["old0", "old1", "old2"]
    assert reg.get("teams", "T1")["status"] == "available"
    assert _temporary_tables(reg) == []
    reg.assign_team("I1", "T1")  # free again
    assert reg.get("teams", "T1")["status"] == "assigned"


def test_a_held_write_lock_is_one_line_in_the_cli(path, reg, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(db.BUSY_TIMEOUT_ENV, "0.2")
    rows = tmp_path / "teams.csv"
    rows.write_text("id,type,headcount,lon,lat\nT9,medical,2,9.52,47.14\n", encoding="utf-8")
    other = _hold_write_lock(path)
    try:
        code = main(["registry", "import", str(rows), "--layer", "teams", "--db", str(path)])
    finally:
        other.rollback()
        other.close()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: registry busy: another process is writing to ")
    assert reg.counts()["teams"] == 1


def _population_raster(path, *, cells: int) -> None:
    """A population grid of about ``cells`` 100 m cells (people per cell) around Vaduz."""
    side = int(np.ceil(np.sqrt(cells)))
    values = (np.arange(side * side, dtype="float32").reshape(side, side) % 13) + 1
    transform = Affine(100, 0, 740_000, 0, -100, 5_240_000)  # UTM 32N, over Liechtenstein
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=1,
                       dtype="float32", crs="EPSG:32632", transform=transform) as out:
        out.write(values, 1)


def test_a_dispatcher_can_assign_while_a_large_grid_loads(reg, path, tmp_path, capsys):
    grid = tmp_path / "grid.tif"
    _population_raster(grid, cells=90_000)
    outcome: dict = {}

    def load():
        outcome["code"] = main(["registry", "population", "--raster", str(grid),
                                "--db", str(path)])

    loader = threading.Thread(target=load)
    waits_s = []
    with Registry(str(path), busy_timeout=1.0) as dispatcher:
        loader.start()
        while loader.is_alive():
            started = time.perf_counter()
            dispatcher.assign_team("I1", "T1")  # BusyError if it waited 1 s
            dispatcher.release_team("T1")
            waits_s.append(time.perf_counter() - started)
            time.sleep(0.05)
        loader.join()
    assert outcome["code"] == 0, capsys.readouterr().err
    assert reg.counts()["population"] == 300 * 300
    assert len(waits_s) >= 5  # the load took a while, and the dispatcher kept working
    assert max(waits_s) < 1.0
    assert reg.population_source["method"] == "raster"
