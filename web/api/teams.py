"""Dispatchers' writes: assigning a team to an incident (409 with the team's status if someone
else got it first), releasing it, status changes and moves; and depots' inventory."""

from __future__ import annotations

from flask import jsonify

from geo.services import records
from web import auth
from web.api import api
from web.openapi import Response, route
from web.schemas import (
    Assignment,
    AssignRequest,
    PositionRequest,
    ReleaseRequest,
    Stock,
    StockRequest,
    TeamState,
    TeamStatusRequest,
)
from web.state import state


@route(api, "/incidents/<incident_id>/assign", "POST", summary="Assign an available team",
       tag="dispatch", permission="dispatch", body=AssignRequest, errors=(404, 409),
       responses={200: Response("assigned", Assignment)})
def assign(incident_id: str, body: AssignRequest):
    """One transaction: the team's conditional status change (available → assigned), the
    assignment and the incident's status. A team no longer available gives 409 with
    ``current``, its status now."""
    return jsonify(records.assign_team(state().context(), incident_id, body.team,
                                       actor=auth.actor()))


@route(api, "/teams/<team_id>/release", "POST", summary="End a team's assignments",
       tag="dispatch", permission="dispatch", body=ReleaseRequest, errors=(404,),
       responses={200: Response("released", TeamState)})
def release(team_id: str, body: ReleaseRequest):
    return jsonify(records.release_team(state().context(), team_id, status=body.status,
                                        actor=auth.actor()))


@route(api, "/teams/<team_id>/status", "POST", summary="Change a team's status if it is still "
       "as expected", tag="dispatch", permission="dispatch", body=TeamStatusRequest,
       errors=(404, 409),
       responses={200: Response("changed", TeamState)})
def team_status(team_id: str, body: TeamStatusRequest):
    return jsonify(records.set_team_status(state().context(), team_id, body.status,
                                           expected=body.expected, actor=auth.actor()))


@route(api, "/teams/<team_id>/position", "POST", summary="Move a team", tag="dispatch",
       permission="dispatch", body=PositionRequest, errors=(404,),
       responses={200: Response("moved", TeamState)})
def team_position(team_id: str, body: PositionRequest):
    lon, lat = body.at
    return jsonify(records.move_team(state().context(), team_id, lon, lat, actor=auth.actor()))


@route(api, "/depots/<depot_id>/inventory", "GET", summary="A depot's stock", tag="inventory",
       permission="read", errors=(404,),
       responses={200: Response("item → quantity", Stock)})
def inventory(depot_id: str):
    return jsonify({"depot": depot_id, "stock": records.stock(state().context(), depot_id)})


@route(api, "/depots/<depot_id>/inventory/<item>", "PUT", summary="Set the stock of an item",
       tag="inventory", permission="edit", body=StockRequest, errors=(404,),
       responses={200: Response("the depot's stock now", Stock)})
def set_stock(depot_id: str, item: str, body: StockRequest):
    stock = records.set_stock(state().context(), depot_id, item, body.quantity, unit=body.unit,
                              actor=auth.actor())
    return jsonify({"depot": depot_id, "stock": stock})
