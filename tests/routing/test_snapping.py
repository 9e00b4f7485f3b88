"""Snapping beside a road cut off from the network: refused by default, routed from the nearest
connected road within the snap limit when asked (as dispatch does)."""

import numpy as np
import pytest
import shapely

from geo.routing.snapping import past_island, snap_points

# Avenue du Maréchal Foch, Monaco: a one-way street leaving the extract (cut off from the network);
# the nearest kept road is about 65 m away.
BESIDE_CUT_OFF = (7.420931, 43.739548)


@pytest.fixture(scope="module")
def mc_drive(networks):
    return networks("monaco", "drive")


def test_route_islands_snaps_to_the_nearest_connected_road(mc_drive):
    point = shapely.Point(*mc_drive.to_xy.transform(*BESIDE_CUT_OFF))
    distance = shapely.distance(point, mc_drive.geometries)
    routed = snap_points(mc_drive, *BESIDE_CUT_OFF, route_islands=True)
    assert routed.status[0] == "ok" and past_island(routed)[0]
    assert routed.geom[0] == np.argmin(distance)
    assert routed.snap_m[0] == pytest.approx(distance.min()) and routed.island_m[0] < 1
    # Asked the other way (after the cached answer above), the same point is on an island.
    refused = snap_points(mc_drive, *BESIDE_CUT_OFF)
    assert refused.status[0] == "island" and refused.geom[0] == -1
    assert refused.snap_m[0] == routed.snap_m[0]


def test_beyond_the_snap_limit_a_point_beside_a_cut_off_road_stays_on_an_island(mc_drive):
    snapped = snap_points(mc_drive, *BESIDE_CUT_OFF, route_islands=True, max_snap_m=30.0)
    assert snapped.status[0] == "island" and not past_island(snapped)[0]


def test_points_beside_connected_roads_snap_the_same_either_way(mc_drive, rng):
    west, south, east, north = mc_drive.bounds_lonlat
    lon, lat = rng.uniform(west, east, 300), rng.uniform(south, north, 300)
    plain = snap_points(mc_drive, lon, lat)
    routed = snap_points(mc_drive, lon, lat, route_islands=True)
    same = plain.status != "island"
    # Monaco's box holds sea beside cut-off port roads: many islands, within the limit or not.
    assert same.sum() > 150 and (~same & (plain.snap_m <= 500)).sum() > 10
    for name in ("geom", "fraction", "snap_m", "status"):
        np.testing.assert_array_equal(getattr(plain, name)[same], getattr(routed, name)[same])
    assert not past_island(routed)[same].any()
    # Every refused island point within the limit is routed, from a connected road.
    np.testing.assert_array_equal(routed.status[~same],
                                  np.where(plain.snap_m[~same] > 500, "island", "ok"))
