"""Points typed on the command line, by property: any text is a point or one clear error, and
every LAT,LON option takes southern and western points as they are written."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geo.cli.main import main
from geo.cli.options import parse_latlon
from geo.errors import PointError

# Fast and repeatable: a fixed set of examples per run, nothing stored between runs.
FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None)
FAST_CLI = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

coordinates = st.floats(allow_nan=False, allow_infinity=False)
number_text = st.one_of(
    coordinates.map(repr),
    st.floats().map(str),  # nan, inf, -inf too
    st.integers(min_value=-10**400, max_value=10**400).map(str),
    st.sampled_from(["", " ", "-", ".", "1e", "1e999", "-0", "1_000", "٣", "12°", "N47", "0x1"]),
)
point_text = st.one_of(
    st.text(max_size=40),
    st.tuples(number_text, number_text).map(",".join),
    st.lists(number_text, max_size=4).map(",".join),
    st.tuples(coordinates, coordinates).map(lambda p: f" {p[0]!r} ,  {p[1]!r} "),
)


@FAST
@given(text=point_text)
@example(text="-33.9,18.4")
@example(text="47.1\n,9.5")
@example(text="1e400,1")
def test_any_text_is_a_point_or_a_point_error_naming_the_field(text):
    try:
        lon, lat = parse_latlon(text, field="--at")
    except PointError as exc:
        message = str(exc)
        assert message.startswith("--at: ") and "\n" not in message
        return
    assert isinstance(lon, float) and isinstance(lat, float)
    assert math.isfinite(lon) and math.isfinite(lat)


@FAST
@given(lat=coordinates, lon=coordinates, spaces=st.sampled_from(["", " ", "  "]))
def test_a_written_point_reads_back_exactly_as_lon_lat(lat, lon, spaces):
    text = f"{spaces}{lat!r}{spaces},{spaces}{lon!r}{spaces}"
    assert parse_latlon(text, field="--from") == (lon, lat)


@pytest.fixture
def run_cli(capsys, cache_dir, li_drive):
    """``main(argv)`` on the Liechtenstein network (built once): (exit status, stderr)."""

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        try:
            code = main([*argv, "--cache-dir", str(cache_dir)])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        return code, capsys.readouterr().err

    return run


liechtenstein = st.tuples(st.floats(47.05, 47.27), st.floats(9.47, 9.64)).map(
    lambda p: f"{p[0]!r},{p[1]!r}")


@FAST_CLI
@given(origin=st.one_of(point_text, liechtenstein), option=st.sampled_from(["--from", "--to"]))
@example(origin="-33.9,18.4", option="--from")
@example(origin="--json", option="--to")
@example(origin="47.16,9.51\n--x", option="--from")
def test_route_points_from_the_command_line_never_crash(run_cli, origin, option):
    other = "--to" if option == "--from" else "--from"
    code, err = run_cli("route", option, origin, other, "47.1410,9.5209")
    assert code in (0, 2), err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err


@FAST_CLI
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180),
       option=st.sampled_from(["--from", "--to"]))
def test_every_lat_lon_is_read_as_a_point_without_an_equals_sign(run_cli, lat, lon, option):
    other = "--to" if option == "--from" else "--from"
    code, err = run_cli("route", option, f"{lat!r},{lon!r}", other, "47.1410,9.5209")
    assert code == 0 or err.startswith(f"error: {option}: "), err  # a point, checked as one
