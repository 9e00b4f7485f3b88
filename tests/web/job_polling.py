"""Following a job the API queued, as a client does: poll its href until it ends."""

from __future__ import annotations

import time


def wait_for_job(client, href: str, headers: dict, *, timeout_s: float = 120) -> dict:
    """The job's final state (done, failed or lost), polled every 0.1 s."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(href, headers=headers).json
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']}: {job['message']}"
        time.sleep(0.1)
