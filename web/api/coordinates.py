"""Coordinates typed by a user (GCJ-02 / BD-09 as copied from Chinese web maps) as WGS84: the
map page converts through this, never by formulas of its own."""

from __future__ import annotations

from flask import jsonify

from geo.services import coordinates
from web.api import api
from web.openapi import Response, route
from web.schemas import Coordinates, CoordinatesQuery


@route(api, "/coordinates", "GET", summary="A point in GCJ-02, BD-09 or WGS84, as WGS84",
       tag="analyses", permission="read", query=CoordinatesQuery, errors=(422,),
       responses={200: Response("the point in WGS84", Coordinates)})
def to_wgs84(query: CoordinatesQuery):
    """GCJ-02 and BD-09 are converted with the published formulas (inverted by iteration, to
    micrometres); outside mainland China GCJ-02 equals WGS84, as the map providers apply no
    shift there."""
    lon, lat = coordinates.to_wgs84(query.lon, query.lat, query.crs)
    return jsonify({"lon": lon, "lat": lat, "crs": "wgs84",
                    "given": {"lon": query.lon, "lat": query.lat, "crs": query.crs}})
