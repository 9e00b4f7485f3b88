"""The compiled distance transform and closing of the filled service-area form against scipy's
distance transform."""

import numpy as np
import pytest
from scipy.ndimage import distance_transform_edt

from geo.analysis.grid_kernel import (
    MAX_BRUTE_RADIUS,
    closed_field,
    farther_than,
    squared_distances_to,
    squared_distances_within,
)


@pytest.mark.parametrize(("shape", "share"), [((5, 7), 0.2), ((60, 80), 0.01), ((200, 90), 0.3),
                                              ((150, 120), 0.0005), ((1, 9), 0.3), ((9, 1), 0.3)])
def test_squared_distances_match_scipys_exact_euclidean_transform(shape, share):
    rng = np.random.default_rng(sum(shape))
    feature = rng.random(shape) < share
    feature.flat[rng.integers(feature.size)] = True  # at least one
    expected = distance_transform_edt(~feature) ** 2
    np.testing.assert_allclose(squared_distances_to(feature), expected, atol=1e-9)


def test_a_grid_without_features_is_far_everywhere():
    assert (squared_distances_to(np.zeros((4, 6), dtype=bool)) >= 1e30).all()
    assert (squared_distances_within(np.zeros((4, 6), dtype=bool), 3) > 9).all()


@pytest.mark.parametrize(("shape", "share", "radius"), [
    ((5, 7), 0.2, 1), ((60, 80), 0.01, 7), ((200, 90), 0.05, 12), ((150, 120), 0.0005, 24),
    ((1, 9), 0.3, 2), ((9, 1), 0.3, 2), ((40, 40), 0.0, 0), ((40, 40), 0.0, 5)])
def test_bounded_distances_are_exact_within_the_radius_and_beyond_it_elsewhere(shape, share,
                                                                               radius):
    rng = np.random.default_rng(sum(shape) + radius)
    feature = rng.random(shape) < share
    feature.flat[rng.integers(feature.size)] = True
    expected = np.round(distance_transform_edt(~feature) ** 2)  # whole cells²
    got = squared_distances_within(feature, radius)
    inside = expected <= radius * radius
    np.testing.assert_array_equal(got[inside], expected[inside])
    assert (got[~inside] > radius * radius).all()


@pytest.mark.parametrize(("shape", "share", "distance_m"), [
    ((5, 7), 0.2, 20.0), ((60, 80), 0.01, 140.0), ((200, 90), 0.05, 250.0),
    ((150, 120), 0.001, 20.0 * MAX_BRUTE_RADIUS), ((1, 9), 0.3, 45.0), ((9, 1), 0.3, 45.0),
    ((40, 40), 0.0, 100.0), ((80, 70), 0.02, 100.0), ((80, 70), 0.02, 99.9)])
def test_farther_than_matches_scipys_transform(shape, share, distance_m):
    # whole-cell distances (100 m = 5 cells: points exactly 5 cells away are not farther) and
    # fractions of a cell
    rng = np.random.default_rng(sum(shape))
    feature = rng.random(shape) < share
    if share:
        feature.flat[rng.integers(feature.size)] = True
    expected = (distance_transform_edt(~feature) * 20.0 > distance_m if feature.any()
                else np.ones(shape, dtype=bool))
    np.testing.assert_array_equal(farther_than(feature, distance_m, 20.0), expected)


@pytest.mark.parametrize(("seed", "fill_m"), [
    (0, 200.0), (1, 200.0), (2, 90.0), (3, 200.0),
    # bounded growing, exact shrinking; then both exact (radii beyond MAX_BRUTE_RADIUS cells)
    (4, 20.0 * MAX_BRUTE_RADIUS - 20.0), (5, 20.0 * MAX_BRUTE_RADIUS + 100.0)])
def test_the_closed_field_grows_the_band_and_shrinks_it_back(seed, fill_m):
    # Roads as random segments' distance field; the band (≤ buffer) closed by fill: land within
    # fill of the band, less what lies within fill of land beyond it. Built here from scipy's
    # transform, the field must agree: the band keeps its distances, the closed-in land is at
    # most buffer, and land outside the closing stays beyond it.
    rng = np.random.default_rng(seed)
    cell_m, buffer_m = 20.0, 40.0
    distance2 = np.full((90, 110), 1e12)
    y, x = np.mgrid[0:90, 0:110] * cell_m
    for _ in range(6):
        (ax, ay), (bx, by) = rng.uniform(400, 1800, (2, 2))
        vx, vy = bx - ax, by - ay
        t = np.clip(((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy), 0, 1)
        distance2 = np.minimum(distance2, (x - ax - t * vx) ** 2 + (y - ay - t * vy) ** 2)
    band = distance2 <= buffer_m ** 2
    grown = distance_transform_edt(~band) * cell_m <= fill_m
    depth = distance_transform_edt(grown) * cell_m
    expected = np.minimum(np.sqrt(distance2), np.maximum(buffer_m + fill_m - depth, 0.0))

    field = closed_field(distance2, buffer_m, fill_m, cell_m)
    np.testing.assert_allclose(field, expected, atol=1e-6)
    closed = field <= buffer_m
    assert (closed[band]).all() and closed.sum() > band.sum()  # gaps between roads filled
    assert not closed[~grown].any()
