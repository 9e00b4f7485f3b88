"""GCJ-02 / BD-09 conversions: published reference values, round trips under 1 m, outside China."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geo.io import cn_coords

GEOD = Geod(ellps="WGS84")
# Sample points across mainland China (WGS84 lon, lat): Beijing, Shanghai, Guangzhou, Chengdu,
# Urumqi, Harbin, Lhasa, Haikou.
SAMPLES = np.array([(116.3913, 39.9075), (121.4737, 31.2304), (113.2644, 23.1291),
                    (104.0665, 30.5723), (87.6168, 43.8256), (126.5350, 45.8038),
                    (91.1322, 29.6604), (110.3312, 20.0311)])


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_forward_formulas_match_published_reference_values():
    # Reference values published with a widely used open implementation of the same formulas.
    lon, lat = cn_coords.wgs84_to_gcj02(116.404, 39.915)
    assert (lon, lat) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    lon, lat = cn_coords.gcj02_to_bd09(116.404, 39.915)
    assert (lon, lat) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)


def test_the_offset_is_hundreds_of_metres_in_china():
    gcj = cn_coords.wgs84_to_gcj02(SAMPLES[:, 0], SAMPLES[:, 1])
    shift = _metres(SAMPLES[:, 0], SAMPLES[:, 1], *gcj)
    assert ((shift > 50) & (shift < 1000)).all()
    bd = cn_coords.wgs84_to_bd09(SAMPLES[:, 0], SAMPLES[:, 1])
    assert (_metres(*gcj, *bd) > 500).all()  # Baidu adds roughly another 1 km


@pytest.mark.parametrize("name", ["GCJ-02", "BD-09"])
def test_round_trip_error_is_under_one_metre(name, rng):
    random = np.column_stack([rng.uniform(75, 134, 500), rng.uniform(18, 53, 500)])
    points = np.vstack([SAMPLES, random])
    offset = cn_coords.FROM_WGS84[name](points[:, 0], points[:, 1])
    back = cn_coords.TO_WGS84[name](*offset)
    error = _metres(points[:, 0], points[:, 1], *back)
    assert error.max() < 0.001  # well under the 1 m required: the inverse iterates to 1e-10°


def test_points_outside_china_are_not_shifted_by_gcj02():
    vaduz = (9.5209, 47.1410)
    assert cn_coords.wgs84_to_gcj02(*vaduz) == pytest.approx(vaduz, abs=0)
    assert cn_coords.gcj02_to_wgs84(*vaduz) == pytest.approx(vaduz, abs=0)


def test_names_of_the_chinese_systems():
    assert cn_coords.chinese_crs("gcj02") == "GCJ-02"
    assert cn_coords.chinese_crs("BD-09") == "BD-09"
    assert cn_coords.chinese_crs("EPSG:4326") is None
