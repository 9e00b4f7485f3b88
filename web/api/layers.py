"""Imports and exports of a layer, through the command line's all-or-nothing code: an import is
every row or none, and a rejected file answers 422 with every problem (row, field, problem)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import current_app, jsonify
from werkzeug.utils import secure_filename

from geo.io.layer_files import SUFFIXES
from geo.registry.schema import LAYERS
from geo.services import records
from web import auth
from web.api import api
from web.errors import ApiError
from web.openapi import Response, route
from web.schemas import ExportQuery, ImportForm, ImportResult, LayerSchemas, Revisions
from web.state import state

LAYER_PARAM = {"layer": {"type": "string", "enum": list(LAYERS)}}
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv",
               "gpkg": "application/geopackage+sqlite3", "shp": "application/zip"}


@route(api, "/layers/<layer>/import", "POST", summary="Import a file into a layer",
       tag="layers", permission="import", body=ImportForm, body_media="multipart/form-data",
       path_schemas=LAYER_PARAM, errors=(404, 409),
       responses={201: Response("every row imported", ImportResult)})
def import_layer(layer: str, body: ImportForm):
    """Multipart form: ``file`` (GeoJSON, CSV, GeoPackage or zipped Shapefile), optional
    ``crs`` (EPSG code, GCJ-02, BD-09) and ``encoding`` (CSV; detected when not given). A file
    with any bad row imports nothing: 422 with ``problems``."""
    upload = body.file
    if not upload.filename:
        raise ApiError(422, "invalid", "file: required (multipart form field 'file')",
                       field="file")
    name = secure_filename(upload.filename) or "upload"
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ApiError(422, "invalid", f"file: {upload.filename!r} is not one of "
                       f"{', '.join(sorted(SUFFIXES))}", field="file")
    folder = Path(tempfile.mkdtemp(prefix="geo-import-"))
    try:
        path = folder / name
        upload.save(path)
        ids = records.import_layer(state().context(), layer, path, crs=body.crs,
                                   encoding=body.encoding, actor=auth.actor())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return jsonify({"layer": layer, "imported": len(ids), "ids": ids}), 201


@route(api, "/layers/<layer>/export", "GET", summary="Export a layer as a file", tag="layers",
       permission="read", query=ExportQuery, path_schemas=LAYER_PARAM, errors=(404, 422),
       responses={200: Response("the file, in the format asked for",
                                media_type=tuple(MEDIA_TYPES.values()))})
def export_layer(layer: str, query: ExportQuery):
    path = records.export(state().context(), layer, fmt=query.format, crs=query.crs,
                          encoding=query.encoding)
    try:  # read whole: the temporary file goes at once, whatever the client does
        data = path.read_bytes()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    return current_app.response_class(
        data, mimetype=MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="{path.name}"'})


@route(api, "/revisions", "GET", summary="Every layer's write count", tag="layers",
       permission="read", responses={200: Response("layer → count", Revisions)})
def revisions():
    """Poll this (cheap: one read) and refetch a layer when its count moved: how open maps
    see another dispatcher's assignment within seconds."""
    return jsonify({"revisions": records.revisions(state().context())})


@route(api, "/layers", "GET", summary="Every layer's fields, for forms", tag="layers",
       permission="read", responses={200: Response("fields, allowed values, names",
                                                   LayerSchemas)})
def layer_schemas():
    return jsonify(records.layer_schemas(state().context()))
