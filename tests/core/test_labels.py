"""The one table of English and Chinese names: complete, unambiguous, and read both ways."""

from __future__ import annotations

from collections import Counter

import pytest

from geo.core import labels, names
from geo.core.standards import load_standards
from geo.registry.schema import LAYERS


@pytest.mark.parametrize("vocabulary", sorted(labels.VOCABULARIES))
def test_every_word_has_names_and_no_name_means_two_words(vocabulary):
    words = labels.VOCABULARIES[vocabulary]
    table = labels.LABELS[vocabulary]
    assert set(table) == set(words)
    spellings = Counter(name for key in words
                        for name in {n.casefold() for n in (key, *table[key].names)})
    assert [name for name, count in spellings.items() if count > 1] == []


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_field_has_a_chinese_name_no_other_field_of_its_layer_shares(layer):
    keys = ("id", *LAYERS[layer].field_names)
    known = {key: labels.LABELS["fields"][key].names for key in keys}
    spellings = Counter(name for key in keys for name in {n.casefold() for n in (key, *known[key])})
    assert [name for name, count in spellings.items() if count > 1] == []
    assert all(names.resolve(labels.zh("fields", key), known) == key for key in keys)


def test_names_are_read_in_either_language_and_any_case():
    teams = labels.names("team_types")
    assert names.resolve("消防", teams) == "fire"
    assert names.resolve(" Fire ", teams) == "fire"
    assert names.resolve("search and rescue", teams) == "search_rescue"
    assert names.resolve("火灾", teams) is None  # a fire incident, not a team
    assert names.resolve("火灾", labels.names("incident_types")) == "fire"
    assert names.shown({"fire": ("消防",), "x": ()}) == "fire (消防), x"


def test_shelter_classes_are_named_by_the_standards_table():
    classes = {key: (c.name_zh, c.name_en) for key, c in load_standards().classes.items()}
    assert names.resolve("紧急避难场所", classes) == "emergency"
    assert names.resolve("Long-term fixed shelter", classes) == "long_term"
    assert names.resolve("长期", classes) is None  # names are whole, not parts
