"""Hazards as road barriers.

An active hazard becomes a zone (its polygon, or its point buffered by its impact radius). For
routing, each zone turns into the stretches of road it covers (:class:`RoadEffects`): blocked (that
part of the road cannot be passed; the rest of the road stays reachable from its open ends) or
slowed by a factor (only the part inside the zone). A barrier line blocks a road where it crosses
it. The network is never edited. Rules per hazard type (radius, effect, factor, safety distance)
are data: ``geo/data/hazard_rules.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.crs import check_projected, to_crs
from geo.core.hazard_rules import HazardRules, load_hazard_rules
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.costs import RoadEffects

ROAD_EFFECTS = ("block", "slow")


@dataclass(frozen=True, eq=False)
class Barriers:
    """The stretches of road that hazards and barriers block or slow."""

    effects: RoadEffects

    def as_kwargs(self) -> dict:
        """``effects`` for the analyses (nothing when they change nothing: the search then uses
        the network's own costs, which the kernel keeps loaded between queries)."""
        return {"effects": self.effects} if len(self.effects) else {}

    def combined(self, other: Barriers) -> Barriers:
        """Both sets at once (where they overlap, blocked wins, else the larger slow factor)."""
        return Barriers(self.effects.combined(other.effects))


def hazard_zones(hazards: gpd.GeoDataFrame | None, *, crs: str,
                 rules: HazardRules | None = None, active_only: bool = True) -> gpd.GeoDataFrame:
    """The zones of the *active* hazards (all, with ``active_only=False``: exposure and safety
    distances concern every hazard source), in the projected ``crs`` (radii are metres, so a
    geographic CRS is refused).

    ``hazards`` (in any CRS it declares) needs ``type`` and a geometry; optional ``active``
    (default true), ``radius_m`` (for points; default from the rules), ``road_effect`` and
    ``slow_factor``. Columns out: ``hazard`` (the input index), ``type``, ``road_effect``,
    ``slow_factor``, ``safety_distance_m``, ``source`` (the hazard's own geometry) and the zone
    ``geometry``.
    """
    columns = ["hazard", "type", "active", "road_effect", "slow_factor", "safety_distance_m",
               "source"]
    check_projected(crs, field="crs")
    if hazards is None or len(hazards) == 0:
        return gpd.GeoDataFrame(columns=columns, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    rules = rules or load_hazard_rules()
    if "type" not in hazards:
        raise ValidationError("hazards: missing required field 'type'")
    active = (hazards["active"].astype(bool) if "active" in hazards
              else pd.Series(True, hazards.index))
    chosen = hazards[active.to_numpy()] if active_only else hazards
    projected = to_crs(chosen, crs, field="hazards").geometry
    rows, zones = [], []
    for (index, hazard), geometry in zip(chosen.iterrows(), projected):
        rule = rules.for_type(str(hazard["type"]))
        zone = _zone(index, hazard, geometry, rule)
        effect = _value(hazard, "road_effect", rule["road_effect"])
        if effect not in ROAD_EFFECTS:
            raise ValidationError(f"hazards[{index}].road_effect: {effect!r} is not one of "
                                  f"{', '.join(ROAD_EFFECTS)}")
        factor = float(_value(hazard, "slow_factor", rule.get("slow_factor", 1.0)))
        if effect == "slow" and not (np.isfinite(factor) and factor >= 1):
            raise ValidationError(f"hazards[{index}].slow_factor: must be a number ≥ 1, "
                                  f"got {factor!r}")
        rows.append((index, str(hazard["type"]), bool(_value(hazard, "active", True)), effect,
                     factor, float(rule["safety_distance_m"]), geometry))
        zones.append(zone)
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=zones, crs=crs)


def _value(row, column: str, default):
    value = row.get(column)
    return default if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _zone(index, hazard, geometry, rule):
    if geometry is None or geometry.is_empty:
        raise ValidationError(f"hazards[{index}].geometry: empty geometry")
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    radius = float(_value(hazard, "radius_m", rule["impact_radius_m"]))
    if not (np.isfinite(radius) and radius > 0):
        raise ValidationError(
            f"hazards[{index}].radius_m: must be a positive number, got {radius!r}")
    return geometry.buffer(radius)


def road_barriers(net: RoadNetwork, zones: gpd.GeoDataFrame | None = None, *,
                  extra: Iterable | gpd.GeoDataFrame | None = None) -> Barriers:
    """The stretches of road blocked or slowed by hazard zones and ad-hoc barriers.

    ``zones`` (from :func:`hazard_zones`) may be in any projected CRS; they are converted to the
    network's. ``extra`` are barriers drawn by a user (a closed bridge as a line, an area as a
    polygon): shapely geometries in lon/lat (which block) or a GeoDataFrame in the CRS it
    declares, with optional ``road_effect`` / ``slow_factor`` columns. Each road is affected
    exactly where it meets a zone; where several slow a stretch, the largest factor applies.
    """
    parts = [RoadEffects.none()]
    for frame in (zones, _extra_zones(extra, net.crs)):
        if frame is None or len(frame) == 0:
            continue
        frame = to_crs(frame, net.crs, field="zones")
        zone_index, geom = net.edge_index.query(frame.geometry.to_numpy(), predicate="intersects")
        blocks = frame["road_effect"].to_numpy()[zone_index] == "block"
        factor = np.where(blocks, np.inf,
                          frame["slow_factor"].to_numpy(dtype=float)[zone_index])
        parts.append(_covered_stretches(net, frame.geometry.to_numpy()[zone_index], geom,
                                        factor))
    effects = parts[0]
    for part in parts[1:]:
        effects = effects.combined(part)
    return Barriers(effects)


def _covered_stretches(net: RoadNetwork, zones: np.ndarray, geom: np.ndarray,
                       factor: np.ndarray) -> RoadEffects:
    """For each (zone, road geometry) pair, the stretches of the road inside the zone, as
    fractions along the road (a crossing point gives a stretch of zero length)."""
    lines = net.geometries[geom]
    pieces, pair = shapely.get_parts(shapely.intersection(lines, zones), return_index=True)
    pieces, sub = shapely.get_parts(pieces, return_index=True)  # collections hold lines/points
    pair = pair[sub]
    keep = ~shapely.is_empty(pieces)
    pieces, pair = pieces[keep], pair[keep]
    first = shapely.get_point(pieces, 0)
    last = shapely.get_point(pieces, -1)
    is_point = shapely.get_type_id(pieces) == 0
    first = np.where(is_point, pieces, first)
    last = np.where(is_point, pieces, last)
    road = lines[pair]
    a = shapely.line_locate_point(road, first, normalized=True)
    b = shapely.line_locate_point(road, last, normalized=True)
    # A road that comes back to a place it passed (a loop) makes locating a point ambiguous:
    # the piece's own length settles where it ends.
    span = np.where(is_point, 0.0, shapely.length(pieces) / shapely.length(road))
    start, end = np.minimum(a, b), np.maximum(a, b)
    ambiguous = np.abs((end - start) - span) > 1e-9
    fits_after = a + span <= 1.0 + 1e-12
    start = np.where(ambiguous, np.where(fits_after, a, np.maximum(b - span, 0.0)), start)
    end = np.where(ambiguous, np.minimum(start + span, 1.0), end)
    return RoadEffects(geom[pair], start, end, factor[pair])


def _extra_zones(extra, crs) -> gpd.GeoDataFrame | None:
    if extra is None:
        return None
    if isinstance(extra, gpd.GeoDataFrame):
        frame = to_crs(extra, crs, field="barriers").copy()
    else:
        geometries = list(extra)
        bad = [i for i, g in enumerate(geometries) if not isinstance(g, shapely.Geometry)
               or shapely.is_empty(g)]
        if bad:
            raise ValidationError(f"barriers[{bad[0]}]: expected a non-empty geometry")
        frame = gpd.GeoDataFrame(geometry=geometries, crs="EPSG:4326").to_crs(crs)
    if "road_effect" not in frame:
        frame["road_effect"] = "block"
    if "slow_factor" not in frame:
        frame["slow_factor"] = 1.0
    return frame
