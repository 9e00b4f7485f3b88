"""Jobs: long work (a service area of every shelter, a coverage run) kept in the database.

A job is queued, then run by one worker process, which beats its heart every few seconds from
the moment it takes the job until it finishes; its result or error is stored with it. Because
all of this is in the database, a finished job's result outlives the process that computed it,
and a job whose process stopped (a restart, a crash) is seen as *lost*: its heartbeat is older
than :data:`LOST_AFTER_S`.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from geo.core.jsonable import jsonable
from geo.errors import NotFoundError
from geo.registry import database as db
from geo.registry.store import Store

JOB_STATUSES = ("queued", "running", "done", "failed", "lost")
HEARTBEAT_S = 2.0
LOST_AFTER_S = 15.0  # several missed heartbeats


@dataclass(frozen=True)
class JobState:
    id: str
    kind: str
    owner: str
    status: str
    progress: float
    message: str
    result: dict | None
    error: dict | None
    created_at: datetime
    finished_at: datetime | None

    def to_dict(self) -> dict:
        return jsonable({"id": self.id, "kind": self.kind, "status": self.status,
                         "progress": self.progress, "message": self.message,
                         "created_at": self.created_at, "finished_at": self.finished_at,
                         "result": self.result, "error": self.error})


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobsMixin(Store):
    def add_job(self, kind: str, *, owner: str, params: dict) -> str:
        job_id = uuid.uuid4().hex
        now = db.utc_now()
        with self._write() as conn:
            conn.execute(insert(db.jobs).values(
                id=job_id, kind=kind, owner=owner, status="queued", progress=0.0,
                message="queued", params=jsonable(params), worker=this_worker(),
                created_at=now, heartbeat_at=now))
        return job_id

    def job_started(self, job_id: str) -> None:
        self._set_job(job_id, status="running", message="started")

    def job_progress(self, job_id: str, progress: float, message: str) -> None:
        """Progress (0..1) with what is being done; also the heartbeat."""
        self._set_job(job_id, progress=max(0.0, min(1.0, float(progress))), message=message)

    def jobs_heartbeat(self, job_ids: list[str]) -> None:
        """Mark the unfinished ones of ``job_ids`` alive, in one statement."""
        jobs = db.jobs
        with self._write() as conn:
            conn.execute(update(jobs).where(jobs.c.id.in_([str(i) for i in job_ids]),
                                            jobs.c.status.in_(("queued", "running")))
                         .values(heartbeat_at=db.utc_now()))

    def job_done(self, job_id: str, result: dict) -> None:
        self._set_job(job_id, status="done", progress=1.0, message="done",
                      result=jsonable(result), finished_at=db.utc_now())

    def job_failed(self, job_id: str, error: dict) -> None:
        self._set_job(job_id, status="failed", message=str(error.get("message", "failed")),
                      error=jsonable(error), finished_at=db.utc_now())

    def job(self, job_id: str) -> JobState:
        """The job, marked lost (in the database too) if it is unfinished and its worker's
        heartbeat stopped."""
        jobs = db.jobs
        query = select(jobs).where(jobs.c.id == str(job_id))
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"job: no job with id {job_id!r}")
        if row["status"] in ("queued", "running") and _stale(row["heartbeat_at"]):
            message = (f"lost: the worker process running it ({row['worker']}) stopped (a "
                       "restart or a crash) before it finished; submit it again")
            with self._write() as conn:
                # Only if no heartbeat came since it was read (a conditional update: no
                # worker that is still alive is marked lost).
                conn.execute(update(jobs).where(jobs.c.id == str(job_id),
                                                jobs.c.status.in_(("queued", "running")),
                                                jobs.c.heartbeat_at == row["heartbeat_at"])
                             .values(status="lost", message=message,
                                     finished_at=db.utc_now()))
                row = conn.execute(query).mappings().one()
        return _state(row)

    def _set_job(self, job_id: str, **values) -> None:
        jobs = db.jobs
        with self._write() as conn:
            conn.execute(update(jobs).where(jobs.c.id == str(job_id))
                         .values(heartbeat_at=db.utc_now(), **values))


def _stale(heartbeat: datetime) -> bool:
    return db.utc_now() - heartbeat > timedelta(seconds=LOST_AFTER_S)


def _state(row) -> JobState:
    return JobState(id=row["id"], kind=row["kind"], owner=row["owner"], status=row["status"],
                    progress=float(row["progress"]), message=row["message"],
                    result=row["result"], error=row["error"], created_at=row["created_at"],
                    finished_at=row["finished_at"])
