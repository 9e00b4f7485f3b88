"""The planning analyses, run as jobs (``202`` and ``GET /api/jobs/{id}``): where to open
shelters (siting, on the road network or on a cost matrix from another tool) and who goes where
when hazard zones are evacuated. They write nothing: the permission of the other analyses."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geo import services
from geo.analysis.siting import NEEDS_CUTOFF, SitingMatrix, check_p
from geo.errors import ValidationError
from geo.services.evacuation import STAGES, hazards_to_evacuate
from web.api import api
from web.api.analyses import accepted, analysis_result, demand_frame, submit
from web.geojson_in import frame
from web.openapi import Response, route
from web.schemas import EvacuationRequest, JobAccepted, SitingRequest
from web.state import state

# The inputs of siting on the road network, and those of siting on a cost matrix.
NETWORK_FIELDS = ("minutes", "capacitated", "keep_existing", "candidates", "shelter_class",
                  "demand", "demand_column", "mode", "hazards", "barriers")
MATRIX_FIELDS = ("weights", "cutoff")
# The job's progress as the siting's messages start with these (the solver's come in between).
EMPTY = {"type": "FeatureCollection", "features": []}
SITING_STAGES = {"travel times": 0.1, "solving": 0.3, "comparing before and after": 0.85}


@route(api, "/siting", "POST", summary="Where to open shelters (a job)", tag="analyses",
       permission="read", body=SitingRequest, errors=(422,),
       responses={202: Response("accepted: follow the job", JobAccepted, headers=("Location",))})
def siting(body: SitingRequest):
    """Shelter sites chosen among the candidates for the demand by walking time (lscp, mclp,
    pmedian, pcenter; capacitated, keeping today's shelters), with the candidates too close to a
    hazard excluded and the before/after comparison; the open sites are the GeoJSON
    ``features`` of the job's result. With ``cost_matrix`` the same models run on those costs
    (``sites`` named by its candidate ids; no features)."""
    _check_numbers(body)
    costs = _cost_matrix(body)
    if costs is not None:
        def work(report):
            result = services.site_matrix(
                problem=body.problem, costs=costs, weights=body.weights, p=body.p,
                cutoff=body.cutoff, time_limit_s=body.time_limit_s,
                progress=_progress(report, SITING_STAGES))
            return {**result.to_dict(), "features": EMPTY}  # no places, so no map

        return accepted(submit("siting", _params(body), work))

    candidates = (body.candidates if isinstance(body.candidates, str)
                  else frame(body.candidates, field="candidates"))
    demand = demand_frame(body)
    barriers = frame(body.barriers, field="barriers")
    ctx = state().context()

    def work(report):
        report(0.05, "finding the candidates and the demand")
        result = services.site(
            ctx, problem=body.problem, p=body.p, minutes=body.minutes,
            capacitated=body.capacitated, keep_existing=body.keep_existing,
            candidates=candidates, shelter_class=body.shelter_class, demand=demand,
            demand_column=body.demand_column, time_limit_s=body.time_limit_s, mode=body.mode,
            hazards=body.hazards, barriers=barriers, progress=_progress(report, SITING_STAGES))
        report(0.95, "writing the result")
        return analysis_result(result, result.features())

    return accepted(submit("siting", _params(body), work))


@route(api, "/evacuation", "POST", summary="Evacuating hazard zones to safe shelters (a job)",
       tag="analyses", permission="read", body=EvacuationRequest, errors=(422,),
       responses={202: Response("accepted: follow the job", JobAccepted, headers=("Location",))})
def evacuation(body: EvacuationRequest):
    """The people inside the zones of ``hazards`` (default: every active hazard; an inactive one
    named is a planning scenario) assigned to open shelters with room outside every hazard's
    reach, as many as possible with the least total travel time; the routes are the GeoJSON
    ``features`` of the job's result."""
    ctx = state().context()
    hazards_to_evacuate(ctx, body.hazards)  # its errors are a 422 now, not a failed job
    barriers = frame(body.barriers, field="barriers")
    max_time_s = None if body.max_minutes is None else body.max_minutes * 60.0
    stages = {stage: 0.1 + 0.8 * n / len(STAGES) for n, stage in enumerate(STAGES)}

    def work(report):
        result = services.evacuate(ctx, hazards=body.hazards, mode=body.mode,
                                   barriers=barriers, max_time_s=max_time_s,
                                   progress=_progress(report, stages))
        report(0.95, "writing the result")
        return analysis_result(result, result.features())

    return accepted(submit("evacuation", body.model_dump(exclude={"barriers"}), work))


def _check_numbers(body: SitingRequest) -> None:
    """Whether ``p`` (and a matrix's ``cutoff``) is given as the problem needs: known before
    any job (whether there are that many candidates is known only once they are found)."""
    check_p(body.problem, body.p)
    if body.cost_matrix is not None and body.problem in NEEDS_CUTOFF and body.cutoff is None:
        raise ValidationError(f"cutoff: {body.problem} on a cost matrix needs a cutoff (the cost "
                              "within which demand counts as covered, in the matrix's units)")


def _cost_matrix(body: SitingRequest) -> pd.DataFrame | None:
    """The cost matrix given (``inf`` where null), checked now with its weights: None when the
    road network is to be used. A request is one or the other, never a mix."""
    given = body.model_fields_set
    if body.cost_matrix is None:
        for name in MATRIX_FIELDS:
            if getattr(body, name) is not None:
                raise ValidationError(f"{name}: only with cost_matrix (on the road network, "
                                      "minutes and the demand's own column)")
        return None
    for name in NETWORK_FIELDS:
        if name in given:
            raise ValidationError(f"{name}: an input of the road network, not given with "
                                  "cost_matrix")
    if body.weights is None:
        raise ValidationError("weights: required with cost_matrix (the demand of each row)")
    matrix = body.cost_matrix
    width = len(matrix.candidate_ids)
    for number, row in enumerate(matrix.costs):
        if len(row) != width:
            raise ValidationError(f"cost_matrix.costs.{number}: {len(row)} costs for the "
                                  f"{width} candidate_ids")
    dense = np.array(matrix.costs, dtype=float).reshape(len(matrix.costs), width)
    dense[np.isnan(dense)] = np.inf  # null (the schema lets no NaN in)
    SitingMatrix.from_dense(dense, body.weights, demand_ids=matrix.demand_ids,
                            candidate_ids=matrix.candidate_ids,
                            fields=("cost_matrix", "weights"))
    return pd.DataFrame(dense, index=matrix.demand_ids, columns=matrix.candidate_ids)


def _params(body: SitingRequest) -> dict:
    """What the job records of its request: the options, not the features or the matrix."""
    params = body.model_dump(exclude={"candidates", "demand", "barriers", "cost_matrix",
                                      "weights"})
    if isinstance(body.candidates, str):
        params["candidates"] = body.candidates
    if body.cost_matrix is not None:
        params["cost_matrix"] = {"shape": [len(body.cost_matrix.demand_ids),
                                           len(body.cost_matrix.candidate_ids)]}
    return params


def _progress(report: Callable[[float, str], None],
              stages: dict[str, float]) -> Callable[[str], None]:
    """A ``progress(message)`` that reports the fraction of the stage the message starts with,
    never going back (a message of no stage keeps the fraction)."""
    done = [0.0]

    def progress(message: str) -> None:
        fraction = max((f for prefix, f in stages.items() if message.startswith(prefix)),
                       default=done[0])
        done[0] = max(done[0], fraction)
        report(done[0], message)

    return progress
