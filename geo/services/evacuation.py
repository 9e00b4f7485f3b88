"""Evacuation of hazard zones, as the command line and the web ask for it.

The decisions, written once:
- by default the registry's *active* hazards are evacuated; hazards named by id are evacuated
  whether active or not (an inactive one is a planning scenario: "if the Rhine floods"), and the
  notes say which were inactive;
- people walk (the walk network) unless told to drive;
- the other active hazards and the ad-hoc barriers are the barriers; the evacuated zones never
  block their own people's way out (their slow effects apply inside them);
- shelters are used only when open, with room, outside every evacuated or active zone and
  farther from every hazard source, active or not, than its safety distance.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np

from geo.analysis.barriers import hazard_zones, road_barriers
from geo.analysis.evacuation import STAGES, EvacuationResult
from geo.analysis.evacuation import evacuation as evacuation_of
from geo.errors import ValidationError
from geo.network.build import check_mode
from geo.services.common import as_of_one_moment, demo_notes, registry_layer
from geo.services.context import Context

__all__ = ["STAGES", "evacuate"]  # STAGES: what progress(stage) is called with, in order

# How many hazard ids a message offers (close matches, or hazards to name).
_SUGGESTED = 3


@as_of_one_moment
def evacuate(ctx: Context, *, hazards: Sequence[str] = (), mode: str = "walk",
             barriers: gpd.GeoDataFrame | None = None, max_time_s: float | None = None,
             progress: Callable[[str], None] | None = None) -> EvacuationResult:
    """Assign the people inside the zones of ``hazards`` (ids; default: every active hazard of
    the registry) to safe open shelters with room, placing as many as possible with the least
    total travel time (see :func:`geo.analysis.evacuation.evacuation`).

    An unknown id is an error naming ``hazards`` and suggesting the closest ids; so is a
    registry with no hazard to evacuate. Nobody inside the zones is an answer (0 placed), not an
    error. ``progress(stage)`` is called as each stage of the analysis starts.
    """
    notes = demo_notes(ctx)
    net = ctx.network(check_mode(mode))
    layer = ctx.layer("hazards")
    chosen = _chosen_hazards(layer, hazards)
    active = _active(layer)
    inactive = [h for h in chosen if not active[h]]
    if inactive:
        notes.append(f"not active, evacuated as a planning scenario: {', '.join(inactive)}")
    zones_all = hazard_zones(layer, crs=net.crs, rules=ctx.rules, active_only=False)
    evacuated = zones_all["hazard"].isin(chosen).to_numpy()
    others = zones_all[~evacuated & zones_all["active"].astype(bool).to_numpy()]
    if len(others):
        notes.append("other active hazards block or slow the roads: "
                     + ", ".join(map(str, others["hazard"])))
    effects = road_barriers(net, others, extra=barriers).effects
    population = registry_layer(ctx, "population", notes)
    shelters = registry_layer(ctx, "shelters", notes)
    result = evacuation_of(net, zones_all[evacuated], population, shelters,
                           unsafe_zones=zones_all, effects=effects if len(effects) else None,
                           max_time_s=max_time_s, progress=progress)
    return dataclasses.replace(result, notes=(*notes, *result.notes))


def hazards_to_evacuate(ctx: Context, hazards: Sequence[str] = ()) -> list:
    """The ids :func:`evacuate` would evacuate, or its error for them (an unknown id, with the
    closest ones; no hazard at all; none active when none is named): for callers that check a
    request before queuing it."""
    return _chosen_hazards(ctx.layer("hazards"), hazards)


def _active(layer: gpd.GeoDataFrame) -> dict:
    flags = (layer["active"].astype(bool).to_numpy() if "active" in layer
             else np.ones(len(layer), dtype=bool))
    return dict(zip(layer.index, flags))


def _chosen_hazards(layer: gpd.GeoDataFrame, hazards: Sequence[str]) -> list:
    """The ids to evacuate: those given (each must exist), else the active ones."""
    if isinstance(hazards, str):
        hazards = [hazards]
    ids = [str(i) for i in layer.index]
    if len(layer) == 0:
        raise ValidationError("hazards: the registry has no hazards, so there is no zone to "
                              "evacuate; add the hazard first")
    if hazards:
        wanted = list(dict.fromkeys(str(h).strip() for h in hazards))
        unknown = [h for h in wanted if h not in layer.index]
        if unknown:
            raise ValidationError("hazards: " + "; ".join(_unknown(h, ids) for h in unknown)
                                  + f" (the registry has {len(ids)} hazards)")
        return wanted
    active = [h for h, flag in _active(layer).items() if flag]
    if not active:
        raise ValidationError(
            f"hazards: none of the registry's {len(ids)} hazards is active; name the hazards to "
            f"evacuate (as a planning scenario), e.g. {', '.join(_likely(layer))}")
    return active


def _unknown(typed: str, ids: list[str]) -> str:
    by_folded = {i.casefold(): i for i in ids}
    close = difflib.get_close_matches(typed.casefold(), list(by_folded), n=_SUGGESTED,
                                      cutoff=0.6)
    hint = f" (did you mean {' or '.join(by_folded[c] for c in close)}?)" if close else ""
    return f"{typed!r} is not a hazard of the registry{hint}"


def _likely(layer: gpd.GeoDataFrame) -> list[str]:
    """A few hazard ids to offer: the highest risk level first."""
    risk = (layer["risk_level"].fillna(0).to_numpy(dtype=float) if "risk_level" in layer
            else np.zeros(len(layer)))
    order = np.lexsort((np.arange(len(layer)), -risk))[:_SUGGESTED]
    return [str(layer.index[i]) for i in order]
