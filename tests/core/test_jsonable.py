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
