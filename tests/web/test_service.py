"""The service as users run it: gunicorn with several worker processes on loopback, health
before and after it is ready, jobs that outlive their worker or say they were lost, the first
login printed once, and the Flask commands for accounts and tokens."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from geo.registry import Registry
from geo.registry import database as dbm
from tests.web.conftest import PASSWORD, copy_registry

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
FLASK = Path(sys.executable).with_name("flask")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path, db: Path, cache_dir: Path, **extra) -> dict:
    return {**os.environ, "GEO_DB_URL": str(db), "GEO_CACHE_DIR": str(cache_dir),
            "GEO_WEB_INSTANCE_PATH": str(tmp_path / "instance"), **extra}


def _call(url: str, *, token: str | None = None, body: dict | None = None):
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"}
                                                 if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Server:
    def __init__(self, env: dict, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            [str(GUNICORN), "--config", "web/gunicorn_conf.py"], cwd=ROOT,
            env={**env, "GEO_WEB_BIND": f"127.0.0.1:{self.port}", "GEO_WEB_WORKERS": "2"},
            stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout_s: float = 120) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                status, body = _call(f"{self.url}/api/health")
                if status == 200:
                    return body
            except OSError:
                pass
            assert self.process.poll() is None, f"server stopped:\n{self.log.read_text()}"
            time.sleep(0.2)
        raise AssertionError(f"not ready after {timeout_s} s:\n{self.log.read_text()}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                             text=True, check=False).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


@pytest.fixture
def deployment(tmp_path, demo_file, cache_dir):
    db = copy_registry(demo_file, tmp_path / "registry.sqlite")
    with Registry(str(db)) as registry:
        registry.add_user("dispatcher-user", "dispatcher", PASSWORD)
        token = registry.create_token("dispatcher-user")[0]
    servers: list[Server] = []

    def start() -> Server:
        server = Server(_env(tmp_path, db, cache_dir), tmp_path / "server.log")
        servers.append(server)
        return server

    yield start, token, db
    for server in servers:
        server.stop()


@pytest.mark.slow
def test_gunicorn_serves_with_its_workers_and_health_says_ready(deployment):
    start, token, _ = deployment
    server = start()
    health = server.wait_ready()
    assert health == {"status": "ready", "problem": None, "schema_version": 3,
                      "networks": {"drive": True, "walk": True}, "database": "reachable"}
    assert len(server.worker_pids()) == 2
    status, body = _call(f"{server.url}/api/dispatch", token=token,
                         body={"at": [9.51, 47.165], "k": 2})
    assert status == 200 and len(body["teams"]) == 2


@pytest.mark.slow
def test_a_finished_job_outlives_the_workers_and_a_running_one_is_reported_lost(deployment):
    start, token, db = deployment
    server = start()
    server.wait_ready()
    status, accepted = _call(f"{server.url}/api/service-areas", token=token,
                             body={"breaks": [5]})
    assert status == 202
    deadline = time.monotonic() + 120
    while (job := _call(f"{server.url}{accepted['href']}", token=token)[1])["status"] != "done":
        assert time.monotonic() < deadline and job["status"] in ("queued", "running"), job
        time.sleep(0.2)
    server.stop()
    # A job whose worker stopped mid-way: left running in the database by a process that died.
    with Registry(str(db)) as registry:
        orphan = registry.add_job("coverage", owner="test", params={})
        registry.job_started(orphan)
    restarted = start()
    restarted.wait_ready()
    status, again = _call(f"{restarted.url}{accepted['href']}", token=token)
    assert status == 200 and again["status"] == "done" and again["result"]["areas"]
    with Registry(str(db)) as registry, registry.engine.begin() as conn:
        # its heartbeat stopped a minute ago
        conn.execute(update(dbm.jobs).where(dbm.jobs.c.id == orphan)
                     .values(heartbeat_at=dbm.utc_now() - timedelta(seconds=60)))
    status, lost = _call(f"{restarted.url}/api/jobs/{orphan}", token=token)
    assert status == 200 and lost["status"] == "lost"
    assert "submit it again" in lost["message"]


@pytest.mark.slow
def test_a_killed_worker_loses_its_running_job_visibly(deployment, monkeypatch):
    start, token, db = deployment
    server = start()
    server.wait_ready()
    # Every shelter, many breaks, rings split between facilities: seconds of work.
    status, accepted = _call(f"{server.url}/api/service-areas", token=token,
                             body={"breaks": list(range(2, 42, 2)), "shape": "rings",
                                   "overlap": "split"})
    assert status == 202
    for pid in server.worker_pids():
        os.kill(pid, signal.SIGKILL)  # gunicorn starts new workers
    from geo.registry import jobs
    monkeypatch.setattr(jobs, "LOST_AFTER_S", 1.0)  # here only: not wait 15 s
    time.sleep(1.5)
    with Registry(str(db)) as registry:
        state = registry.job(accepted["job"])
    assert state.status == "lost"
    assert "stopped" in state.message and "submit it again" in state.message
    server.wait_ready()  # the new workers serve
    status, seen = _call(f"{server.url}{accepted['href']}", token=token)
    assert status == 200 and seen["status"] == "lost"


def test_health_is_503_while_the_registry_is_missing(tmp_path, cache_dir):
    from web import create_app
    app = create_app({"TESTING": True, "DB_URL": str(tmp_path / "none.sqlite"),
                      "CACHE_DIR": str(cache_dir), "INSTANCE_PATH": str(tmp_path / "i")})
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert "no registry" in response.json["problem"]
    other = app.test_client().get("/collections")
    assert other.status_code == 503 and other.json["error"]["code"] == "not_ready"


def test_health_is_503_while_the_networks_cannot_be_loaded(tmp_path, demo_file):
    from web import create_app
    db = copy_registry(demo_file, tmp_path / "registry.sqlite")
    app = create_app({"TESTING": True, "DB_URL": str(db), "NETWORK_MODES": ["drive"],
                      "OSM_PATH": str(tmp_path / "moved-away.osm.pbf"),
                      "LOAD_NETWORKS_NOW": True, "INSTANCE_PATH": str(tmp_path / "i")})
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert response.json["networks"] == {"drive": False}
    assert response.json["database"] == "reachable"
    assert response.json["problem"].startswith("road networks:")
    assert "moved-away.osm.pbf" in response.json["problem"]


def _flask(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(FLASK), "--app", "web", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_flask_commands_add_users_and_create_tokens(tmp_path, demo_file, cache_dir):
    db = copy_registry(demo_file, tmp_path / "registry.sqlite")
    env = _env(tmp_path, db, cache_dir, GEO_WEB_NETWORK_MODES="[]")
    added = _flask(env, "user", "add", "li", "--role", "dispatcher", "--password-stdin",
                   stdin="a long enough password\n")
    assert added.returncode == 0, added.stderr
    assert "First login: user 'admin'" in added.stderr  # the first start of this registry
    created = _flask(env, "token", "create", "--user", "li")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("geo_") and "not shown again" in created.stderr
    with Registry(str(db)) as registry:
        assert registry.account_for_token(token).name == "li"
        assert registry.check_password("li", "a long enough password").role == "dispatcher"
        token_id = registry.tokens("li")[0].id
    assert _flask(env, "token", "revoke", str(token_id)).returncode == 0
    with Registry(str(db)) as registry:
        assert registry.account_for_token(token) is None
    short = _flask(env, "user", "add", "x", "--role", "viewer", "--password-stdin",
                   stdin="short\n")
    assert short.returncode != 0 and "password: at least" in short.stderr
    assert "Traceback" not in short.stderr
    unknown = _flask(env, "token", "create", "--user", "nobody")
    assert unknown.returncode != 0 and "no user named 'nobody'" in unknown.stderr
