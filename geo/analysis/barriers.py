"""Hazards as road barriers.

An active hazard becomes a zone (its polygon, or its point buffered by its impact radius). For
routing, each zone turns into per-edge arrays for the kernel: ``blocked`` (roads inside or crossing
the zone cannot be used) or ``cost_scale`` (roads are slowed by a factor). The network is never
edited. Rules per hazard type (radius, effect, factor, safety distance) are data:
``geo/data/hazard_rules.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.crs import check_projected, to_crs
from geo.core.hazard_rules import HazardRules, load_hazard_rules
from geo.errors import ValidationError
from geo.network.model import RoadNetwork

ROAD_EFFECTS = ("block", "slow")


@dataclass(frozen=True)
class Barriers:
    """Per-edge arrays for the routing kernel."""

    blocked: np.ndarray
    cost_scale: np.ndarray

    @cached_property
    def _kwargs(self) -> dict:
        # None where an array changes nothing: the search then uses the network's own read-only
        # costs, which the kernel keeps loaded between queries instead of copying new ones.
        return {"blocked": self.blocked if self.blocked.any() else None,
                "cost_scale": self.cost_scale if (self.cost_scale != 1).any() else None}

    def as_kwargs(self) -> dict:
        """``blocked`` and ``cost_scale`` for the analyses (None where they change nothing)."""
        return self._kwargs

    def combined(self, other: Barriers) -> Barriers:
        """Both sets at once: blocked where either blocks, the larger slow factor."""
        return Barriers(self.blocked | other.blocked, np.maximum(self.cost_scale, other.cost_scale))


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
    """Per-edge ``blocked`` / ``cost_scale`` arrays from hazard zones and ad-hoc barriers.

    ``zones`` (from :func:`hazard_zones`) may be in any projected CRS; they are converted to the
    network's. ``extra`` are barriers drawn by a user (a closed bridge as a line, an area as a
    polygon): shapely geometries in lon/lat (which block) or a GeoDataFrame in the CRS it
    declares, with optional ``road_effect`` / ``slow_factor`` columns. A road edge is affected
    when its geometry intersects the zone; where several slow an edge, the largest factor
    applies.
    """
    blocked = np.zeros(net.n_edges, dtype=bool)
    scale = np.ones(net.n_edges)
    for frame in (zones, _extra_zones(extra, net.crs)):
        if frame is None or len(frame) == 0:
            continue
        frame = to_crs(frame, net.crs, field="zones")
        zone_index, geom = net.edge_index.query(frame.geometry.to_numpy(), predicate="intersects")
        effects = frame["road_effect"].to_numpy()[zone_index]
        factors = frame["slow_factor"].to_numpy(dtype=float)[zone_index]
        for side in (0, 1):
            edges = net.geom_edges[geom, side]
            valid = edges >= 0
            blocked[edges[valid & (effects == "block")]] = True
            slow = valid & (effects == "slow")
            np.maximum.at(scale, edges[slow], factors[slow])
    return Barriers(blocked, scale)


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
