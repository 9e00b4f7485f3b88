"""Registry imports by property: random and malformed CSV and GeoJSON files, imported through
the command line into a real SQLite registry, either import whole or fail with one line (exit
status 2) and leave the registry exactly as it was."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.cli.main import main
from geo.registry.registry import Registry

# Fast and repeatable: a fixed set of examples per run, nothing stored between runs.
FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Per column: values that pass, and odd ones that must be refused or converted (any text at
# all is drawn too; the property holds either way).
GOOD = {
    "id": ["", "X1", "X2"], "name": ["Gym 体育馆", "=HYPERLINK(1)", ""],
    "type": {"teams": ["fire", "medical"], "hazards": ["fuel_station"],
             "incidents": ["fire", "flood"]},
    "shelter_class": ["emergency", "short_term"], "capacity_people": ["300", "0"],
    "effective_area_m2": ["1200"], "occupancy": ["0", "40"], "headcount": ["6", "0"],
    "turnout_s": ["90", ""], "status": {"teams": ["available"], "shelters": ["open"],
                                       "incidents": ["open"]},
    "equipment": ["pump;ladder", '["pump"]'], "risk_level": ["1", "4"], "radius_m": ["80"],
    "active": ["true", "no"], "severity": ["2"], "needs": ['{"teams": {"fire": 2}}'],
    "reported_at": ["2024-05-01T10:00"], "population": ["12.5", "0"],
    "lon": ["9.52", "9.5209"], "lat": ["47.14", "47.141"],
    "wkt": ["POINT (9.52 47.14)", "POLYGON ((9.52 47.14, 9.53 47.14, 9.53 47.15, 9.52 47.14))"],
}
ODD = {
    "id": ["x" * 70], "type": ["Fire", "dragons", "消防"],
    "shelter_class": ["palace", "紧急避难场所"],
    "capacity_people": ["-1", "1e300", "2.5", "nan", "inf"], "effective_area_m2": ["-5", "1e300"],
    "occupancy": ["400", "-1"], "headcount": ["-3", "1e300", "six"], "turnout_s": ["-1", "inf"],
    "status": ["gone"], "equipment": ["["], "risk_level": ["5", "0"], "radius_m": ["-80", "1e300"],
    "active": ["maybe"], "severity": ["9"], "needs": ["{", "[]", '{"teams": {"fire": 1e999}}'],
    "reported_at": ["yesterday"], "population": ["-1", "1e300"],
    "lon": ["-200", "abc", "", "nan"], "lat": ["91", "", "1e400"],
    "wkt": ["POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))", "POINT EMPTY", "LINESTRING (0 0, 1 1)",
            "POINT (nan nan)", "garbage"],
}
REQUIRED = {"teams": ["type", "headcount"], "shelters": ["shelter_class", "capacity_people"],
            "hazards": ["type"], "incidents": ["type"], "population": ["population"]}
OPTIONAL = {
    "teams": ["id", "name", "status", "turnout_s", "equipment"],
    "shelters": ["id", "name", "effective_area_m2", "occupancy", "status"],
    "hazards": ["id", "name", "risk_level", "radius_m", "active"],
    "incidents": ["id", "name", "severity", "needs", "reported_at", "status"],
    "population": ["id", "name"],
}
any_text = st.text(max_size=12)


def _good(layer: str, column: str) -> list[str]:
    values = GOOD.get(column, [""])
    return values.get(layer, [""]) if isinstance(values, dict) else values


def _cell(layer: str, column: str, *, tidy: bool):
    """A cell that passes, or (unless ``tidy``) anything."""
    good = st.sampled_from(_good(layer, column))
    if tidy:
        return good
    return st.one_of(good, st.sampled_from(ODD.get(column, [""])), any_text)


@st.composite
def csv_files(draw) -> tuple[str, bytes]:
    """A layer and a CSV for it: about half tidy (every cell passes), the rest anything from
    one bad cell to damaged bytes."""
    layer = draw(st.sampled_from(list(REQUIRED)))
    tidy = draw(st.booleans())
    columns = list(REQUIRED[layer]) if tidy else draw(
        st.lists(st.sampled_from(REQUIRED[layer]), unique=True))
    columns += draw(st.lists(st.sampled_from(OPTIONAL[layer]), unique=True, max_size=3))
    columns += draw(st.sampled_from([["lon", "lat"], ["wkt"]] if tidy else
                                    [["lon", "lat"], ["wkt"], ["lat"], []]))
    if not tidy:
        columns += draw(st.lists(any_text, max_size=2))  # unknown or odd headers
    rows = draw(st.lists(st.tuples(*[_cell(layer, c, tidy=tidy) for c in columns]),
                         min_size=1 if tidy else 0, max_size=4))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8")
    if not tidy and draw(st.booleans()):  # damage the bytes
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut:]
    return layer, data


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=8)
a_point = st.just({"type": "Point", "coordinates": [9.52, 47.14]})
odd_geometries = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["Point", "Polygon", "LineString", "Bogus"]),
                           "coordinates": json_values}),
    json_values)


@st.composite
def geojson_files(draw) -> tuple[str, bytes]:
    """A layer and a GeoJSON file for it: tidy features, or anything JSON can hold."""
    layer = draw(st.sampled_from(list(REQUIRED)))
    tidy = draw(st.booleans())
    columns = REQUIRED[layer] + OPTIONAL[layer]
    if tidy:
        properties = st.fixed_dictionaries(
            {c: _cell(layer, c, tidy=True) for c in REQUIRED[layer]},
            optional={c: _cell(layer, c, tidy=True) for c in OPTIONAL[layer]})
        feature = st.fixed_dictionaries({"type": st.just("Feature"), "properties": properties,
                                         "geometry": a_point})
        features = draw(st.lists(feature, min_size=1, max_size=4))
        return layer, json.dumps({"type": "FeatureCollection", "features": features}).encode()
    properties = st.dictionaries(
        st.sampled_from(columns) | any_text,
        st.one_of(json_values, *[_cell(layer, c, tidy=False) for c in columns]), max_size=5)
    feature = st.fixed_dictionaries({"type": st.just("Feature"), "properties": properties,
                                     "geometry": st.one_of(a_point, odd_geometries)})
    features = draw(st.lists(st.one_of(feature, json_values), max_size=4))
    document = draw(st.one_of(st.just({"type": "FeatureCollection", "features": features}),
                              json_values))
    return layer, json.dumps(document).encode("utf-8")


@pytest.fixture
def registry_db(tmp_path) -> str:
    path = str(tmp_path / "registry.sqlite")
    with Registry(path) as registry:  # a record to keep, so "unchanged" means something
        registry.add("teams", {"id": "T0", "type": "fire", "headcount": 4,
                               "geometry": {"type": "Point", "coordinates": [9.52, 47.14]}})
    return path


def _state(db: str) -> tuple[dict, int, list]:
    with Registry(db, create=False) as registry:
        return (registry.counts(), len(registry.audit_log()),
                sorted(registry.layer("teams").index))


def _import(capsys, db: str, path, layer: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(["registry", "import", str(path), "--layer", layer, "--db", db])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def _check_all_or_nothing(capsys, db: str, path, layer: str, content: bytes) -> None:
    path.write_bytes(content)
    before = _state(db)
    code, out, err = _import(capsys, db, path, layer)
    after = _state(db)
    if code == 0:
        imported = int(re.match(r"imported (\d+) ", out).group(1))  # type: ignore[union-attr]
        assert imported > 0 and after[0][layer] == before[0][layer] + imported
        return
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert after == before  # nothing written: no record, no audit entry


@FAST
@given(case=csv_files())
def test_random_csv_files_import_whole_or_not_at_all(capsys, tmp_path, registry_db, case):
    layer, content = case
    _check_all_or_nothing(capsys, registry_db, tmp_path / "rows.csv", layer, content)


@FAST
@given(case=geojson_files())
def test_random_geojson_files_import_whole_or_not_at_all(capsys, tmp_path, registry_db, case):
    layer, content = case
    _check_all_or_nothing(capsys, registry_db, tmp_path / "rows.geojson", layer, content)
