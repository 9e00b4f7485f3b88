"""Outlines' vertices to lon/lat through a fitted polynomial: within a millimetre of PROJ's exact
transform wherever it is used, and the exact transform where the fit would not be."""

import numpy as np
import pytest
from pyproj import Transformer

from geo.analysis.lonlat_fit import MIN_VERTICES, TILE_M, TOLERANCE_DEG, lonlat

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


class CountingTransform:
    """PROJ's transform, counting the points it is asked for."""

    def __init__(self):
        self.points = 0

    def __call__(self, x, y):
        self.points += len(x)
        return UTM_32N.transform(x, y)


@pytest.mark.parametrize("size_m", [50.0, 1_500.0, TILE_M])
def test_small_boxes_share_one_fit_per_tile_and_stay_within_a_millimetre(size_m):
    # A walking area's few hundred vertices: with the projection named, the fit of the tile
    # around them is made once and serves every later box starting in that tile (PROJ is not
    # asked again); the widest boxes here cross a multiple of TILE_M.
    crs = f"EPSG:32632 test {size_m}"  # a cache key of this test's own
    transform = CountingTransform()
    first = vertices(size_m, 10, seed=1)
    assert np.abs(lonlat(transform, first, crs=crs) - exact(first)).max() < TOLERANCE_DEG
    asked = transform.points
    for seed, shift_m in enumerate([0.0, 3.0, size_m / 3], start=2):
        xy = vertices(size_m, 10, seed=seed) + shift_m
        assert np.abs(lonlat(transform, xy, crs=crs) - exact(xy)).max() < TOLERANCE_DEG
    assert transform.points == asked

    far = vertices(size_m, 10) + 5 * TILE_M  # another tile: a fit of its own
    assert np.abs(lonlat(transform, far, crs=crs) - exact(far)).max() < TOLERANCE_DEG
    assert transform.points > asked


def test_boxes_wider_than_a_tile_with_few_vertices_use_the_exact_transform():
    xy = vertices(2 * TILE_M, 10)
    assert np.array_equal(lonlat(UTM_32N.transform, xy, crs="EPSG:32632"), exact(xy))


def test_a_tile_where_the_polynomial_fails_uses_the_exact_transform():
    # A "projection" with a kink inside the tile: no polynomial follows it, so the check must
    # refuse the tile's fit and every vertex come from the transform itself.
    def kinked(x, y):
        lon, lat = UTM_32N.transform(x, y)
        return lon + 1e-3 * np.abs(np.asarray(x) - 541_000.0) / TILE_M, lat

    xy = vertices(1_000.0, 10)
    assert np.array_equal(lonlat(kinked, xy, crs="kinked"), np.column_stack(kinked(xy[:, 0],
                                                                                 xy[:, 1])))
