"""The one JSON converter: every value a frame or a result may hold becomes plain JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from geo.core.jsonable import jsonable


@pytest.mark.parametrize(("value", "expected"), [
    (pd.Timestamp("2024-05-01 08:30"), "2024-05-01T08:30:00"),
    (datetime(2024, 5, 1, 8, 30, tzinfo=UTC), "2024-05-01T08:30:00+00:00"),
    (np.datetime64("2024-05-01T08:30:00.000000000"), "2024-05-01T08:30:00"),
    (np.datetime64("NaT"), None),
    (pd.NaT, None),
    (np.timedelta64(90, "s"), "P0DT0H1M30S"),
    (timedelta(minutes=2), "P0DT0H2M0S"),
    (pd.Series(pd.to_datetime(["2024-05-01", None])), ["2024-05-01T00:00:00", None]),
    (np.array(["2024-05-01"], dtype="datetime64[ns]"), ["2024-05-01T00:00:00"]),
])
def test_times_and_durations_become_iso_8601_text(value, expected):
    assert jsonable(value) == expected
    json.dumps(jsonable({"value": value}), allow_nan=False)


def test_geometries_keep_their_coordinates_exactly_ragged_parts_included():
    import json

    import shapely

    polygon = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)],
                              holes=[[(1, 1), (2, 1), (2, 2)]])
    shapes = [shapely.Point(9.52, 47.14), shapely.LineString([(0.1, 0.2), (0.3, 0.4)]),
              polygon, shapely.MultiPolygon([polygon, shapely.box(10, 10, 11, 11)]),
              shapely.Point()]
    for shape in shapes:
        converted = jsonable(shape)
        assert shapely.geometry.shape(converted).equals_exact(shape, 0) or shape.is_empty
        assert json.loads(json.dumps(converted)) == converted  # plain lists and floats
    route = {"type": "LineString", "coordinates": [[1.0, float("nan")], [2.0, 3.0]]}
    assert jsonable(route)["coordinates"] == [[1.0, None], [2.0, 3.0]]
