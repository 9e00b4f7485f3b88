"""The UI's languages: English (the messages as written) and 简体中文, from gettext catalogues
(``translations/<lang>/LC_MESSAGES/messages.po``, kept with Babel: see ``babel.cfg``).

The catalogues are compiled in memory when the app starts (no ``.mo`` build step to forget);
templates use ``_()`` through Jinja's i18n extension, the page's scripts get the same
catalogue as JSON. The language is ``?lang=`` when given (then remembered in a cookie), else
the cookie, else the browser's Accept-Language, else English.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, g, request

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).parent / "translations"


def catalogue_path(lang: str, domain: str = "messages") -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / f"{domain}.po"


@cache
def translations(lang: str) -> NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return NullTranslations()
    catalog = _read(catalogue_path(lang), lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


@cache
def script_messages(lang: str) -> dict[str, dict[str, str]]:
    """For the page's scripts: ``messages`` (msgid → translation; English: empty, the ids are
    the text) and ``words`` ("vocabulary|word" → label, from the ``vocabulary`` domain)."""
    messages = {} if lang == DEFAULT_LANGUAGE else {
        str(m.id): str(m.string) for m in _read(catalogue_path(lang), lang)
        if m.id and m.string and not m.fuzzy}
    words = {f"{m.context}|{m.id}": str(m.string)
             for m in _read(catalogue_path(lang, "vocabulary"), lang) if m.id and m.string}
    return {"messages": messages, "words": words}


def _read(path: Path, lang: str):
    with open(path, "rb") as po:
        return read_po(po, locale=lang)


def word(vocabulary: str, key: str) -> str:
    """A word of the registry (a status, a type, a field name) in this request's language."""
    return script_messages(language())["words"].get(f"{vocabulary}|{key}", key)


def language() -> str:
    """This request's language (see the module docstring)."""
    if "lang" not in g:
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            g.lang = asked
        elif request.cookies.get(COOKIE) in LANGUAGES:
            g.lang = request.cookies[COOKIE]
        else:
            g.lang = request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE
    return g.lang


def remember(response):
    """Keep a language chosen with ``?lang=`` for the next visits."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE_S, samesite="Lax",
                            httponly=True)
    return response


def gettext(message: str, **values) -> str:
    text = translations(language()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    text = translations(language()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def install(app: Flask) -> None:
    """Templates translate with ``_()`` in this request's language."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)
