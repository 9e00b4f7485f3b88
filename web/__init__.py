"""The web service: a Flask app factory with the REST API (``/api``, OpenAPI at
``/api/openapi.json``) and the registry's layers as OGC API – Features (``/collections``).

Run it with gunicorn (``gunicorn 'web:create_app()'``, see ``scripts/serve.sh``); ``flask --app
web run`` is for development only. Each worker process opens the application context once at
start-up (registry, rules, road networks memory-mapped from the cache, loaded in the
background while ``/api/health`` says "not ready").
"""

from __future__ import annotations

import atexit
import logging
import sys
from datetime import date, datetime

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from web import config, errors
from web.state import create_state

log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=_instance_path(test_config))
    app.json = JSONProvider(app)
    config.load(app, test_config)
    errors.register(app)

    from web.api import api
    from web.commands import register as register_commands
    from web.jobs import JobRunner
    from web.ogc import ogc
    from web.ui import i18n, ui
    app.register_blueprint(api)
    app.register_blueprint(ogc)
    app.register_blueprint(ui)
    i18n.install(app)
    register_commands(app)

    @app.after_request
    def _no_sniffing(response):
        # A browser must take every answer (an exported CSV with a typed name in it) as the
        # type it is sent as, never guess HTML from its content.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    web_state = create_state(app.config)
    app.extensions["geo"] = web_state
    web_state.open(load_in_background=not app.config.get("LOAD_NETWORKS_NOW", False))
    if web_state.ctx is not None and web_state.ctx.registry is not None:
        web_state.jobs = JobRunner(web_state.ctx.registry, threads=app.config["JOB_THREADS"])
        atexit.register(web_state.jobs.shutdown)
    if web_state.first_password:
        _announce_first_login(web_state.first_password)
    return app


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with times in ISO 8601 (RFC 3339, what the document's ``date-time`` means)
    rather than Flask's HTTP-date, and members kept in their order (results are ordered)."""

    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, datetime | date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def _instance_path(test_config: dict | None) -> str | None:
    import os
    value = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("GEO_WEB_INSTANCE_PATH")
    return os.path.abspath(value) if value else os.path.abspath("instance")


def _announce_first_login(password: str) -> None:
    """The one-time password of the first admin, shown once (it is stored only hashed)."""
    print(f"\nFirst login: user 'admin', one-time password '{password}' (you will be asked to "
          "choose your own)\n", file=sys.stderr, flush=True)
