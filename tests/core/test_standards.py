"""The shelter standards table: shipped defaults, sources, user overrides and bad files."""

from __future__ import annotations

import pytest
import yaml

from geo.core.standards import STANDARDS_FILE, load_standards
from geo.errors import SourceError, ValidationError


def test_shipped_table_has_the_gb51143_classes_with_sources():
    standards = load_standards()
    assert list(standards.classes) == ["emergency", "short_term", "medium_term", "long_term",
                                       "central"]
    short = standards.get("short_term")
    assert (short.name_zh, short.name_en) == ("短期固定避难场所", "short-term fixed shelter")
    assert [standards.get(k).per_capita_area_m2 for k in standards.classes] == [1.0, 2.0, 3.0,
                                                                                  4.5, 4.5]
    assert standards.get("emergency").service_radius_m == 500
    assert standards.get("emergency").walk_minutes == 10
    for shelter_class in standards.classes.values():
        assert set(shelter_class.sources) == {"refuge_duration_days", "per_capita_area_m2",
                                              "service_radius_m", "walk_minutes"}
        assert shelter_class.confirmed is False  # not checked against the standards' full text


def test_capacity_is_area_over_per_capita_area_rounded_down():
    standards = load_standards()
    assert standards.capacity_people(1000, "emergency") == 1000
    assert standards.capacity_people(1000, "long_term") == 222
    with pytest.raises(ValidationError, match="effective_area_m2"):
        standards.capacity_people(-1, "emergency")
    with pytest.raises(ValidationError, match="'hotel' is not one of emergency"):
        standards.capacity_people(10, "hotel")


def test_users_override_the_table(tmp_path):
    data = yaml.safe_load(STANDARDS_FILE.read_text(encoding="utf-8"))
    data["classes"] = {"hall": {"name_zh": "室内避难场所", "name_en": "indoor hall",
                                "refuge_duration_days": 7, "per_capita_area_m2": 2.5,
                                "service_radius_m": 800, "walk_minutes": 12}}
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    standards = load_standards(path)
    assert list(standards.classes) == ["hall"]
    assert standards.capacity_people(100, "hall") == 40


def test_bad_user_file_names_every_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("classes:\n  a: {per_capita_area_m2: -1, refuge_duration_days: 3,"
                    " service_radius_m: 500, walk_minutes: 10}\n  b: {per_capita_area_m2: 2}\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_standards(path)
    message = str(caught.value)
    assert "a.per_capita_area_m2: expected a positive number, got -1" in message
    assert "b.service_radius_m: expected a positive number, got None" in message
    with pytest.raises(SourceError, match="cannot read"):
        load_standards(tmp_path / "missing.yaml")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    with pytest.raises(ValidationError, match="expected a 'classes' mapping"):
        load_standards(tmp_path / "empty.yaml")


_CLASS = "refuge_duration_days: 1, service_radius_m: 500, walk_minutes: 10"


@pytest.mark.parametrize(("content", "message"), [
    (bytes(range(256)) * 4, "not UTF-8 text (byte 128); a YAML table is expected, not a binary"),
    (("classes: " + "[" * 5000 + "]" * 5000).encode(), "nested too deeply"),
    (b"classes:\n  [1, 2]: {}\n", "not valid YAML (found unhashable key at line 2)"),
    (f"classes:\n  a: {{per_capita_area_m2: 2, {_CLASS}, sources: [x]}}\n".encode(),
     "a.sources: expected a mapping of field to source, got list"),
    (f"classes:\n  a: {{per_capita_area_m2: 1.0e-300, {_CLASS}}}\n".encode(),
     "a.per_capita_area_m2: 1e-300 m² is less than a person takes"),
    (b"# " + b"x" * 1_100_000, "larger than 1000 kB, so not a standards table"),
])
def test_files_that_are_not_a_table_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "standards.yaml"
    path.write_bytes(content)
    with pytest.raises((SourceError, ValidationError)) as caught:
        load_standards(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
