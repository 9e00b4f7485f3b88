"""Seeded test inputs placed on the real networks: points along real roads.

These are test positions for teams/shelters/demand, not registry data: the demo registry (built
from real OSM features) is tested on its own.
"""

import geopandas as gpd
import numpy as np
import shapely


def points_along_roads(net, n, rng, *, offset_m=15.0):
    """``n`` (lon, lat) points a few metres beside random road geometries of ``net``."""
    geoms = rng.integers(0, net.n_geometries, n)
    lines = net.geometries[geoms]
    at = shapely.line_interpolate_point(lines, rng.uniform(0.05, 0.95, n), normalized=True)
    xy = shapely.get_coordinates(at) + rng.uniform(-offset_m, offset_m, (n, 2))
    lon, lat = net.to_lonlat.transform(xy[:, 0], xy[:, 1])
    return np.asarray(lon), np.asarray(lat)


def teams_frame(net, n, rng) -> gpd.GeoDataFrame:
    lon, lat = points_along_roads(net, n, rng)
    return gpd.GeoDataFrame({
        "name": [f"team {i}" for i in range(n)],
        "type": rng.choice(["fire", "medical", "search_rescue"], n),
        "status": rng.choice(["available", "available", "available", "assigned", "off_duty"], n),
        "headcount": rng.integers(2, 12, n),
        "turnout_s": rng.choice([60.0, 120.0, 180.0, 300.0], n),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
