"""The UI's catalogues: every message in the sources is in the Chinese catalogue, translated,
with its placeholders; every word of the registry's vocabulary has an English and a Chinese
label. A message added without its translation fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from geo.core.labels import VOCABULARIES
from geo.registry.accounts import ROLES
from geo.registry.schema import LAYERS
from web.ui import i18n

UI = Path(i18n.__file__).parent
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2"), ("static/**.js", "javascript")]
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")
JOB_STATUSES = ("queued", "running", "done", "failed", "lost")


def _catalogue(lang: str, domain: str):
    with open(i18n.catalogue_path(lang, domain), "rb") as po:
        return read_po(po, locale=lang)


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(UI), method_map=METHODS, options_map={"**.html": {}}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_chinese_catalogue_has_every_message_of_the_sources_and_no_other():
    in_sources = _source_messages()
    catalogue = {m.id for m in _catalogue("zh", "messages") if m.id}
    assert in_sources - catalogue == set(), "run pybabel extract/update (web/ui/babel.cfg)"
    assert catalogue - in_sources == set(), "messages no source uses: pybabel update"


def test_every_chinese_message_is_translated_with_its_placeholders():
    for message in _catalogue("zh", "messages"):
        if not message.id:
            continue
        assert message.string and "fuzzy" not in message.flags, message.id
        assert sorted(PLACEHOLDER.findall(message.id)) == \
            sorted(PLACEHOLDER.findall(message.string)), message.id


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_word_of_the_registry_has_a_label(lang):
    words = {(m.context, m.id): m.string for m in _catalogue(lang, "vocabulary") if m.id}
    wanted = {(vocabulary, key) for vocabulary, keys in VOCABULARIES.items() for key in keys}
    wanted |= {("fields", f.name) for spec in LAYERS.values() for f in spec.fields}
    wanted |= {("roles", role) for role in ROLES} | {("job_statuses", s) for s in JOB_STATUSES}
    missing = sorted(w for w in wanted if not words.get(w))
    assert missing == []


def test_chinese_labels_are_chinese():
    for message in _catalogue("zh", "vocabulary"):
        if message.id and message.context != "fields":
            assert re.search(r"[\u4e00-\u9fff]", message.string), message.id
