import pytest

from geo.network.osm_tags import (
    DEFAULT_DRIVE_SPEEDS_KPH,
    directions,
    drive_speed_kph,
    is_usable,
    parse_maxspeed,
)


@pytest.mark.parametrize("value, kph", [
    ("50", 50.0), (50, 50.0), ("30 mph", 30 * 1.609344), ("20 knots", 20 * 1.852),
    ("CH:urban", 50.0), ("CH:rural", 80.0), ("DE:rural", 100.0), ("DE:zone30", 30.0),
    (["60", "50"], 55.0), ("['60', '50']", 55.0), ("60;50", 55.0), ("80 km/h", 80.0),
])
def test_maxspeed_values_are_parsed(value, kph):
    assert parse_maxspeed(value) == pytest.approx(kph)


@pytest.mark.parametrize("value", [None, "", "none", "signals", "variable", "walk?", "0", "-5",
                                   float("nan")])
def test_maxspeed_without_a_number_gives_none(value):
    assert parse_maxspeed(value) is None


def test_class_default_applies_without_maxspeed_and_can_be_overridden():
    assert drive_speed_kph({"highway": "residential"}, DEFAULT_DRIVE_SPEEDS_KPH) == 30.0
    defaults = DEFAULT_DRIVE_SPEEDS_KPH
    assert drive_speed_kph({"highway": "residential", "maxspeed": "DE:urban"}, defaults) == 50.0
    assert drive_speed_kph({"highway": "residential"}, {"residential": 25.0}) == 25.0
    assert drive_speed_kph({"highway": "motorway", "maxspeed": "none"}, defaults) == 100.0
    assert drive_speed_kph({"highway": "weird_class"}, defaults) == defaults["*"]


@pytest.mark.parametrize("tags, drive, walk", [
    ({"highway": "motorway"}, True, False),
    ({"highway": "footway"}, False, True),
    ({"highway": "steps"}, False, True),
    ({"highway": "pedestrian"}, False, True),
    ({"highway": "path"}, False, True),
    ({"highway": "residential", "area": "yes"}, False, False),
    ({"highway": "residential", "access": "private"}, False, False),
    ({"highway": "residential", "access": "no", "foot": "yes"}, False, True),
    ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, True, False),
    ({"highway": "primary", "motor_vehicle": "no", "motorcar": "yes"}, True, True),
    ({"highway": "track", "motor_vehicle": "agricultural"}, False, True),
    ({"highway": "trunk", "foot": "no"}, True, False),
    ({"highway": "trunk", "motorroad": "yes"}, True, False),
    ({"highway": "service", "service": "parking_aisle"}, False, True),
    ({"highway": "service", "service": "emergency_access"}, True, True),
    ({"highway": "cycleway"}, False, False),
    ({"highway": "cycleway", "foot": "designated"}, False, True),
    ({"highway": "construction"}, False, False),
    ({"building": "yes"}, False, False),
])
def test_mode_filters(tags, drive, walk):
    assert is_usable(tags, "drive") is drive
    assert is_usable(tags, "walk") is walk


@pytest.mark.parametrize("tags, expected", [
    ({"highway": "residential"}, (True, True)),
    ({"highway": "residential", "oneway": "yes"}, (True, False)),
    ({"highway": "residential", "oneway": "-1"}, (False, True)),
    ({"highway": "primary", "junction": "roundabout"}, (True, False)),
    ({"highway": "primary", "junction": "roundabout", "oneway": "no"}, (True, True)),
    ({"highway": "motorway"}, (True, False)),
    ({"highway": "motorway_link"}, (True, False)),
    ({"highway": "motorway", "oneway": "no"}, (True, True)),
    ({"highway": "residential", "oneway": "reversible"}, (True, True)),
])
def test_driving_directions(tags, expected):
    assert directions(tags, "drive") == expected
    assert directions(tags, "walk") == (True, True)
