"""The web service's tables in the registry, on both databases: users, tokens, sign-in
attempts (geo/registry/accounts.py) and jobs (geo/registry/jobs.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from geo.errors import ConflictError, NotFoundError
from geo.registry import accounts
from geo.registry import database as db
from geo.registry.jobs import LOST_AFTER_S
from geo.registry.registry import Registry

PASSWORD = "correct horse battery"


@pytest.fixture
def reg(registry_url):
    with Registry(registry_url) as registry:
        yield registry


def test_users_tokens_and_sign_in_attempts(reg):
    assert reg.ensure_first_admin() is not None
    assert reg.ensure_first_admin() is None  # the admin exists now
    reg.add_user("ana", "dispatcher", PASSWORD)
    with pytest.raises(ConflictError, match="'ana' already exists"):
        reg.add_user("ana", "viewer", PASSWORD)
    reg.set_role("ana", "planner")
    assert reg.check_password("ana", PASSWORD).role == "planner"
    assert reg.check_password("ana", "wrong password!") is None
    with pytest.raises(NotFoundError, match="no user named 'bo'"):
        reg.set_role("bo", "viewer")
    token, info = reg.create_token("ana", label="qgis")
    assert reg.account_for_token(token).name == "ana"
    reg.revoke_token(info.id)
    assert reg.account_for_token(token) is None
    for _ in range(3):
        reg.record_login("ana", "10.0.0.1", ok=False)
    reg.record_login("ana", "10.0.0.1", ok=True)
    assert reg.failed_logins(name="ana", address="10.0.0.2", window_s=60) == 3
    assert [a["action"] for a in reg.audit_log(layer="users").to_dict("records")] == [
        "update", "insert", "insert"]


def test_an_unknown_name_is_checked_against_a_hash_as_costly_as_a_stored_one(reg):
    reg.add_user("ana", "dispatcher", PASSWORD)
    users = db.users
    with reg.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    # "scrypt:N:r:p$salt$hash": the same method and cost parameters
    assert accounts._DUMMY_HASH.split("$")[0] == stored.split("$")[0]
    assert reg.check_password("nobody", PASSWORD) is None


def test_a_job_whose_heartbeat_stopped_is_lost_and_a_live_one_is_not(reg):
    live, dead = (reg.add_job("coverage", owner="ana", params={}) for _ in range(2))
    for job in (live, dead):
        reg.job_started(job)
    jobs = db.jobs
    with reg.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == dead).values(
            heartbeat_at=db.utc_now() - timedelta(seconds=2 * LOST_AFTER_S)))
    reg.job_progress(live, 0.5, "half way")
    assert reg.job(live).status == "running" and reg.job(live).progress == 0.5
    lost = reg.job(dead)
    assert lost.status == "lost" and "stopped" in lost.message
    reg.job_done(live, {"covered": 1})
    assert reg.job(live).status == "done" and reg.job(live).result == {"covered": 1}
