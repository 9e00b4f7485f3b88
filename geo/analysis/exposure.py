"""Who and what is exposed to hazards: population, resources and roads inside each zone, and
shelters closer to a hazard source than its safety distance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.overlay import sum_within
from geo.core.crs import check_projected, to_crs
from geo.core.jsonable import jsonable
from geo.network.model import RoadNetwork


def exposure(zones: gpd.GeoDataFrame, *, layers: Mapping[str, gpd.GeoDataFrame] | None = None,
             population: gpd.GeoDataFrame | None = None, population_column: str = "population",
             net: RoadNetwork | None = None) -> pd.DataFrame:
    """For each hazard zone (in a projected CRS): the population, the features of each layer and
    the road length inside it. Layers are counted by the features that intersect the zone."""
    check_projected(zones.crs, field="zones")
    table = pd.DataFrame({"hazard": zones["hazard"].to_numpy(), "type": zones["type"].to_numpy(),
                          "active": zones["active"].to_numpy()})
    polygons = zones.geometry.to_numpy()
    if population is not None:
        table["population"] = sum_within(polygons, zones.crs, population, population_column)
    for name, layer in (layers or {}).items():
        if layer is None or len(layer) == 0:
            table[f"{name}_count"], table[f"{name}_ids"] = 0, [[] for _ in range(len(zones))]
            continue
        geometries = layer.geometry.to_crs(zones.crs).to_numpy()
        zone_index, feature = shapely.STRtree(geometries).query(polygons, predicate="intersects")
        ids = layer.index.to_numpy()
        table[f"{name}_count"] = np.bincount(zone_index, minlength=len(zones))
        table[f"{name}_ids"] = [ids[feature[zone_index == z]].tolist() for z in range(len(zones))]
    if net is not None:
        polygons = to_crs(zones, net.crs, field="zones").geometry.to_numpy()
        zone_index, geom = net.edge_index.query(polygons, predicate="intersects")
        inside = shapely.length(shapely.intersection(net.geometries[geom], polygons[zone_index]))
        table["road_km"] = np.bincount(zone_index, weights=inside, minlength=len(zones)) / 1000
    return table


def unsafe_shelters(shelters: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Shelters closer to a hazard *source* than its type's safety distance.

    One row per (shelter, hazard) pair too close: ``shelter``, ``hazard``, ``type``,
    ``distance_m`` (from the shelter's outline to the hazard's own geometry), ``required_m``.
    """
    columns = ["shelter", "hazard", "type", "distance_m", "required_m"]
    check_projected(zones.crs, field="zones")
    needs = zones[zones["safety_distance_m"] > 0]
    if len(shelters) == 0 or len(needs) == 0:
        return pd.DataFrame(columns=columns)
    sources = needs["source"].to_numpy()
    required = needs["safety_distance_m"].to_numpy(dtype=float)
    geometries = shelters.geometry.to_crs(zones.crs).to_numpy()
    reach = shapely.buffer(sources, required)
    hazard_index, shelter_index = shapely.STRtree(geometries).query(reach, predicate="intersects")
    distance = shapely.distance(geometries[shelter_index], sources[hazard_index])
    close = distance < required[hazard_index]
    return pd.DataFrame({
        "shelter": shelters.index.to_numpy()[shelter_index[close]],
        "hazard": needs["hazard"].to_numpy()[hazard_index[close]],
        "type": needs["type"].to_numpy()[hazard_index[close]],
        "distance_m": distance[close],
        "required_m": required[hazard_index[close]],
    }, columns=columns)


@dataclass(frozen=True)
class ExposureResult:
    """Per hazard zone what is inside it (``table``, one row per zone of ``zones``), and the
    shelters closer to a hazard source than its safety distance."""

    zones: gpd.GeoDataFrame
    table: pd.DataFrame
    unsafe_shelters: pd.DataFrame
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"hazards": jsonable(self.table.to_dict("records")),
                "unsafe_shelters": jsonable(self.unsafe_shelters.to_dict("records")),
                "notes": list(self.notes)}

    def features(self) -> gpd.GeoDataFrame:
        """The zones (EPSG:4326) with the table's columns."""
        return gpd.GeoDataFrame(self.table, geometry=self.zones.geometry.to_numpy(),
                                crs=self.zones.crs).to_crs("EPSG:4326")
