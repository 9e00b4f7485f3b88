"""The registry's layers as OGC API – Features (Part 1: Core, GeoJSON; Part 4: create, replace,
update and delete), so that QGIS and other GIS clients open them live.

Reads: the landing page ``/``, ``/conformance``, ``/collections``, ``/collections/{layer}``,
``/collections/{layer}/items`` (``bbox``, ``limit``/``offset`` with next and prev links,
equality filters on properties such as ``status`` and ``type``) and
``/collections/{layer}/items/{id}`` with its ETag. Writes are Part 4's shape: POST a Feature to
the items (201 and Location), PUT or PATCH (a JSON merge patch of the feature) and DELETE an
item, each needing the ``If-Match`` of the copy it is based on (428 without, 412 when someone
else changed the record since).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from flask import Blueprint, current_app, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field

from geo.core.jsonable import jsonable
from geo.io.geojson import geojson_collection
from geo.io.layer_files import has_osm_source
from geo.services import records
from web import auth
from web.api.system import API_TITLE
from web.errors import ApiError
from web.openapi import Response, route
from web.schemas import Feature, FeatureCollection, FeatureIn, Open
from web.state import state

ogc = Blueprint("ogc", __name__)

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    # Not .../conf/oas30: the API's document (service-desc) is OpenAPI 3.1.
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
TITLES = {"shelters": "Emergency shelters", "depots": "Supply depots",
          "teams": "Rescue teams", "hazards": "Hazard sources", "incidents": "Incidents",
          "population": "Population (demand points)"}
LAYER_PARAM = {"layer": {"type": "string", "enum": list(records.FEATURE_LAYERS)}}


class ItemsQuery(BaseModel):
    """``bbox``, ``limit``, ``offset``, and property filters (other parameters, checked by the
    application layer against the layer's fields)."""

    model_config = ConfigDict(extra="allow")
    bbox: str | None = Field(None, description="west,south,east,north in lon/lat (CRS84)",
                             max_length=200)
    limit: int | None = Field(None, ge=1, description="at most this many (default and "
                              "maximum: the server's ITEMS_DEFAULT_LIMIT and ITEMS_MAX_LIMIT; "
                              "larger values are cut to the maximum, as Part 1 asks)")
    offset: int = Field(0, ge=0, le=10**12)
    when: str | None = Field(None, alias="datetime", max_length=100,
                             description="an instant or an interval START/END (RFC 3339, '..' "
                                         "for an open end) of the features' time: when an "
                                         "incident was reported, when other records last "
                                         "changed")
    f: str | None = Field(None, pattern="^(json|geojson)$")


class FormatQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    f: str | None = Field(None, pattern="^(json|geojson)$")


class LandingQuery(FormatQuery):
    lang: Literal["en", "zh"] | None = Field(None, description="the map UI's language "
                                             "(browsers), remembered")


class Links(Open):
    links: list[dict]


class Collections(Open):
    links: list[dict]
    collections: list[dict]


class Conformance(Open):
    conformsTo: list[str]  # noqa: N815 (the standard's names)


class ItemsPage(FeatureCollection):
    numberMatched: int  # noqa: N815
    numberReturned: int  # noqa: N815
    links: list[dict]


def _link(href: str, rel: str, media: str, title: str = "") -> dict:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


@route(ogc, "/", "GET", summary="Landing page", tag="features", permission=None,
       query=LandingQuery, responses={200: Response("links to the API's parts", Links)},
       description="A browser asking for HTML (and not `f=json`) gets the map UI here instead.")
def landing(query: LandingQuery):
    from web.ui import map_view, wants_map  # noqa: PLC0415 (ui depends on this module's app)
    if wants_map():
        return map_view()
    return jsonify({"title": API_TITLE,
                    "description": "Shelters, depots, teams, hazards, incidents and population "
                                   "of the emergency registry (OGC API - Features)",
                    "links": [
                        _link(url_for("ogc.landing", _external=True), "self", "application/json"),
                        _link(url_for("api.openapi_document", _external=True), "service-desc",
                              "application/vnd.oai.openapi+json;version=3.1", "the API"),
                        _link(url_for("api.docs", _external=True), "service-doc", "text/html",
                              "try the API"),
                        _link(url_for("ogc.conformance", _external=True), "conformance",
                              "application/json"),
                        _link(url_for("ogc.collections", _external=True), "data",
                              "application/json", "the layers")]})


@route(ogc, "/conformance", "GET", summary="Conformance classes", tag="features",
       permission=None, query=FormatQuery,
       responses={200: Response("the classes implemented", Conformance)})
def conformance(query: FormatQuery):
    return jsonify({"conformsTo": CONFORMANCE})


def _collection(layer: str) -> dict:
    frame = state().context().layer(layer)
    box = [float(v) for v in frame.total_bounds] if len(frame) else [-180.0, -90.0, 180.0, 90.0]
    items = url_for("ogc.items", layer=layer, _external=True)
    return {"id": layer, "title": TITLES.get(layer, layer), "itemType": "feature",
            "extent": {"spatial": {"bbox": [box], "crs": CRS84}},
            "crs": [CRS84], "storageCrs": CRS84,
            "queryables": list(records.filter_fields(layer)),
            "links": [_link(url_for("ogc.collection", layer=layer, _external=True), "self",
                            "application/json"),
                      _link(items, "items", GEOJSON, f"{TITLES.get(layer, layer)} (GeoJSON)")]}


@route(ogc, "/collections", "GET", summary="The layers", tag="features", permission="read",
       query=FormatQuery, responses={200: Response("every layer", Collections)})
def collections(query: FormatQuery):
    return jsonify({"links": [_link(url_for("ogc.collections", _external=True), "self",
                                    "application/json")],
                    "collections": [_collection(name) for name in records.FEATURE_LAYERS]})


@route(ogc, "/collections/<layer>", "GET", summary="One layer", tag="features",
       permission="read", query=FormatQuery, path_schemas=LAYER_PARAM, errors=(404,),
       responses={200: Response("the layer", Open)})
def collection(layer: str, query: FormatQuery):
    records.feature_layer(_known(layer))
    return jsonify(_collection(layer))


def _known(layer: str) -> str:
    if layer not in records.FEATURE_LAYERS:
        raise ApiError(404, "not_found", f"layer: no collection {layer!r} (one of "
                       f"{', '.join(records.FEATURE_LAYERS)})", field="layer")
    return layer


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(abs(v) < float("inf") for v in values):
        raise ApiError(400, "invalid", f"bbox: expected west,south,east,north (4 numbers), got "
                       f"{text!r}", field="bbox")
    west, south, east, north = values
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90
            and -90 <= north <= 90):
        raise ApiError(400, "invalid", "bbox: longitudes must be within -180..180 and "
                       "latitudes within -90..90", field="bbox")
    if west > east or south > north:
        raise ApiError(400, "invalid", "bbox: west must not exceed east, nor south north "
                       f"(got {text!r})", field="bbox")
    return west, south, east, north


@route(ogc, "/collections/<layer>/items", "GET", summary="Features of a layer", tag="features",
       permission="read", query=ItemsQuery, path_schemas=LAYER_PARAM, errors=(404, 422),
       responses={200: Response("a page of features", ItemsPage, media_type=GEOJSON)})
def items(layer: str, query: ItemsQuery):
    _known(layer)
    config = current_app.config
    limit = min(query.limit or config["ITEMS_DEFAULT_LIMIT"], config["ITEMS_MAX_LIMIT"])
    filters = {k: str(v) for k, v in (query.model_extra or {}).items()}
    page = records.page(state().context(), layer, bbox=_bbox(query.bbox), filters=filters,
                        during=_interval(query.when), limit=limit, offset=query.offset)
    collection = geojson_collection(page.frame, attribution=has_osm_source(page.frame))
    collection.update(numberMatched=page.matched, numberReturned=len(page.frame),
                      timeStamp=datetime.now(UTC).isoformat(timespec="seconds"),
                      links=_page_links(layer, query, limit, page.matched))
    return current_app.response_class(_json(collection), mimetype=GEOJSON)


def _interval(text: str | None) -> tuple[datetime | None, datetime | None] | None:
    """``datetime`` as (start, end), either open (None); an instant is both."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) > 2:
        raise ApiError(400, "invalid", f"datetime: expected an instant or START/END, got "
                       f"{text!r}", field="datetime")
    moments = [_instant(part, text) for part in parts]
    start, end = moments[0], moments[-1]
    if len(parts) == 1 and start is None:
        raise ApiError(400, "invalid", "datetime: '..' needs the other end of an interval",
                       field="datetime")
    if start is not None and end is not None and start > end:
        raise ApiError(400, "invalid", "datetime: the interval ends before it starts",
                       field="datetime")
    return start, end


def _instant(part: str, text: str) -> datetime | None:
    if part in ("", ".."):
        return None
    try:
        moment = datetime.fromisoformat(part.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid", f"datetime: {part!r} is not an RFC 3339 time (in "
                       f"{text!r})", field="datetime") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _page_links(layer: str, query: ItemsQuery, limit: int, matched: int) -> list[dict]:
    args = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}

    def href(offset: int) -> str:
        return url_for("ogc.items", layer=layer, _external=True, limit=limit, offset=offset,
                       **args)

    links = [_link(href(query.offset), "self", GEOJSON),
             _link(url_for("ogc.collection", layer=layer, _external=True), "collection",
                   "application/json")]
    if query.offset + limit < matched:
        links.append(_link(href(query.offset + limit), "next", GEOJSON, "next page"))
    if query.offset > 0:
        links.append(_link(href(max(0, query.offset - limit)), "prev", GEOJSON,
                           "previous page"))
    return links


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _feature(layer: str, record: dict) -> dict:
    properties = {k: v for k, v in record.items() if k not in ("id", "geometry", "home")}
    home = record.get("home")
    if home is not None:
        properties.update(home_lon=home.x, home_lat=home.y)
    links = [_link(url_for("ogc.item", layer=layer, item_id=record["id"], _external=True),
                   "self", GEOJSON),
             _link(url_for("ogc.collection", layer=layer, _external=True), "collection",
                   "application/json")]
    return {"type": "Feature", "id": record["id"], "geometry": jsonable(record["geometry"]),
            "properties": jsonable(properties), "links": links}


def _feature_response(layer: str, record: dict, tag: str, status: int = 200):
    response = current_app.response_class(_json(_feature(layer, record)), status=status,
                                          mimetype=GEOJSON)
    response.headers["ETag"] = f'"{tag}"'
    return response


ITEM_PARAMS = {**LAYER_PARAM, "item_id": {"type": "string"}}


@route(ogc, "/collections/<layer>/items/<item_id>", "GET", summary="One feature",
       tag="features", permission="read", query=FormatQuery, path_schemas=ITEM_PARAMS,
       errors=(404,),
       responses={200: Response("the feature, with its ETag", Feature, media_type=GEOJSON,
                                headers=("ETag",))})
def item(layer: str, item_id: str, query: FormatQuery):
    record, tag = records.record(state().context(), _known(layer), item_id)
    return _feature_response(layer, record, tag)


def write_permission(layer: str, **_) -> str:
    """edit (planners); incidents: dispatch (dispatchers) or edit"""
    account = auth.current()
    if layer == "incidents" and account is not None and "dispatch" in auth.PERMISSIONS.get(
            account.role, ()):
        return "dispatch"
    return "edit"


def _fields(feature: FeatureIn) -> dict:
    fields = dict(feature.properties or {})
    if feature.geometry is not None:
        fields["geometry"] = feature.geometry.model_dump()
    return fields


def _expected_tag() -> str | None:
    """The tag of ``If-Match`` (428 without one; ``*``: any current version)."""
    header = request.headers.get("If-Match")
    if not header:
        raise ApiError(428, "precondition_required", "If-Match: required; send the ETag of "
                       "the copy your edit is based on (GET the item)", field="If-Match")
    value = header.strip()
    if value == "*":
        return None
    return value.removeprefix("W/").strip('"')


@route(ogc, "/collections/<layer>/items", "POST", summary="Add a feature", tag="features",
       permission=write_permission, body=FeatureIn, body_media=GEOJSON, path_schemas=LAYER_PARAM,
       errors=(404, 409),
       responses={201: Response("added", Feature, media_type=GEOJSON,
                                headers=("Location", "ETag"))})
def create_item(layer: str, body: FeatureIn):
    fields = _fields(body)
    if body.id is not None:
        fields["id"] = str(body.id)
    record, tag = records.create(state().context(), _known(layer), fields,
                                 actor=auth.actor())
    response = _feature_response(layer, record, tag, status=201)
    response.headers["Location"] = url_for("ogc.item", layer=layer, item_id=record["id"],
                                           _external=True)
    return response


@route(ogc, "/collections/<layer>/items/<item_id>", "PUT", summary="Replace a feature",
       tag="features", permission=write_permission, body=FeatureIn, body_media=GEOJSON,
       path_schemas=ITEM_PARAMS, headers=("If-Match",), errors=(404,),
       responses={200: Response("replaced", Feature, media_type=GEOJSON, headers=("ETag",))})
def replace_item(layer: str, item_id: str, body: FeatureIn):
    if body.id is not None and str(body.id) != item_id:
        raise ApiError(422, "invalid", "id: the feature's id differs from the URL's",
                       field="id")
    record, tag = records.update(state().context(), _known(layer), item_id, _fields(body),
                                 actor=auth.actor(), expected_tag=_expected_tag(),
                                 replace=True)
    return _feature_response(layer, record, tag)


class FeaturePatch(BaseModel):
    """A JSON merge patch of a feature: the properties to change, and/or a new geometry."""

    model_config = ConfigDict(extra="forbid")
    type: str | None = Field(None, pattern="^Feature$")
    properties: dict | None = None
    geometry: dict | None = None


@route(ogc, "/collections/<layer>/items/<item_id>", "PATCH", summary="Change some properties "
       "of a feature", tag="features", permission=write_permission, body=FeaturePatch,
       body_media="application/merge-patch+json", path_schemas=ITEM_PARAMS,
       headers=("If-Match",), errors=(404,),
       responses={200: Response("changed", Feature, media_type=GEOJSON, headers=("ETag",))})
def patch_item(layer: str, item_id: str, body: FeaturePatch):
    fields = dict(body.properties or {})
    if body.geometry is not None:
        fields["geometry"] = body.geometry
    record, tag = records.update(state().context(), _known(layer), item_id, fields,
                                 actor=auth.actor(), expected_tag=_expected_tag(),
                                 replace=False)
    return _feature_response(layer, record, tag)


@route(ogc, "/collections/<layer>/items/<item_id>", "DELETE", summary="Delete a feature",
       tag="features", permission=write_permission, path_schemas=ITEM_PARAMS,
       headers=("If-Match",), errors=(404,), responses={204: Response("deleted")})
def delete_item(layer: str, item_id: str):
    records.delete(state().context(), _known(layer), item_id, actor=auth.actor(),
                   expected_tag=_expected_tag())
    return "", 204
