"""The app factory: configuration layers, and public reading when configured (the
interactive API page: test_openapi.py)."""

from __future__ import annotations

import json

from tests.web.conftest import make_app


def test_config_defaults_then_instance_file_then_environment(tmp_path, demo_file, cache_dir,
                                                             monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "web.json").write_text(json.dumps({"ITEMS_MAX_LIMIT": 50,
                                                   "LOGIN_MAX_FAILURES": 9}))
    monkeypatch.setenv("GEO_WEB_LOGIN_MAX_FAILURES", "3")
    app = make_app(tmp_path, demo_file, cache_dir, NETWORK_MODES=[])
    assert app.config["ITEMS_MAX_LIMIT"] == 50  # the instance file over the default
    assert app.config["LOGIN_MAX_FAILURES"] == 3  # the environment over the file
    assert app.config["JOB_THREADS"] == 2  # the default
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600
    again = make_app(tmp_path, demo_file, cache_dir, NETWORK_MODES=[])
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]  # shared by the workers


def test_reading_can_be_public_while_writing_never_is(tmp_path, demo_file, cache_dir):
    app = make_app(tmp_path, demo_file, cache_dir, PUBLIC_READ=True)
    client = app.test_client()
    assert client.get("/collections/teams/items").status_code == 200
    refused = client.post("/api/teams/T-x/position", json={"at": [9.52, 47.14]})
    assert refused.status_code == 401
