"""Outlines' vertices to lon/lat through a fitted polynomial: within a millimetre of PROJ's exact
transform wherever it is used, and the exact transform where the fit would not be."""

import numpy as np
import pytest
from pyproj import Transformer

from geo.analysis.lonlat_fit import MIN_VERTICES, TOLERANCE_DEG, lonlat

UTM_32N = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)


def exact(xy):
    return np.column_stack(UTM_32N.transform(xy[:, 0], xy[:, 1]))


def vertices(size_m: float, n: int, seed: int = 0) -> np.ndarray:
    """Points over a box of ``size_m`` around Vaduz, in UTM 32N, corners included."""
    rng = np.random.default_rng(seed)
    x0, y0 = 541_000 - size_m / 2, 5_219_000 - size_m / 2
    xy = np.column_stack([rng.uniform(x0, x0 + size_m, n), rng.uniform(y0, y0 + size_m, n)])
    xy[:4] = [(x0, y0), (x0 + size_m, y0), (x0, y0 + size_m), (x0 + size_m, y0 + size_m)]
    return xy


@pytest.mark.parametrize("size_m", [500.0, 20_000.0, 150_000.0])
def test_region_sized_boxes_agree_with_the_exact_transform_to_a_millimetre(size_m):
    xy = vertices(size_m, 3 * MIN_VERTICES)
    assert np.abs(lonlat(UTM_32N.transform, xy) - exact(xy)).max() < TOLERANCE_DEG


def test_a_box_too_large_for_the_polynomial_falls_back_to_the_exact_transform():
    # 3,000 km across: no degree-5 polynomial follows the inverse to a millimetre there, so
    # every vertex must come from PROJ itself (the check, not the fit, decides).
    xy = vertices(3_000_000.0, 3 * MIN_VERTICES)
    assert np.array_equal(lonlat(UTM_32N.transform, xy), exact(xy))


def test_few_vertices_use_the_exact_transform():
    xy = vertices(20_000.0, 10)
    assert np.array_equal(lonlat(UTM_32N.transform, xy), exact(xy))
