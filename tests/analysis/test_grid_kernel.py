"""The compiled distance transform of the filled service-area form against scipy's."""

import numpy as np
import pytest
from scipy.ndimage import distance_transform_edt

from geo.analysis.grid_kernel import squared_distances_to


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
