"""Every problem the registry's checks can word has a pattern that says it in the page's
language (web/ui/problems.py), keeping the value; the API's schema problems too."""

from __future__ import annotations

import re

import pytest
import shapely

from geo.registry.schema import LAYERS, check_geometry, check_record
from web.ui.problems import PATTERNS

GENERIC = r"^(?P<value>.+) is not a valid (?P<kind>\w+)$"  # the fallback for a new kind


def _pattern_for(text: str) -> tuple[str, re.Match]:
    for pattern, _message in PATTERNS:
        found = re.match(pattern, text)
        if found:
            return pattern, found
    raise AssertionError(f"no pattern says {text!r}")


def _problems(layer: str, record: dict) -> list[str]:
    _clean, problems = check_record(LAYERS[layer], record,
                                    choices={"shelter_classes": {"emergency": ()}})
    return [p for _f, p in problems]


BAD_RECORDS = [
    ("teams", {"type": "fire"}),  # headcount missing
    ("teams", {"type": "fire", "headcount": 5, "colour": "red"}),  # unknown field
    ("teams", {"type": "fire", "headcount": "many"}),
    ("teams", {"type": "fire", "headcount": 2.5}),
    ("teams", {"type": "fire", "headcount": 10**400}),
    ("teams", {"type": "fire", "headcount": -5}),
    ("teams", {"type": "fire", "headcount": 5, "turnout_s": float("inf")}),
    ("teams", {"type": "fire", "headcount": 5, "turnout_s": "soon"}),
    ("teams", {"type": "fire", "headcount": 10**9}),
    ("teams", {"type": "ninja", "headcount": 5}),
    ("hazards", {"type": "fire", "risk_level": 0}),
    ("hazards", {"type": "fire", "active": "perhaps"}),
    ("incidents", {"type": "fire", "needs": "lots"}),
    ("incidents", {"type": "fire", "reported_at": "yesterday-ish"}),
    ("shelters", {"shelter_class": "palace"}),
]


@pytest.mark.parametrize(("layer", "record"), BAD_RECORDS)
def test_every_record_problem_has_its_own_pattern(layer, record):
    problems = _problems(layer, record)
    assert problems, record
    for text in problems:
        pattern, found = _pattern_for(text)
        assert pattern != GENERIC, f"{text!r} falls back to the generic wording"


@pytest.mark.parametrize("geometry", [
    shapely.Point(), shapely.Point(200, 100), shapely.Point(float("nan"), 1),
    shapely.LineString([(9.5, 47.1), (9.6, 47.2)]),
    shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])])
def test_every_geometry_problem_has_a_pattern(geometry):
    problems = check_geometry(geometry, LAYERS["teams"] if geometry.geom_type == "Point"
                              else LAYERS["shelters"], region=None)
    assert problems
    for _field, text in problems:
        _pattern_for(text)


def test_the_value_is_kept_in_what_the_page_says():
    _pattern, found = _pattern_for("-5 is negative (must be ≥ 0)")
    assert found.group("value") == "-5"
    _pattern, found = _pattern_for("'ninja' is not one of fire (消防), medical (医疗)")
    assert found.group("value") == "'ninja'" and "消防" in found.group("allowed")


def test_every_placeholder_of_a_message_is_captured():
    for pattern, message in PATTERNS:
        groups = set(re.compile(pattern).groupindex)
        assert set(re.findall(r"\{(\w+)\}", message)) <= groups, message
