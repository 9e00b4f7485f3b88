"""Jobs in one worker process: a job queued behind a long one stays alive (its heartbeat is
kept by the process holding it) and then runs; a job whose work fails says why."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from geo.errors import ValidationError
from geo.registry import Registry, jobs
from web.jobs import JobRunner


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "LOST_AFTER_S", 1.0)  # here only: not wait 15 s
    registry = Registry(str(tmp_path / "r.sqlite"))
    runner = JobRunner(registry, threads=1, heartbeat_s=0.2)
    yield registry, runner
    runner.shutdown()
    registry.close()


def _wait_for(registry: Registry, job_id: str, status: str, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = registry.job(job_id)
        if state.status == status:
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is {registry.job(job_id).status}, not {status}")


def test_a_job_queued_behind_a_long_one_is_not_reported_lost(runner):
    registry, run = runner
    release = threading.Event()

    def long_work(report):
        report(0.5, "waiting")
        release.wait(10)
        return {"answer": 1}

    first = run.submit("long", owner="admin", params={}, work=long_work)
    second = run.submit("short", owner="admin", params={}, work=lambda report: {"answer": 2})
    time.sleep(1.6)  # longer than LOST_AFTER_S: only heartbeats keep both alive
    assert registry.job(first).status == "running"
    assert registry.job(second).status == "queued"
    release.set()
    assert _wait_for(registry, second, "done").result == {"answer": 2}
    assert registry.job(first).result == {"answer": 1}


def test_a_failing_job_keeps_the_error_with_its_field(runner):
    registry, run = runner

    def bad_work(report):
        raise ValidationError("breaks: must be positive")

    state = _wait_for(registry, run.submit("bad", owner="admin", params={}, work=bad_work),
                      "failed")
    assert state.error["status"] == 422
    assert state.error["field"] == "breaks"
    assert "must be positive" in state.error["message"]
    for name in ("created_at", "finished_at"):  # UTC, and saying so
        assert datetime.fromisoformat(state.to_dict()[name]).utcoffset() == timedelta(0)
