"""The map UI in a real browser against a real service: gunicorn started on loopback on a copy
of the Liechtenstein demo registry (one account per role), driven by Playwright in Debian's
headless ``chromium`` (``scripts/setup_browser.sh`` installs it; CI sets GEO_REQUIRE_BROWSER=1 so
that a missing browser fails these tests instead of skipping them).

Every page a test opens records its console errors and every request it makes outside the
service (``page.errors``, ``page.outside``); ``screenshot(page, name)`` keeps a picture of the
screen under ``test-output/screenshots``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from geo.registry import Registry
from geo.registry.accounts import ROLES
from tests.web.conftest import copy_registry

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GEO_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking switches Chromium calls Google's hosts at start (refused
# here, and not the page's requests anyway).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
READY_TIMEOUT_S = 120


def pytest_collection_modifyitems(items):
    """Every test here is a browser test, and slow (select with -m browser, skip with -m
    "not slow")."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@dataclass
class LiveService:
    """A gunicorn-served instance of the web service on loopback."""

    url: str
    db_path: Path
    process: subprocess.Popen
    log_path: Path
    users: dict[str, str] = field(default_factory=dict)  # role → account name

    def registry(self) -> Registry:
        return Registry(str(self.db_path))

    def session(self, role: str) -> requests.Session:
        """A signed-in HTTP client (an independent client of the same service)."""
        http = requests.Session()
        http.auth = (self.users[role], PASSWORD)
        return http

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(db_path: Path, *, cache_dir: Path, folder: Path,
                  workers: int = 2) -> LiveService:
    """Start gunicorn (the production server) on a free port and wait until it is ready."""
    port = free_port()
    env = {**os.environ, "GEO_DB_URL": str(db_path), "GEO_CACHE_DIR": str(cache_dir),
           "GEO_WEB_INSTANCE_PATH": str(folder / "instance"),
           "GEO_WEB_BIND": f"127.0.0.1:{port}", "GEO_WEB_WORKERS": str(workers)}
    log_path = folder / "service.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "web/gunicorn_conf.py"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    service = LiveService(f"http://127.0.0.1:{port}", db_path, process, log_path)
    try:
        _wait_ready(service)
    except BaseException:
        stop_service(service)
        raise
    return service


def _wait_ready(service: LiveService) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"the service stopped at start:\n{service.log()}")
        try:
            if requests.get(service.url + "/api/health", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or a worker still starting
        time.sleep(0.3)
    raise RuntimeError(f"the service was not ready within {READY_TIMEOUT_S} s:\n{service.log()}")


def stop_service(service: LiveService) -> None:
    service.process.terminate()
    try:
        service.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        service.process.kill()


def add_users(db_path: Path) -> dict[str, str]:
    with Registry(str(db_path)) as registry:
        for role in ROLES:
            registry.add_user(f"{role}-user", role, PASSWORD)
    return {role: f"{role}-user" for role in ROLES}


@pytest.fixture(scope="module")
def service(demo_file, cache_dir, networks, tmp_path_factory):
    """A fresh service per test module, on its own copy of the demo registry."""
    networks("liechtenstein", "drive"), networks("liechtenstein", "walk")  # built once, cached
    folder = tmp_path_factory.mktemp("ui-service")
    db_path = copy_registry(demo_file, folder / "registry.sqlite")
    users = add_users(db_path)
    live = start_service(db_path, cache_dir=cache_dir, folder=folder)
    live.users = users
    yield live
    stop_service(live)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("GEO_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/setup_browser.sh")
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/setup_browser.sh installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def record(page, base_url: str) -> None:
    """Collect the page's console errors and its requests outside the service."""
    page.errors, page.outside = [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("request", lambda r: None if r.url.startswith((base_url + "/", "data:", "blob:"))
            else page.outside.append(r.url))


def sign_in(page, service: LiveService, role: str, *, lang: str | None = None) -> None:
    """Through the sign-in form, as a user would; then wait for the map's layers."""
    page.goto(service.url + "/login" + (f"?lang={lang}" if lang else ""))
    page.fill("#login-form input[name=name]", service.users[role])
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    wait_for_map(page)


def wait_for_map(page) -> None:
    page.wait_for_selector("body[data-layers-loaded=true]", state="attached", timeout=60_000)


@pytest.fixture
def open_map(chromium, service):
    """``open_map(role, lang=None)`` → a signed-in page of the map in a browser context of its
    own (its own cookies: two calls are two dispatchers)."""
    contexts = []

    def make(role: str, *, lang: str | None = None, viewport=(1400, 900)):
        context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                       locale="en-US")
        contexts.append(context)
        page = context.new_page()
        record(page, service.url)
        sign_in(page, service, role, lang=lang)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def new_page(chromium, service):
    """A fresh page (own context), not signed in, recording errors and outside requests."""
    contexts = []

    def make(locale: str = "en-US"):
        context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        record(page, service.url)
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# The drawing tool in use: a record's footprint (Plan.drawHandler) or a barrier tool.
_DRAWING = ("(Plan.drawHandler && Plan.drawHandler.enabled() ? Plan.drawHandler"
            " : Object.values(Plan.drawControl._toolbars.draw._modes).map(m => m.handler)"
            ".find(h => h.enabled()))")


def draw_clicks(page, points, finish) -> None:
    """Draw a shape through Leaflet.draw with the mouse: a click per point (page coordinates),
    then the finishing click. Leaflet.draw drops a press within 50 ms of the last point,
    re-enabled by a timer that a loaded browser may run after the next click: so each click
    waits for that, as a user sees the vertex appear before clicking on."""
    for n, (x, y) in enumerate(points, start=1):
        _click_drawing(page, x, y)
        page.wait_for_function(f"() => {_DRAWING} && {_DRAWING}._markers.length === {n}")
    _click_drawing(page, *finish)
    page.wait_for_function(f"() => !{_DRAWING}")


def _click_drawing(page, x, y) -> None:
    page.wait_for_function(f"() => {_DRAWING} && !{_DRAWING}._disableMarkers")
    move_drawing_cursor(page, x, y)
    page.mouse.click(x, y)


def move_drawing_cursor(page, x, y) -> None:
    """Move the pointer to (x, y) on the page with a drawing tool on. Leaflet.draw takes a point
    from a press on its cursor marker, so the marker must be drawn under the pointer: the map
    must pass every move on (also over result points drawn on a canvas) and the marker must
    not slide there while marker clusters animate."""
    # The pointer arrives as a quick hand's does: its last two moves a frame (~17 ms) and
    # 40 px apart.
    page.mouse.move(x + 28, y + 28)
    page.mouse.move(x, y)
    # Where the cursor is drawn (what a press hits), not only where the tool means it to be.
    cursor_at = page.evaluate(
        f"() => {{ const r = {_DRAWING}._mouseMarker.getElement().getBoundingClientRect();"
        " return [r.left + r.width / 2, r.top + r.height / 2]; }")
    assert cursor_at == pytest.approx([x, y], abs=1), "the drawing tool's cursor lags the pointer"
