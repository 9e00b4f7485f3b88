"""Many writers at once, on both databases: twenty processes (as twenty server workers would
be), each with its own Registry on the same URL, starting together.

On PostgreSQL under READ COMMITTED nothing serialises writers but row locks, so these fail if a
write reads a value and writes it back (a revision bumped by read-then-write loses counts or
trips over a unique key) or a status change is not conditional.
"""

from __future__ import annotations

import multiprocessing
import queue
import re

import pytest
import shapely

from geo.errors import BusyError, ConflictError
from geo.registry.registry import Registry

VADUZ = (9.5209, 47.1410)
WRITERS = 20
BUMPS = 3  # writes of each writer in the revision test
# A fork server that has imported the registry once forks each writer: quick to start (spawn
# would import geo twenty times over), and unlike a fork of the test process it has no threads.
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload([__name__])


def _run_writers(target, args: list[tuple]) -> list[tuple]:
    """Start one process per ``args`` (each gets a start barrier and a result queue after its
    own arguments); return what they put on the queue, one tuple each."""
    barrier, results = CONTEXT.Barrier(len(args)), CONTEXT.Queue()
    processes = [CONTEXT.Process(target=target, args=(*each, barrier, results)) for each in args]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=120) for _ in processes]
    except queue.Empty:
        outcomes = []
    for process in processes:
        process.join(timeout=60)
        if process.exitcode is None:
            process.kill()
    assert len(outcomes) == len(args), "a writer did not report"
    assert [process.exitcode for process in processes] == [0] * len(args)
    return outcomes


def _assign(url: str, incident: str, barrier, results) -> None:
    try:
        with Registry(url, create=False) as registry:
            barrier.wait(timeout=60)
            try:
                registry.assign_team(incident, "T1", actor=incident)
                results.put((incident, "won", None))
            except ConflictError as exc:
                results.put((incident, "lost", exc.current))
    except Exception as exc:  # reported, so the test shows it
        results.put((incident, "error", repr(exc)))


def test_of_twenty_dispatchers_assigning_one_team_exactly_one_wins(registry_url):
    incidents = [f"I{i}" for i in range(WRITERS)]
    with Registry(registry_url) as setup:
        setup.add("teams", {"id": "T1", "type": "fire", "headcount": 6,
                            "geometry": shapely.Point(*VADUZ)})
        setup.add_many("incidents", [{"id": i, "type": "fire", "geometry": shapely.Point(*VADUZ)}
                                     for i in incidents])
    outcomes = _run_writers(_assign, [(registry_url, i) for i in incidents])
    winners = [incident for incident, kind, _ in outcomes if kind == "won"]
    assert len(winners) == 1, outcomes
    assert sorted((kind, current) for _, kind, current in outcomes if kind != "won") == [
        ("lost", "assigned")] * (WRITERS - 1)
    with Registry(registry_url, create=False) as registry:
        assert registry.get("teams", "T1")["status"] == "assigned"
        layer = registry.layer("incidents")
        assert layer.loc[winners[0], "assigned_teams"] == ["T1"]
        assert layer["assigned_teams"].map(len).sum() == 1
        assert set(layer.loc[layer.index != winners[0], "status"]) == {"open"}
        actions = registry.audit_log(layer="incidents")["action"].tolist()
        assert actions.count("assign") == 1


def _add_hazards(url: str, writer: int, barrier, results) -> None:
    try:
        with Registry(url, create=False) as registry:
            barrier.wait(timeout=60)
            for i in range(BUMPS):
                registry.add("hazards", {"id": f"H{writer}-{i}", "type": "fuel_station",
                                         "radius_m": 50, "geometry": shapely.Point(*VADUZ)})
        results.put((writer, "ok", None))
    except Exception as exc:  # reported, so the test shows it
        results.put((writer, "error", repr(exc)))


def test_revisions_count_every_write_of_many_concurrent_writers(registry_url):
    with Registry(registry_url) as setup:  # the counter exists: writers race to add to it
        setup.add("hazards", {"id": "H", "type": "fuel_station", "radius_m": 50,
                              "geometry": shapely.Point(*VADUZ)})
    outcomes = _run_writers(_add_hazards, [(registry_url, w) for w in range(WRITERS)])
    assert [kind for _, kind, _ in outcomes] == ["ok"] * WRITERS, outcomes
    with Registry(registry_url, create=False) as registry:
        assert registry.counts()["hazards"] == 1 + WRITERS * BUMPS
        assert registry.revision("hazards") == 1 + WRITERS * BUMPS  # no write lost its count


def test_a_row_held_by_another_writer_is_registry_busy_on_postgres(postgres_url):
    import psycopg

    with Registry(postgres_url, busy_timeout=0.3) as registry:
        registry.add("teams", {"id": "T1", "type": "fire", "headcount": 6,
                               "geometry": shapely.Point(*VADUZ)})
        # Another server's dispatcher, in the middle of changing the team.
        with psycopg.connect(postgres_url) as other:
            other.execute("SELECT status FROM teams WHERE id = 'T1' FOR UPDATE")
            safe = "postgresql://***@" + postgres_url.split("@", 1)[1]
            with pytest.raises(BusyError, match=re.escape(
                    f"registry busy: another process is writing to {safe}; nothing was written, "
                    f"try again")):
                registry.set_team_status("T1", "off_duty", expected="available")
        registry.set_team_status("T1", "off_duty", expected="available")  # free again
        assert registry.get("teams", "T1")["status"] == "off_duty"
