"""What a worker process opens once at start-up and keeps: the application context (registry,
road networks memory-mapped from the cache, rules), loaded in the background so that the
process answers ``/api/health`` ("not ready yet") while the networks load, and the job runner.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from geo.errors import GeoError
from geo.network.model import NetworkSettings
from geo.registry import Registry
from geo.registry.database import SCHEMA_VERSION, resolve_url
from geo.services import Context, NetworkSource, open_registry

log = logging.getLogger(__name__)


@dataclass
class WebState:
    """The process's context; ``problem`` says why it is not ready (None: ready)."""

    db_url: str
    source: NetworkSource
    modes: tuple[str, ...]
    ctx: Context | None = None
    networks_ready: threading.Event = field(default_factory=threading.Event)
    problem: str | None = "starting"
    first_password: str | None = None
    jobs: object | None = None  # web.jobs.JobRunner

    def open(self, *, load_in_background: bool = True) -> None:
        """Open the registry now; load the networks in a thread (or now)."""
        try:
            self.ctx = Context(open_registry(self.db_url), source=self.source)
        except GeoError as exc:
            self.problem = str(exc)
            log.error("registry: %s", exc)
            return
        self.first_password = self.ctx.registry.ensure_first_admin()
        self.problem = "loading road networks"
        if load_in_background:
            threading.Thread(target=self._load_networks, name="load-networks",
                             daemon=True).start()
        else:
            self._load_networks()

    def _load_networks(self) -> None:
        try:
            for mode in self.modes:
                self.context().network(mode)
        except GeoError as exc:
            self.problem = f"road networks: {exc}"
            log.error("road networks: %s", exc)
            return
        self.problem = None
        self.networks_ready.set()

    def context(self) -> Context:
        if self.ctx is None:
            from web.errors import ApiError
            raise ApiError(503, "not_ready", f"service not ready: {self.problem}")
        return self.ctx

    def registry(self) -> Registry:
        registry = self.context().registry
        assert registry is not None  # opened with one
        return registry

    def health(self) -> dict:
        """Ready or not, and why: networks loaded, database reachable, schema version."""
        checks: dict[str, object] = {"schema_version": SCHEMA_VERSION,
                                     "networks": dict.fromkeys(self.modes, False)}
        if self.ctx is not None:
            loaded = self.ctx.loaded_modes()
            checks["networks"] = {m: m in loaded for m in self.modes}
            try:
                self.ctx.registry.revision("teams")
                checks["database"] = "reachable"
            except Exception as exc:  # any failure to reach it is "not ready", with its words
                checks["database"] = f"unreachable: {str(exc).splitlines()[0]}"
        else:
            checks["database"] = "not opened"
        ready = self.problem is None and checks["database"] == "reachable"
        return {"status": "ready" if ready else "not ready",
                "problem": None if ready else (self.problem or checks["database"]), **checks}


def create_state(config) -> WebState:
    settings = NetworkSettings()
    cache = Path(config["CACHE_DIR"]) if config.get("CACHE_DIR") else None
    return WebState(db_url=resolve_url(config.get("DB_URL")),
                    source=NetworkSource(osm_path=Path(config["OSM_PATH"]), settings=settings,
                                         cache_dir=cache),
                    modes=tuple(config["NETWORK_MODES"]))


def state() -> WebState:
    return current_app.extensions["geo"]
