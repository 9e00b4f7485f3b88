"""What every analysis of the application layer shares: which network and direction each kind of
facility uses by default, one moment's revisions per query, the demo registry's note, registry
layers that may be absent, hazards and ad-hoc barriers as road effects, and the refusal of
inputs of another place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import geopandas as gpd

from geo.analysis.barriers import Barriers, road_barriers
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.services.context import Context

T = TypeVar("T")


@dataclass(frozen=True)
class FacilityDefaults:
    mode: str
    direction: str


# Which network and direction each kind of facility uses unless told otherwise.
FACILITY_DEFAULTS = {
    "shelters": FacilityDefaults(mode="walk", direction="to"),
    "teams": FacilityDefaults(mode="drive", direction="from"),
    "depots": FacilityDefaults(mode="drive", direction="from"),
}


def as_of_one_moment(analysis: Callable[..., T]) -> Callable[..., T]:
    """Run ``analysis(ctx, ...)`` with the registry's revisions read once (:meth:`Context.
    pinned`): every layer it uses as of one moment, for one query."""

    @functools.wraps(analysis)
    def pinned(ctx: Context, *args, **kwargs) -> T:
        with ctx.pinned():
            return analysis(ctx, *args, **kwargs)

    return pinned


def road_effects(ctx: Context, net: RoadNetwork, *, hazards: bool,
              extra: gpd.GeoDataFrame | None, notes: list[str]) -> dict:
    """``blocked`` / ``cost_scale`` of the registry's hazards (unless not wanted) and of the
    ad-hoc barriers, for the analysis functions."""
    chosen: Barriers | None = None
    if hazards:
        if len(ctx.layer("hazards")) == 0:
            notes.append("the registry has no hazards: none applied")
        chosen = ctx.hazard_barriers(net.mode)
    if extra is not None:
        drawn = road_barriers(net, extra=extra)
        chosen = drawn if chosen is None else chosen.combined(drawn)
    return {} if chosen is None else chosen.as_kwargs()


def registry_layer(ctx: Context, name: str, notes: list[str]) -> gpd.GeoDataFrame:
    """Registry layer ``name``, possibly empty: then the notes say it is absent."""
    frame = ctx.layer(name)
    if len(frame) == 0:
        notes.append(f"the registry has no {name}")
    return frame


def demo_notes(ctx: Context) -> list[str]:
    note = ctx.demo_note()
    return [note] if note else []


def check_same_place(ctx: Context, net: RoadNetwork, frame: gpd.GeoDataFrame, *,
                      field: str) -> None:
    """Refuse features that all lie away from the network: a file of another region would
    otherwise give "all unreachable" as if it were an answer."""
    if len(frame) == 0:
        return
    if frame.crs is None:
        raise ValidationError(f"{field}: the features have no CRS; set one (EPSG:4326 for "
                              "lon/lat)")
    ctx.require_same_place(net, tuple(frame.to_crs("EPSG:4326").total_bounds), field=field,
                           what_covers="the features cover")
