"""The analyses: dispatch and exposure answer at once; service areas and coverage, which can
take longer, run as jobs (``202`` and ``GET /api/jobs/{id}``). Parameters and defaults are the
command line's."""

from __future__ import annotations

from flask import jsonify, url_for

from geo import OSM_ATTRIBUTION, services
from geo.errors import ValidationError
from geo.io.geojson import geojson_collection
from web import auth
from web.api import api
from web.geojson_in import frame
from web.openapi import Response, route
from web.schemas import (
    AnalysisResult,
    CoverageRequest,
    DispatchRequest,
    DispatchResult,
    ExposureRequest,
    JobAccepted,
    JobState,
    ServiceAreaRequest,
)
from web.state import state

SECONDS_PER = {"min": 60.0, "s": 1.0}


def analysis_result(result, features) -> dict:
    return {**result.to_dict(), "attribution": OSM_ATTRIBUTION,
            "features": geojson_collection(features, attribution=True)}


@route(api, "/dispatch", "POST", summary="Nearest available teams, depots and shelters",
       tag="analyses", permission="read", body=DispatchRequest, errors=(422,),
       responses={200: Response("teams by ETA with routes, depots, shelters", DispatchResult)})
def dispatch(body: DispatchRequest):
    """For an incident at ``at``: the ``k`` nearest available teams of each type by ETA
    (turnout included), the depots covering ``items``, the nearest open shelters with room —
    as the command line's ``--json`` prints them, each route a GeoJSON LineString (``route``)
    in its entry (given once: the answer stays small enough for a dispatcher's blink)."""
    result = services.dispatch(
        state().context(), at=body.at, k=body.k, team_types=body.team_types,
        min_headcount=body.min_headcount, items=body.items, shelters_k=body.shelters,
        hazards=body.hazards, barriers=frame(body.barriers, field="barriers"))
    return jsonify({**result.to_dict(), "attribution": OSM_ATTRIBUTION})


@route(api, "/exposure", "POST", summary="Population and resources inside hazard zones",
       tag="analyses", permission="read", body=ExposureRequest, errors=(422,),
       responses={200: Response("per hazard, and the unsafe shelters", AnalysisResult)})
def exposure(body: ExposureRequest):
    result = services.exposure(state().context(), mode=body.mode)
    return jsonify(analysis_result(result, result.features()))


def demand_frame(body):
    """The ``demand`` features given, which must carry ``demand_column`` (None: the
    registry's population)."""
    demand = frame(body.demand, field="demand")
    if demand is not None and body.demand_column not in demand:
        raise ValidationError(f"demand_column: the demand features have no property "
                              f"{body.demand_column!r}")
    return demand


def _breaks(body) -> dict:
    if body.unit == "m":
        return {"breaks_s": None, "breaks_m": body.breaks}
    return {"breaks_s": [b * SECONDS_PER[body.unit] for b in body.breaks], "breaks_m": None}


def _area_inputs(body) -> dict:
    return {"layer": body.layer, "facilities": frame(body.facilities, field="facilities"),
            "mode": body.mode, "direction": body.direction, "hazards": body.hazards,
            "barriers": frame(body.barriers, field="barriers"), **_breaks(body)}


def accepted(job_id: str):
    href = url_for("api.job", job_id=job_id)
    return jsonify({"job": job_id, "status": "queued", "href": href}), 202, {"Location": href}


@route(api, "/service-areas", "POST", summary="Service areas of facilities (a job)",
       tag="analyses", permission="read", body=ServiceAreaRequest, errors=(422,),
       responses={202: Response("accepted: follow the job", JobAccepted, headers=("Location",))})
def service_areas(body: ServiceAreaRequest):
    """Areas reached within each break, following the roads, with the population each reaches;
    the areas are the GeoJSON ``features`` of the job's result."""
    inputs = _area_inputs(body)  # parsed now: bad input is a 4xx, not a failed job
    ctx = state().context()

    def work(report):
        report(0.1, "computing service areas")
        result = services.service_areas(ctx, shape=body.shape, overlap=body.overlap,
                                        form=body.form, buffer_m=body.buffer_m,
                                        fill_m=body.fill_m, **inputs)
        report(0.9, "writing the result")
        return analysis_result(result, result.features())

    return accepted(submit("service-areas", _params(body), work))


@route(api, "/coverage", "POST", summary="Demand covered within each break (a job)",
       tag="analyses", permission="read", body=CoverageRequest, errors=(422,),
       responses={202: Response("accepted: follow the job", JobAccepted, headers=("Location",))})
def coverage(body: CoverageRequest):
    """Demand covered by the facilities within each break; the uncovered demand points are the
    GeoJSON ``features`` of the job's result."""
    inputs = _area_inputs(body)
    demand = demand_frame(body)
    ctx = state().context()

    def work(report):
        report(0.1, "computing coverage")
        result = services.coverage(ctx, demand=demand, demand_column=body.demand_column,
                                   **inputs)
        report(0.9, "writing the result")
        return analysis_result(result, result.uncovered())

    return accepted(submit("coverage", _params(body), work))


def _params(body) -> dict:
    """What the job records of its request: the options, not the features given."""
    return body.model_dump(exclude={"facilities", "demand", "barriers"})


def submit(kind: str, params: dict, work) -> str:
    return state().jobs.submit(kind, owner=auth.actor(), params=params, work=work)


@route(api, "/jobs/<job_id>", "GET", summary="A job's progress, then its result",
       tag="analyses", permission="read", errors=(404,),
       responses={200: Response("the job: queued, running, done (with result), failed (with "
                                "error) or lost (its worker stopped)", JobState)})
def job(job_id: str):
    return jsonify(state().registry().job(job_id).to_dict())
