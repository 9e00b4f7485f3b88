"""A throwaway PostgreSQL 15 + PostGIS 3 server for the registry tests.

Debian's server binaries (``postgresql-15``, ``postgresql-15-postgis-3``, which
``scripts/setup_postgres.sh`` installs) make a cluster in a temporary folder: trust
authentication, a unix socket in that folder and a free TCP port on 127.0.0.1 only, durability
off (fsync, synchronous commit: nothing here must survive a crash). initdb refuses to run as
root, so as root the cluster belongs to the ``postgres`` user. Each test gets a database of its
own, copied from a template (a copy takes a fraction of a second) and dropped after it: an
empty one with the PostGIS extension, or one with an empty registry in it.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

from geo.registry.registry import Registry

VERSION = 15
BIN = Path(f"/usr/lib/postgresql/{VERSION}/bin")
POSTGIS_CONTROL = Path(f"/usr/share/postgresql/{VERSION}/extension/postgis.control")
PACKAGES = f"postgresql-{VERSION} postgresql-{VERSION}-postgis-3"
REQUIRE_ENV = "GEO_REQUIRE_POSTGRES"  # "1": a missing server fails the tests instead of skipping
POSTGIS_TEMPLATE = "geo_postgis"  # PostGIS, nothing else
REGISTRY_TEMPLATE = "geo_registry"  # an empty registry, as Registry(url) creates it
USER = "postgres"


def unavailable() -> str | None:
    """Why no test server can be started here, or None."""
    missing = [str(BIN / tool) for tool in ("initdb", "pg_ctl", "postgres")
               if not (BIN / tool).is_file()]
    if missing:
        return f"PostgreSQL {VERSION} is not installed (no {', '.join(missing)}); " \
               f"run scripts/setup_postgres.sh (Debian packages {PACKAGES})"
    if not POSTGIS_CONTROL.is_file():
        return f"PostGIS is not installed (no {POSTGIS_CONTROL}); run scripts/setup_postgres.sh"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"running as root and there is no {USER!r} user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser (util-linux) is missing"
    return None


class Server:
    """A running cluster; :meth:`stop` removes it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="geo-postgres-"))
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as_root = os.geteuid() == 0
        if self._as_root:
            account = pwd.getpwnam(USER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        atexit.register(self.stop)
        data = self.folder / "data"
        self._run(BIN / "initdb", "-D", data, "-U", USER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C", "--no-sync")
        options = " ".join([f"-p {self.port}", "-c listen_addresses=127.0.0.1",
                            f"-c unix_socket_directories={self.folder}", "-c fsync=off",
                            "-c synchronous_commit=off", "-c full_page_writes=off",
                            "-c max_connections=200"])
        self._run(BIN / "pg_ctl", "-D", data, "-o", options, "-l", self.folder / "server.log",
                  "-w", "-t", "60", "start")
        self._running = True
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {POSTGIS_TEMPLATE}")
        with psycopg.connect(self._conninfo(POSTGIS_TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {REGISTRY_TEMPLATE} TEMPLATE {POSTGIS_TEMPLATE}")
        Registry(self.url(REGISTRY_TEMPLATE)).close()

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, *, template: str = REGISTRY_TEMPLATE) -> str:
        """A new database copied from ``template``; returns its name."""
        name = f"geo_test_{next(self._names)}"
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if getattr(self, "_running", False):
            self._running = False
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(BIN / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "-w",
                          "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self._conninfo("postgres"), autocommit=True)

    def _conninfo(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def _run(self, *command) -> None:
        args = [str(part) for part in command]
        if self._as_root:
            args = ["runuser", "-u", USER, "--", *args]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}{self.log()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
