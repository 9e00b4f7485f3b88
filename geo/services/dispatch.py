"""Dispatch for an incident, apart from the other analyses (:mod:`geo.services.analyses`) so
that a dispatch, the command a dispatcher waits for, imports none of theirs (service areas,
coverage, exposure). Its defaults: teams and depots drive from where they are (a team's turnout
added to its time), people walk to shelters, and the registry's active hazards apply unless
asked not to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import geopandas as gpd

from geo.analysis.dispatch import (
    DispatchResult,
    depots_for_items,
    nearest_teams,
    shelters_with_room,
)
from geo.core import labels
from geo.core.names import resolve_names
from geo.errors import PointError, ValidationError
from geo.services.common import as_of_one_moment, demo_notes, registry_layer, road_effects
from geo.services.context import Context


@as_of_one_moment
def dispatch(ctx: Context, *, at: tuple[float, float], k: int = 5,
             team_types: Sequence[str] = (), min_headcount: int = 0,
             items: Mapping[str, object] | None = None, shelters_k: int = 3,
             hazards: bool = True, barriers: gpd.GeoDataFrame | None = None) -> DispatchResult:
    """For an incident at ``at`` (lon, lat): the ``k`` nearest available teams of *each* of
    ``team_types`` (any type when none) by ETA (driving, turnout included), the depots covering
    ``items`` (item → quantity) and the ``shelters_k`` nearest open shelters with room (walking).

    Types and items may be written in any case, in English or Chinese (``Fire``, ``消防``,
    ``饮用水``); an unknown one is an error suggesting the closest. A point whose nearest road is
    cut off from the network is routed from the nearest connected road within the snap limit,
    and the teams' note says how far that road is.
    """
    with _named_point("at"):
        return _dispatch(ctx, at=at, k=k, team_types=team_types, min_headcount=min_headcount,
                         items=items, shelters_k=shelters_k, hazards=hazards, barriers=barriers)


@contextmanager
def _named_point(field: str) -> Iterator[None]:
    """Errors about the incident's point named as the caller's argument ``field``."""
    try:
        yield
    except PointError as exc:
        raise PointError(re.sub(r"^incident:", f"{field}:", str(exc))) from None


def _dispatch(ctx: Context, *, at, k, team_types, min_headcount, items, shelters_k, hazards,
              barriers) -> DispatchResult:
    types = _resolve_team_types(team_types)
    wanted = _resolve_items(ctx, items or {})
    notes = demo_notes(ctx)
    drive = ctx.network("drive")
    drive_barriers = road_effects(ctx, drive, hazards=hazards, extra=barriers, notes=notes)
    result = nearest_teams(drive, at, registry_layer(ctx, "teams", notes), k=k, types=types,
                           min_headcount=min_headcount, route_islands=True, **drive_barriers)
    supplies = None
    if wanted:
        depots = registry_layer(ctx, "depots", notes)
        inventory = ctx.layer("inventory")
        supplies = depots_for_items(drive, at, depots, inventory, wanted, route_islands=True,
                                    **drive_barriers)
    shelters = None
    if shelters_k:
        walk = ctx.network("walk")
        walk_barriers = road_effects(ctx, walk, hazards=hazards, extra=barriers, notes=[])
        shelters = shelters_with_room(walk, at, registry_layer(ctx, "shelters", notes),
                                      k=shelters_k, route_islands=True, **walk_barriers)
    return DispatchResult(at, result, supplies, shelters, tuple(notes))


def _resolve_team_types(team_types: Sequence[str]) -> list[str]:
    """The canonical team types of names typed in any case, in English or Chinese, each once."""
    known = labels.names("team_types")
    return list(dict.fromkeys(resolve_names("team_types", team_types, known, what="team type")))


def _resolve_items(ctx: Context, items: Mapping[str, object]) -> dict[str, object]:
    """``items`` keyed by the registry catalogue's item names, whatever name was typed (the
    item, or its Chinese or English label, in any case)."""
    if not items:
        return {}
    names = resolve_names("items", items, ctx.item_names(), what="catalogue item")
    typed_as: dict[str, str] = {}
    for typed, name in zip(items, names):
        if name in typed_as:  # adding the two quantities up would be a guess
            raise ValidationError(f"items: {name!r} is asked for twice (as {typed_as[name]!r} "
                                  f"and {typed!r})")
        typed_as[name] = typed
    return {name: items[typed] for name, typed in typed_as.items()}
