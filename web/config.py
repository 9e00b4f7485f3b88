"""Configuration: defaults, then an instance file, then environment variables, then (tests)
the mapping given to ``create_app``.

- the instance file is ``instance/web.json`` (or ``$GEO_WEB_CONFIG``): a JSON object of keys
  below;
- environment variables ``GEO_WEB_<KEY>`` set any key (values parsed as JSON when they are,
  e.g. ``GEO_WEB_PUBLIC_READ=true``); the registry URL is ``$GEO_DB_URL`` as for the CLI, the
  network cache ``$GEO_CACHE_DIR``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Flask

from geo.network.build import DEFAULT_OSM

DEFAULTS: dict[str, object] = {
    "DB_URL": None,  # None: $GEO_DB_URL, else instance/registry.sqlite
    "OSM_PATH": str(DEFAULT_OSM),
    "CACHE_DIR": None,  # None: $GEO_CACHE_DIR, else ~/.cache/emergency-geo
    "NETWORK_MODES": ["drive", "walk"],  # loaded at start-up
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,  # bytes of one request (an import file)
    "JOB_THREADS": 2,
    "LOGIN_MAX_FAILURES": 5,  # per name or address ...
    "LOGIN_WINDOW_S": 900,  # ... within this window, then 429
    "PUBLIC_READ": False,  # True: layers and analyses readable without signing in
    "ITEMS_DEFAULT_LIMIT": 100,
    "ITEMS_MAX_LIMIT": 10_000,
    "TOKEN_DAYS": 365,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}
ENV_PREFIX = "GEO_WEB"
SECRET_FILE = "secret_key"


def load(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    instance_file = os.environ.get("GEO_WEB_CONFIG") or os.path.join(app.instance_path,
                                                                    "web.json")
    app.config.from_file(instance_file, load=json.load, silent=True)
    app.config.from_prefixed_env(ENV_PREFIX)
    if app.config["DB_URL"] is None and os.environ.get("GEO_DB_URL"):
        app.config["DB_URL"] = os.environ["GEO_DB_URL"]
    if app.config["CACHE_DIR"] is None and os.environ.get("GEO_CACHE_DIR"):
        app.config["CACHE_DIR"] = os.environ["GEO_CACHE_DIR"]
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = shared_secret(Path(app.instance_path))


def shared_secret(folder: Path) -> str:
    """The session-signing key every worker process shares: read from the instance folder, or
    made once there (private to its owner). Of several processes starting at once, the first to
    link its file in wins and the others read it."""
    path = folder / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    draft = folder / f".{SECRET_FILE}.{os.getpid()}"
    draft.write_text(secrets.token_hex(32))
    draft.chmod(0o600)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()
