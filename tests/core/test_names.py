"""Names as typed → canonical names: any case, full width, Chinese labels; unknown ones refused."""

import pytest

from geo.core import labels
from geo.core.names import resolve_names
from geo.core.vocabulary import TEAM_TYPES
from geo.errors import ValidationError

TYPES = labels.names("team_types")
ITEMS = {"water": ("饮用水", "drinking water"), "medical_kits": ("医疗包", "medical kit"),
         "tents": ("帐篷", "tent")}


def test_every_team_type_has_one_distinct_chinese_name():
    chinese = {kind: labels.zh("team_types", kind) for kind in TEAM_TYPES}
    assert all(name != kind for kind, name in chinese.items())
    assert len(set(chinese.values())) == len(TEAM_TYPES)


@pytest.mark.parametrize("typed, canonical", [
    ("fire", "fire"), ("Fire", "fire"), (" FIRE ", "fire"), ("Ｆｉｒｅ", "fire"),  # full width
    ("消防", "fire"), ("医疗", "medical"), ("Search-Rescue", "search_rescue"),
    ("search rescue", "search_rescue"), ("水上救援", "water_rescue"),
])
def test_team_types_in_any_case_width_or_language(typed, canonical):
    assert resolve_names("team_types", [typed], TYPES, what="team type") == [canonical]


def test_items_by_key_or_either_label():
    typed = ["Water", "饮用水", "Drinking Water", "medical kit", "帐篷"]
    assert resolve_names("items", typed, ITEMS, what="catalogue item") == [
        "water", "water", "water", "medical_kits", "tents"]


def test_unknown_names_are_all_listed_with_the_closest_and_the_allowed_values():
    with pytest.raises(ValidationError) as error:
        resolve_names("team_types", ["fire", "medic", "医療", "xyz"], TYPES, what="team type")
    message = str(error.value)
    assert message.startswith("team_types: 'medic' is not a known team type "
                              "(did you mean medical (医疗)?)")
    assert "'医療' is not a known team type (did you mean medical (医疗)?)" in message
    assert "'xyz' is not a known team type; allowed: fire (消防), medical (医疗)," in message
    assert "'fire'" not in message


def test_a_key_wins_over_another_entrys_label_and_colliding_labels_are_ambiguous():
    labels = {"water": ("drinking water",), "drinking_water": ("bottled water",),
              "pumps": ("泵",), "generators": ("泵",)}
    assert resolve_names("items", ["drinking water"], labels, what="item") == ["drinking_water"]
    with pytest.raises(ValidationError, match="items: '泵' is ambiguous: it may be pumps or "
                                              "generators"):
        resolve_names("items", ["泵"], labels, what="item")


def test_empty_labels_name_nothing():
    labels = {"water": ("", None, float("nan")), "tents": ("帐篷",)}
    with pytest.raises(ValidationError, match="'none' is not a known item"):
        resolve_names("items", ["none"], labels, what="item")
    with pytest.raises(ValidationError, match="'' is not a known item"):
        resolve_names("items", [""], labels, what="item")
