"""Running long work as jobs: the request gets ``202`` and a job id at once; a thread of this
worker process does the work, reporting progress and beating the job's heart in the database
(:mod:`geo.registry.jobs`), which keeps the result. Another worker process answers
``GET /api/jobs/{id}`` from the database just as well; a job whose process stopped is reported
lost there.

The threads are daemons: a stopping process does not wait for the jobs it runs (a
``ThreadPoolExecutor``'s threads are joined at exit, before ``atexit`` handlers, so a long job
kept a stopping worker or test run alive for minutes); they are reported lost instead."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from geo.errors import GeoError
from geo.registry import Registry
from geo.registry.jobs import HEARTBEAT_S
from web.errors import body, geo_error

log = logging.getLogger(__name__)

# work(report) -> result; report(fraction 0..1, what is being done)
Work = Callable[[Callable[[float, str], None]], dict]


class JobRunner:
    """Runs jobs on a few daemon threads of this process. One heartbeat thread beats every job
    the runner holds, queued ones included: a job waiting behind a long one is alive, not
    lost."""

    def __init__(self, registry: Registry, *, threads: int, heartbeat_s: float = HEARTBEAT_S):
        self.registry = registry
        self._queue: queue.Queue[tuple[str, Work] | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._serve, name=f"job-{n}", daemon=True)
                         for n in range(max(1, threads))]
        for thread in self._threads:
            thread.start()
        self._held: set[str] = set()  # queued or running here
        self._held_lock = threading.Lock()
        self._stop = threading.Event()
        self._heartbeat_s = heartbeat_s
        self._beat: threading.Thread | None = None

    def submit(self, kind: str, *, owner: str, params: dict, work: Work) -> str:
        job_id = self.registry.add_job(kind, owner=owner, params=params)
        with self._held_lock:
            self._held.add(job_id)
            if self._beat is None:  # started lazily: no thread in a process that runs no job
                self._beat = threading.Thread(target=self._beat_all, name="job-heartbeat",
                                              daemon=True)
                self._beat.start()
        self._queue.put((job_id, work))
        return job_id

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            self._run(*item)

    def _run(self, job_id: str, work: Work) -> None:
        try:
            self.registry.job_started(job_id)
            result = work(lambda fraction, message: self.registry.job_progress(
                job_id, fraction, message))
            self.registry.job_done(job_id, result)
        except GeoError as exc:
            status, payload = geo_error(exc)
            self.registry.job_failed(job_id, {**payload["error"], "status": status})
        except Exception:  # the job fails, the worker lives on; details go to the log
            log.exception("job %s failed", job_id)
            self.registry.job_failed(job_id, {**body("internal", "an unexpected error "
                                                     "occurred; it has been logged")["error"],
                                              "status": 500})
        finally:
            with self._held_lock:
                self._held.discard(job_id)

    def _beat_all(self) -> None:
        while not self._stop.wait(self._heartbeat_s):
            with self._held_lock:
                held = list(self._held)
            if not held:
                continue
            try:
                self.registry.jobs_heartbeat(held)
            except GeoError:  # busy database: the next beat will do
                continue

    def shutdown(self) -> None:
        """Start no more jobs and stop beating: those still queued stay queued in the
        database, and are reported lost once their heartbeat is old."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            self._queue.put(None)
