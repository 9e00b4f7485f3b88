"""Routes that declare what they take and give, and the OpenAPI 3.1 document made from those
declarations.

Why pydantic (v2) rather than marshmallow/apispec or flask-smorest: its models validate the
requests *and* emit JSON Schema 2020-12, which is the schema dialect of OpenAPI 3.1, so the
document is the validators' own schema with no translation step that could drift; strict mode
refuses wrong JSON types ("5" for a number) instead of coercing them.

:func:`route` registers a view on a blueprint with its request models (query string, JSON body),
its responses and the permission it needs; the wrapper checks the permission, parses and
validates, and passes ``query=`` / ``body=`` to the view. :func:`document` builds the OpenAPI
document from every registered route, so a route cannot exist undocumented.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pydantic
from flask import Blueprint, request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web import auth
from web.errors import ApiError, schema_error_body

JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")
_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Response:
    """A documented response; ``media_type`` may be several (a file in the format asked for)."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str | tuple[str, ...] = "application/json"
    headers: tuple[str, ...] = ()

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type,) if isinstance(self.media_type, str) else self.media_type


@dataclass(frozen=True)
class Operation:
    path: str  # OpenAPI form: /collections/{layer}
    method: str
    endpoint: str
    summary: str
    tag: str
    permission: str | Callable[..., str] | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    body_media: str
    responses: dict[int, Response]
    path_schemas: dict = field(default_factory=dict)
    description: str = ""
    headers: tuple[str, ...] = ()  # request headers it reads (If-Match)
    errors: tuple[int, ...] = ()  # error statuses beyond those its declaration implies


OPERATIONS: list[Operation] = []


def route(blueprint: Blueprint, rule: str, method: str, *, summary: str, tag: str,
          permission: str | Callable[..., str] | None, responses: dict[int, Response],
          query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
          body_media: str = "application/json", path_schemas: dict | None = None,
          headers: tuple[str, ...] = (), errors: tuple[int, ...] = (),
          description: str = "") -> Callable:
    """Register ``view`` for ``method rule`` on ``blueprint``; see the module docstring.
    ``permission`` may depend on the path: a function of the path parameters (its docstring
    documents it). ``errors``: the error statuses of what the view does (404 for an unknown
    record, 409, 422 for a value the registry refuses), beyond those that follow from the
    declaration (:func:`error_statuses`)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**path):
            auth.require(permission(**path) if callable(permission) else permission)
            kwargs = dict(path)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body, body_media)
            return view(**kwargs)

        blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        OPERATIONS.append(Operation(
            path=_openapi_path((blueprint.url_prefix or "") + rule), method=method.lower(),
            endpoint=f"{blueprint.name}.{view.__name__}", summary=summary, tag=tag,
            permission=permission, query=query, body=body, body_media=body_media,
            responses=responses, path_schemas=path_schemas or {}, headers=headers,
            errors=errors, description=description or (view.__doc__ or "").strip()))
        return wrapper

    return decorator


def parse_query(model: type[BaseModel]) -> BaseModel:
    values = {key: request.args.getlist(key) for key in request.args}
    repeated = [key for key, items in values.items() if len(items) > 1]
    if repeated:
        raise ApiError(400, "invalid", f"{repeated[0]}: given more than once",
                       field=repeated[0])
    try:
        return model.model_validate({key: items[0] for key, items in values.items()})
    except pydantic.ValidationError as exc:
        raise ApiError(400, "invalid", **_first(exc)) from None


def parse_body(model: type[BaseModel], media: str) -> BaseModel:
    """The JSON body validated strictly against ``model`` (or a multipart form, its files
    included): 415 for another media type, 400 for malformed JSON, 422 naming the field for a
    body that does not match."""
    if media == "multipart/form-data":
        if request.mimetype != media:
            raise ApiError(415, "unsupported_media_type", f"Content-Type: expected {media}, "
                           f"got {request.mimetype or 'none'}", field="Content-Type")
        return model.model_validate({**request.form.to_dict(), **request.files.to_dict()})
    if request.mimetype not in JSON_TYPES:
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type: expected application/json, got "
                       f"{request.mimetype or 'none'}", field="Content-Type")
    data = request.get_data(cache=True)
    try:
        return model.model_validate_json(data, strict=True)
    except pydantic.ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise ApiError(400, "bad_json", "body: not valid JSON", field="body") from None
        raise


def _first(exc: pydantic.ValidationError) -> dict:
    error = schema_error_body(exc)["error"]
    return {"message": error["message"], "field": error["field"]}


def _openapi_path(rule: str) -> str:
    return _PATH_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_params(op: Operation) -> list[dict]:
    params = []
    for name in re.findall(r"{(\w+)}", op.path):
        schema = op.path_schemas.get(name, {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


# ---- the document ----------------------------------------------------------------------------

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "an API token (`flask --app web token create --user NAME`)"},
    "basic": {"type": "http", "scheme": "basic", "description": "user name and password"},
    "session": {"type": "apiKey", "in": "cookie", "name": "session",
                "description": "a browser session (POST /api/session); state-changing "
                               "requests also send the X-CSRF-Token header"},
}


def document(*, title: str, version: str, error_model: type[BaseModel]) -> dict:
    models = _models(error_model)
    _, schemas = models_json_schema([(m, "validation") for m in models],
                                    ref_template="#/components/schemas/{model}")
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, error_model)
    return {"openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": paths,
            "components": {"schemas": schemas.get("$defs", {}),
                           "securitySchemes": SECURITY_SCHEMES}}


def _models(error_model: type[BaseModel]) -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {error_model.__name__: error_model}
    for op in OPERATIONS:
        for model in (op.query, op.body, *(r.model for r in op.responses.values())):
            if model is not None:
                seen[model.__name__] = model
    return list(seen.values())


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Operation, error_model: type[BaseModel]) -> dict:
    spec: dict = {"operationId": op.endpoint.replace(".", "_"), "summary": op.summary,
                  "tags": [op.tag], "parameters": _path_params(op) + _query_params(op)
                  + [{"name": h, "in": "header", "required": False,
                      "schema": {"type": "string"}} for h in op.headers]}
    if op.description:
        spec["description"] = op.description
    if op.body is not None:
        spec["requestBody"] = {"required": True,
                               "content": {op.body_media: {"schema": _ref(op.body)}}}
    responses = {str(status): _response(r) for status, r in op.responses.items()}
    for status in error_statuses(op):
        responses.setdefault(str(status), {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": _ref(error_model)}}})
    spec["responses"] = dict(sorted(responses.items()))
    spec["security"] = ([] if op.permission is None
                        else [{"bearer": []}, {"basic": []}, {"session": []}])
    if op.permission is not None:
        spec["x-permission"] = (op.permission if isinstance(op.permission, str)
                                else (op.permission.__doc__ or "").strip())
    return spec


ERRORS = {
    400: "a malformed query string or JSON body",
    401: "not signed in, or an unknown, revoked or expired token, or a wrong password",
    403: "the role may not do this, a one-time password to change first, or a missing CSRF "
         "token (sessions)",
    404: "no such record",
    409: "in conflict with the record as it is now (``current``)",
    412: "If-Match: the record changed since that copy (``current_etag``)",
    413: "the request is larger than the service takes (MAX_CONTENT_LENGTH)",
    415: "Content-Type: not the media type of the request body",
    422: "a value the request's schema or the registry refuses, naming the field",
    428: "If-Match: required",
    429: "too many failed sign-ins (Retry-After)",
    503: "the service is not ready yet, or the database is busy: retry",
}


def error_statuses(op: Operation) -> list[int]:
    """Every error status ``op`` can answer, each {error: {code, message, field}}: those of
    what the wrapper does (who is asking, the query, the body, If-Match) and ``op.errors``."""
    statuses = set(op.errors)
    if op.permission is not None:  # the caller looked up; a Basic sign-in is rate-limited
        statuses |= {401, 403, 429, 503}
    if op.query is not None:
        statuses.add(400)
    if op.body is not None:
        statuses |= {413, 415, 422}
        if op.body_media != "multipart/form-data":
            statuses.add(400)  # malformed JSON
    if "If-Match" in op.headers:
        statuses |= {412, 428}
    return sorted(statuses)


def _response(response: Response) -> dict:
    out: dict = {"description": response.description}
    if response.model is not None:
        out["content"] = {media: {"schema": _ref(response.model)}
                          for media in response.media_types}
    elif response.media_types != ("application/json",):
        out["content"] = {media: {"schema": {}} for media in response.media_types}
    if response.headers:
        out["headers"] = {h: {"schema": {"type": "string"}} for h in response.headers}
    return out


def _query_params(op: Operation) -> list[dict]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema()
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required,
             "schema": {k: v for k, v in prop.items() if k != "title"}}
            for name, prop in schema.get("properties", {}).items()]
