"""The text encoding of a CSV or JSON file: the one the user names, else detected.

Any codec Python knows may be named (``utf-8``, ``gbk``, ``gb18030``, ``cp1252``, ``cp1250``,
``latin-1``, ``shift_jis`` ...). Without one, charset-normalizer guesses, and the guess is used
only when it is clear; otherwise the file is refused with a message asking for ``--encoding``,
rather than read as mojibake.

How the guess is made:

1. A UTF-8 byte-order mark means UTF-8.
2. charset-normalizer reads the file in each of the encodings our users' spreadsheets write:
   UTF-8, GB18030 (Chinese Excel and WPS; a superset of GBK and GB2312) and Windows-1252
   (Western European Excel). Only when none of them fits are all the encodings it knows tried:
   left to itself it prefers any CJK multi-byte reading of a short file (it took a 60 MB GBK
   file for Korean cp949, and a row of Finnish cp1252 for Big5).
3. Readings too messy for charset-normalizer, or with the marks of one of these encodings read
   as another (:data:`GARBLED`), which it misses in short files, are set aside.
4. Valid UTF-8 is UTF-8, unless it is short and a few GBK characters could have formed it.
5. Otherwise the best reading is taken if every reading that gives other text is clearly worse.

The limits: other single-byte code pages (cp1250 Central European, cp1254 Turkish ...) read as
valid, if wrong, Windows-1252, and Korean or Japanese multi-byte text often reads as valid GBK;
the bytes alone cannot tell them apart, so such files need ``--encoding``. Files of a few words
may be refused as unclear.
"""

from __future__ import annotations

import codecs
import itertools
import logging
import re
from collections.abc import Iterable

from charset_normalizer import CharsetMatch, from_bytes

from geo.errors import SourceError, ValidationError

log = logging.getLogger(__name__)

EXPECTED_ENCODINGS = ("utf_8", "gb18030", "cp1252")
# charset-normalizer's "chaos" is the share of a reading that looks like mojibake (0..1). Beyond
# this a reading is out (its own default, 0.2, drops "Töölö" in UTF-8, at 0.22).
MAX_CHAOS = 0.4
# A reading wins over another that gives different text only by a clear margin: its chaos lower
# by this much (twice the difference charset-normalizer itself counts as a tie) ...
MIN_CHAOS_GAP = 0.02
# ... or its "coherence" (how well the letters fit a language it knows, 0..1) higher by this.
MIN_COHERENCE_GAP = 0.3
# The marks of reading one expected encoding as another, which charset-normalizer misses in
# short files. Windows-1252 or UTF-8 read as GBK puts ideographs inside or at the start of a
# Latin word ("S鰎n鋓sten" for "Sörnäisten", "脡cole" for "École"); GBK read as Windows-1252
# puts a Latin-1 symbol (¡..¿, ×, ÷) next to another Latin-1 character ("Ñ§Ð£" for "学校",
# "M¨¹hleholz" for "Mühleholz"); UTF-8 read as Windows-1252 puts "Â" or "Ã" before what the
# bytes 80..BF are there ("Ã‰cole"). A reading with such marks loses to one without.
IDEOGRAPH = "[\u3400-\u9fff\uf900-\ufaff]"
LATIN1_SYMBOL = "[\u00a1-\u00bf\u00d7\u00f7]"
UTF8_TRAIL_AS_CP1252 = bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")
GARBLED = re.compile(f"[A-Za-z]{IDEOGRAPH}+[A-Za-z]|{IDEOGRAPH}[a-z]{{2}}"
                     f"|{LATIN1_SYMBOL}[\u00a1-\u00ff]|[\u00c0-\u00ff]{LATIN1_SYMBOL}"
                     f"|[ÂÃ][{re.escape(UTF8_TRAIL_AS_CP1252)}]")
# Valid UTF-8 is UTF-8 unless it is short and holds two-byte characters: a common GBK character
# forms one by chance about once in seven ("学校" reads "ѧУ"), eight in a row about once in 10⁷.
TWO_BYTE_UTF8 = re.compile("[\u0080-\u07ff]")
SURE_UTF8_CHARACTERS = 8
SCAN_CHARS = 1_000_000  # how far into a reading its marks are looked for


def codec(encoding: str) -> str:
    """Python's codec for an encoding name a user gives (``GBK``, ``utf8``, ``Windows-1252``)."""
    try:
        name = codecs.lookup(encoding.strip()).name
        "".encode(name)  # refuses codecs that are not text encodings (base64, zlib, rot13 ...)
    except LookupError:
        raise ValidationError(f"encoding: {encoding!r} is not a text encoding Python knows "
                              f"(e.g. utf-8, gbk, gb18030, cp1252)") from None
    return name


def decode(data: bytes, encoding: str | None = None, *, name: str = "file") -> str:
    """The text of a file: in ``encoding`` if given (a UTF-8 byte-order mark is dropped), else
    in the encoding detected, when the guess is clear (see the module's notes)."""
    chosen = codec(encoding) if encoding is not None else detect(data, name=name)
    if chosen == "utf-8":
        chosen = "utf-8-sig"  # the same text, without the mark Excel puts first
    try:
        return data.decode(chosen)
    except UnicodeDecodeError as exc:
        how = f"not valid {encoding}" if encoding is not None else (
            f"looked like {chosen} but is not valid {chosen}")
        raise SourceError(f"{name}: {how} at byte {exc.start}; give the file's encoding with "
                          f"--encoding") from None


def detect(data: bytes, *, name: str = "file") -> str:
    """The codec of ``data`` as charset-normalizer guesses it, if the guess is clear; else a
    :class:`~geo.errors.SourceError` asking for ``--encoding``."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    readings = _plausible(_expected_readings(data))
    if not readings:  # none of the usual encodings reads it: any charset-normalizer knows
        readings = _plausible(from_bytes(data))
    if not readings:
        raise SourceError(f"{name}: cannot tell the text encoding; give it with --encoding "
                          f"(e.g. --encoding cp1252)")
    utf8 = next((r for r in readings if r.encoding in ("utf_8", "ascii")), None)
    if utf8 is not None and _sure_utf8(utf8):
        return "utf-8"
    best = readings[0]
    rival = _close_rival(best, readings)
    if rival is not None:
        raise SourceError(f"{name}: the text encoding is not clear: it reads as {best.encoding} "
                          f"and as {rival.encoding}, with different text; give the right one "
                          f"with --encoding")
    log.info("%s: text encoding detected as %s", name, best.encoding)
    return codecs.lookup(best.encoding).name


def _expected_readings(data: bytes) -> list[CharsetMatch]:
    """charset-normalizer's readings of ``data`` in each expected encoding that decodes it, best
    first."""
    readings = list(from_bytes(data, cp_isolation=list(EXPECTED_ENCODINGS), threshold=1.0))
    if readings and readings[0].encoding in ("utf_8", "ascii") and not _sure_utf8(readings[0]):
        # charset-normalizer stops at a UTF-8 fit, but a few GBK characters can fit UTF-8 too
        # ("学校" reads as "ѧУ"): hear the other expected encodings out.
        others = [e for e in EXPECTED_ENCODINGS if e != "utf_8"]
        readings = sorted([*readings, *from_bytes(data, cp_isolation=others, threshold=1.0)])
    return readings


def _plausible(readings: Iterable[CharsetMatch]) -> list[CharsetMatch]:
    """The readings, best first, that are not too messy for charset-normalizer; of those, the
    ones without the marks of :data:`GARBLED` (which it misses in short files) if any."""
    fitting = [reading for reading in readings if reading.chaos <= MAX_CHAOS]
    clean = [reading for reading in fitting if GARBLED.search(str(reading), 0, SCAN_CHARS) is None]
    return clean or fitting


def _sure_utf8(reading: CharsetMatch) -> bool:
    """Whether a UTF-8 reading can only be UTF-8: GBK characters fit UTF-8 by chance only as
    two-byte sequences (U+0080..U+07FF), and rarely eight times in a file."""
    text = str(reading)
    if not TWO_BYTE_UTF8.search(text, 0, SCAN_CHARS):
        return True
    found = re.compile("[^\x00-\x7f]").finditer(text, 0, SCAN_CHARS)
    return sum(1 for _ in itertools.islice(found, SURE_UTF8_CHARACTERS)) >= SURE_UTF8_CHARACTERS


def _close_rival(best: CharsetMatch, readings: list[CharsetMatch]) -> CharsetMatch | None:
    """A reading that gives other text and is not clearly worse than ``best``, if any."""
    text = str(best)
    for reading in readings:
        if reading is best or reading.encoding in best.could_be_from_charset:
            continue
        clearly_worse = (reading.chaos - best.chaos >= MIN_CHAOS_GAP
                         or best.coherence - reading.coherence >= MIN_COHERENCE_GAP)
        if not clearly_worse and str(reading) != text:
            return reading
    return None
