"""Health, the OpenAPI document and the interactive page to try the API (Swagger UI, served
from the pinned ``swagger-ui-bundle`` package: no CDN)."""

from __future__ import annotations

from flask import abort, current_app, jsonify, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from web.api import api
from web.openapi import Response, document, route
from web.schemas import ErrorBody, Health
from web.state import state

API_TITLE = "Emergency resource planning API"
API_VERSION = "1.0"
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/api/openapi.json", dom_id: "#swagger-ui"}});</script>
</body></html>"""


@route(api, "/health", "GET", summary="Ready or not: networks, database, schema version",
       tag="system", permission=None,
       responses={200: Response("ready", Health), 503: Response("not ready", Health)})
def health():
    report = state().health()
    return jsonify(report), 200 if report["status"] == "ready" else 503


@route(api, "/openapi.json", "GET", summary="This OpenAPI 3.1 document", tag="system",
       permission=None, responses={200: Response("the document")})
def openapi_document():
    return jsonify(openapi())


def openapi() -> dict:
    cached = current_app.extensions.get("openapi")
    if cached is None:
        cached = document(title=API_TITLE, version=API_VERSION, error_model=ErrorBody)
        current_app.extensions["openapi"] = cached
    return cached


@route(api, "/docs", "GET", summary="Try the API in the browser", tag="system",
       permission=None, responses={200: Response("an HTML page", media_type="text/html")})
def docs():
    return DOCS_PAGE.format(title=API_TITLE), 200, {"Content-Type": "text/html; charset=utf-8"}


DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}


@route(api, "/docs/<name>", "GET", summary="An asset of the interactive page", tag="system",
       permission=None, path_schemas={"name": {"type": "string", "enum": list(DOCS_ASSETS)}},
       errors=(404,),
       responses={200: Response("the asset", media_type=tuple(DOCS_ASSETS.values()))})
def docs_asset(name: str):
    if name not in DOCS_ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, name, mimetype=DOCS_ASSETS[name])
