"""Record rules: checked under the write lock against concurrent edits (by real processes on a
real SQLite file and a real PostgreSQL database), and numbers kept within sane bounds."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
import time

import psycopg
import pytest
import shapely

from geo.errors import NotFoundError, ValidationError
from geo.registry.registry import Registry

VADUZ = (9.5209, 47.1410)
ROUNDS = 30


def _edit_each(path: str, changes: dict, ids: list[str], barrier, results) -> None:
    """One editor (a process of its own): the same change to each shelter in turn, starting
    together with the other editor each time."""
    with Registry(path, create=False) as registry:
        for shelter_id in ids:
            barrier.wait()
            try:
                registry.update("shelters", shelter_id, changes)
                results.put((shelter_id, "accepted", ""))
            except ValidationError as exc:
                results.put((shelter_id, "refused", str(exc)))


def test_concurrent_edits_never_break_occupancy_within_capacity(registry_url):
    # Each change alone is fine (capacity 1000 -> 100 with 50 people; 500 people in 1000
    # places); together they are not, so whichever commits second must be refused.
    path = registry_url
    ids = [f"S{i}" for i in range(ROUNDS)]
    with Registry(path) as setup:
        setup.add_many("shelters", [
            {"id": i, "shelter_class": "emergency", "capacity_people": 1000, "occupancy": 50,
             "geometry": shapely.Point(*VADUZ)} for i in ids])
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    editors = [spawn.Process(target=_edit_each, args=(path, changes, ids, barrier, results))
               for changes in ({"capacity_people": 100}, {"occupancy": 500})]
    for editor in editors:
        editor.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for editor in editors:
        editor.join(timeout=60)
        assert editor.exitcode == 0
    with Registry(path, create=False) as registry:
        shelters = registry.layer("shelters")
    assert (shelters["occupancy"] <= shelters["capacity_people"]).all()
    for shelter_id in ids:
        verdicts = sorted(kind for i, kind, _ in outcomes if i == shelter_id)
        assert verdicts == ["accepted", "refused"], shelter_id
    refusals = {message for _, kind, message in outcomes if kind == "refused"}
    assert all("occupancy" in m and "exceeds capacity_people" in m for m in refusals), refusals


def _shelter(**fields) -> dict:
    return {"shelter_class": "emergency", "capacity_people": 100,
            "geometry": shapely.Point(*VADUZ), **fields}


@pytest.mark.parametrize(("layer", "record", "message"), [
    ("shelters", _shelter(capacity_people=1e300),
     "capacity_people: 1e+300 is above the maximum 10,000,000"),
    ("shelters", _shelter(capacity_people="1e300"), "capacity_people: 1e+300 is above"),
    ("shelters", _shelter(occupancy=10**400), "occupancy: 1000000000000"),
    ("shelters", _shelter(capacity_people=None, effective_area_m2=1e300),
     "effective_area_m2: 1e+300 is above the maximum 100,000,000"),
    ("teams", {"type": "fire", "headcount": 10**6, "geometry": shapely.Point(*VADUZ)},
     "headcount: 1e+06 is above the maximum 10,000"),
    ("teams", {"type": "fire", "headcount": 3, "turnout_s": 1e300,
               "geometry": shapely.Point(*VADUZ)}, "turnout_s: 1e+300 is above the maximum"),
    ("hazards", {"type": "fuel_station", "radius_m": 1e300, "geometry": shapely.Point(*VADUZ)},
     "radius_m: 1e+300 is above the maximum"),
    ("population", {"population": 1e300, "geometry": shapely.Point(*VADUZ)},
     "population: 1e+300 is above the maximum"),
    ("incidents", {"type": "fire", "needs": {"teams": {"fire": 10**400}},
                   "geometry": shapely.Point(*VADUZ)}, "needs.teams.fire: 1000"),
])
def test_numbers_beyond_sane_bounds_are_refused_by_name(tmp_path, layer, record, message):
    with Registry(str(tmp_path / "registry.sqlite")) as registry:
        with pytest.raises(ValidationError, match=re.escape(message)):
            registry.add(layer, record)
        assert registry.counts()[layer] == 0


def test_stock_beyond_sane_bounds_is_refused(registry_url):
    with Registry(registry_url) as registry:
        registry.add("depots", {"id": "D1", "geometry": shapely.Point(*VADUZ)})
        for quantity in (1e300, 10**400):
            with pytest.raises(ValidationError, match="quantity: .* too large"):
                registry.set_stock("D1", "water", quantity)
        registry.set_stock("D1", "water", 50)
        with pytest.raises(ValidationError, match="delta: expected a finite number"):
            registry.adjust_stock("D1", "water", 10**400)
        assert registry.stock("D1") == {"water": 50.0}


def _other_writer(url: str):
    """Another process's connection, in a transaction of its own."""
    if url.startswith("postgresql"):
        return psycopg.connect(url, autocommit=True)  # BEGIN and COMMIT as sent
    return sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)


def test_stock_for_a_depot_deleted_meanwhile_is_a_clear_error(registry_url):
    """Another dispatcher deletes the depot while our stock change waits for the write lock
    (SQLite) or the depot's row lock (PostgreSQL): the depot is looked up inside our write
    transaction, so the answer is "no such depot", not a broken foreign key (it used to be
    checked before the write, where it still existed)."""
    with Registry(registry_url) as registry:
        registry.add("depots", {"id": "D1", "geometry": shapely.Point(*VADUZ)})
        other = _other_writer(registry_url)
        other.execute("BEGIN" if registry.postgis else "BEGIN IMMEDIATE")
        other.execute("DELETE FROM depots WHERE id = 'D1'")
        outcome: list[BaseException | None] = []

        def change_stock():
            try:
                registry.set_stock("D1", "water", 10)
                outcome.append(None)
            except BaseException as exc:  # the test reports whatever was raised
                outcome.append(exc)

        worker = threading.Thread(target=change_stock)
        worker.start()
        time.sleep(0.5)  # our write is now waiting for the lock the other connection holds
        other.execute("COMMIT")
        other.close()
        worker.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], NotFoundError), outcome
        assert "no record with id 'D1'" in str(outcome[0])
        assert registry.stock("D1") == {}
