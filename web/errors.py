"""Errors as JSON with one shape, ``{"error": {"code", "message", "field", ...}}``, for every
failure: the core's errors by kind, Werkzeug's HTTP errors, request bodies that do not match
their schema, and (logged, without details) anything unexpected. Never an HTML page."""

from __future__ import annotations

import logging
import re

import pydantic
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from geo.errors import (
    BusyError,
    ConflictError,
    GeoError,
    NotFoundError,
    PreconditionError,
    RecordsRejectedError,
    ValidationError,
)

log = logging.getLogger(__name__)

# "field: problem", the convention of every message of the core.
_FIELD = re.compile(r"^([A-Za-z_][\w.\[\]-]{0,80}|--[\w-]+|\$\w+): ")


class ApiError(Exception):
    """An error a view raises on purpose: HTTP ``status``, a stable ``code``, the ``field``."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers, self.extra = headers or {}, extra


def body(code: str, message: str, field: str | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def field_of(message: str) -> str | None:
    match = _FIELD.match(message)
    return match.group(1).lstrip("-$") if match else None


def geo_error(exc: GeoError) -> tuple[int, dict]:
    """The status and body of an error of the core."""
    message = str(exc)
    field = field_of(message)
    if isinstance(exc, RecordsRejectedError):
        problems = [{"row": str(p.row), "field": p.field, "problem": p.problem}
                    for p in exc.problems]
        return 422, body("rows_rejected", message, "file", problems=problems)
    if isinstance(exc, NotFoundError):
        return 404, body("not_found", message, field)
    if isinstance(exc, PreconditionError):
        return 412, body("precondition_failed", message, "If-Match", current_etag=exc.current)
    if isinstance(exc, ConflictError):
        holder = {"holder": exc.holder} if exc.holder else {}
        return 409, body("conflict", message, field, current=exc.current, **holder)
    if isinstance(exc, BusyError):
        return 503, body("busy", message)
    if isinstance(exc, ValidationError) and exc.field_problems:
        return 422, body("invalid", message, field, problems=[
            {"field": f, "problem": p} for f, p in exc.field_problems])
    return 422, body("invalid", message, field)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(body(exc.code, exc.message, exc.field, **exc.extra)), exc.status, \
            exc.headers

    @app.errorhandler(GeoError)
    def _geo_error(exc: GeoError):
        status, payload = geo_error(exc)
        return jsonify(payload), status

    @app.errorhandler(pydantic.ValidationError)
    def _schema_error(exc: pydantic.ValidationError):
        return jsonify(schema_error_body(exc)), 422

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = re.sub(r"\W+", "_", (exc.name or "error").lower()).strip("_")
        response = jsonify(body(code, exc.description or exc.name or "error"))
        response.status_code = exc.code or 500
        for name in ("Allow", "Retry-After"):
            if exc.get_response().headers.get(name):
                response.headers[name] = exc.get_response().headers[name]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return jsonify(body("internal", "an unexpected error occurred; it has been logged")), 500


def schema_error_body(exc: pydantic.ValidationError, *, where: str = "") -> dict:
    """The first problem of a request that does not match its schema, naming the field as a
    dotted path (``at.0``, ``items.water``), and every problem under ``problems``."""
    problems = [{"field": _path(e["loc"], where), "problem": _problem(e)} for e in exc.errors()]
    first = problems[0] if problems else {"field": where or None, "problem": "invalid"}
    return body("invalid", f"{first['field']}: {first['problem']}", first["field"],
                problems=problems)


def _path(loc, where: str) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query")]
    return ".".join(parts) or where or "body"


def _problem(error: dict) -> str:
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "missing":
        return "required field is missing"
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    return message
