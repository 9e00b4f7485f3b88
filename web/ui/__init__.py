"""The map UI (``ui`` blueprint): the map at ``/`` (browsers; API clients asking for JSON get the
OGC landing page there), the sign-in page at ``/login``, the libraries and the page's own
scripts, and the basemap tiles drawn from the region's OSM extract. The UI is a client of the
REST API: these views serve pages and files, never the registry's data.
"""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from geo import services
from web import auth
from web.state import state
from web.ui import assets, i18n, problems
from web.ui.page import map_page

ui = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")
ASSET_MAX_AGE_S = 7 * 24 * 3600  # pinned files: a new version comes with a new page


@ui.after_app_request
def _remember_language(response):
    return i18n.remember(response)


def wants_map() -> bool:
    """A browser asking for a page (HTML preferred over JSON, no ``f=json``)."""
    if request.args.get("f") in ("json", "application/json"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > \
        request.accept_mimetypes["application/json"]


def map_view():
    """The map, for a signed-in user (or anyone when reads are public)."""
    account = auth.current()
    if account is None and not auth.public_read():
        return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))
    if account is not None and account.must_change_password:
        return redirect(url_for("ui.login", change=1))
    if assets.missing():
        return render_template("ui/not_installed.html", missing=assets.missing()), 503
    nonce = secrets.token_urlsafe(16)
    html = map_page(bounds=services.records.extent(state().context()))
    # The page holds no user data (the scripts fetch it), so marking its own scripts is safe.
    html = html.replace("<script>", f'<script nonce="{nonce}">').replace(
        "<script src=", f'<script nonce="{nonce}" src=')
    return Response(html, mimetype="text/html", headers=_page_headers(nonce))


@ui.get("/login")
def login():
    return Response(render_template("ui/login.html", languages=i18n.LANGUAGES,
                                    lang=i18n.language(), change=bool(request.args.get("change")),
                                    messages={**i18n.script_messages(i18n.language()),
                                              "problems": problems.for_page()}),
                    mimetype="text/html", headers=_page_headers())


@ui.get("/ui/assets/<path:path>")
def asset(path: str):
    if not assets.servable(path):
        abort(404)
    return send_from_directory(assets.NODE_MODULES, path, max_age=ASSET_MAX_AGE_S)


@ui.get("/favicon.ico")
def favicon():
    return send_from_directory(ui.static_folder, "favicon.svg", mimetype="image/svg+xml",
                               max_age=ASSET_MAX_AGE_S)


@ui.get("/ui/licences")
def licences():
    return render_template("ui/licences.html", packages=assets.packages(),
                           lang=i18n.language())


@ui.get("/ui/tiles/<int:z>/<int:x>/<int:y>.png")
def tile(z: int, x: int, y: int):
    from geo.services import basemap  # noqa: PLC0415 (the tiles' module loads on first use)
    png = basemap.basemap_tile(state().context(), z, x, y)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})


@ui.get("/ui/places.json")
def places():
    from geo.services import basemap  # noqa: PLC0415
    return basemap.basemap_places(state().context(), lang=i18n.language())


def _page_headers(nonce: str | None = None) -> dict[str, str]:
    """Only this service's scripts run on the page (those it marks with the nonce): inline
    event handlers (``onerror=``) and outside hosts are refused by the browser even if a typed
    name got through unescaped (defence in depth; the scripts never write names as HTML)."""
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return {"Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: https://tile.openstreetmap.org; "
        f"script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"),
        "Cache-Control": "no-store"}
