"""Cost matrices from other tools, as CSV: one row per demand point, one column per candidate.

The first column holds the demand ids and the header row the candidate ids; a cell is the cost
of the pair in the matrix's own units (an empty cell, ``inf`` or ``-`` means unreachable). The
weights file holds ``id,weight`` rows (a header row is allowed), or one weight per line in the
matrix's row order. Encodings as everywhere (:mod:`geo.io.encodings`: UTF-8, GBK/GB18030 ...).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceError, ValidationError
from geo.io.encodings import decode

UNREACHABLE = ("", "inf", "+inf", "infinity", "-", "na", "n/a", "none")
MAX_BYTES = 2_000_000_000


def read_cost_matrix(path: str | Path, *, field: str = "cost_matrix",
                     encoding: str | None = None) -> pd.DataFrame:
    """The matrix as floats (``inf`` where unreachable), indexed by demand id, with the
    candidate ids as columns (both as text). Every problem names the file, line and column;
    a row with more or fewer cells than the header is an error, not padded as unreachable."""
    rows = _rows(path, field=field, encoding=encoding)
    if len(rows) < 2 or len(rows[0][1]) < 2:
        raise ValidationError(f"{field}: {path}: expected a header row of candidate ids and "
                              "at least one demand row, with the demand ids in the first column")
    header = [cell.strip() for cell in rows[0][1][1:]]
    if "" in header:
        raise ValidationError(f"{field}: {path}: line {rows[0][0]}, column "
                              f"{header.index('') + 2}: the candidate id is empty")
    _unique(header, f"{field}: {path}: duplicate candidate ids")
    ids = [row[0].strip() for _, row in rows[1:]]
    if "" in ids:
        raise ValidationError(f"{field}: {path}: line {rows[ids.index('') + 1][0]}: the "
                              "demand id (first column) is empty")
    _unique(ids, f"{field}: {path}: duplicate demand ids")
    for line, row in rows[1:]:
        if len(row) != len(header) + 1:
            raise ValidationError(
                f"{field}: {path}: line {line} (demand {row[0].strip()!r}) has "
                f"{len(row) - 1} costs for the {len(header)} candidates of the header row")
    values = np.fromiter((_number(cell) for _, row in rows[1:] for cell in row[1:]), float,
                         count=len(ids) * len(header)).reshape(len(ids), len(header))
    bad = values < 0
    for r, c in np.argwhere(~np.isfinite(values)):  # few: the words are looked at only here
        if rows[r + 1][1][c + 1].strip().lower() in UNREACHABLE:
            values[r, c] = np.inf
        elif np.isnan(values[r, c]):  # not a number, or "nan": an error, not unreachable
            bad[r, c] = True
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(f"{field}: {path}: line {rows[r + 1][0]}, demand {ids[r]!r}, "
                              f"candidate {header[c]!r}: {rows[r + 1][1][c + 1].strip()!r} is not "
                              f"a non-negative number ({int(bad.sum())} such cells)")
    return pd.DataFrame(values, index=pd.Index(ids, name="demand"), columns=header)


def read_weights(path: str | Path, *, ids: list[str], field: str = "weights",
                 encoding: str | None = None) -> np.ndarray:
    """One weight per demand id of the matrix, in its row order."""
    rows = _rows(path, field=field, encoding=encoding)
    if rows and not _is_number(rows[0][1][min(1, len(rows[0][1]) - 1)]):
        rows = rows[1:]  # a header row ("id,weight", or "weight" over one column)
    if not rows:
        raise ValidationError(f"{field}: {path}: no weights")
    if all(len(row) == 1 for _, row in rows):
        if len(rows) != len(ids):
            raise ValidationError(f"{field}: {path}: {len(rows)} weights for the {len(ids)} "
                                  "demand rows of the cost matrix; the shapes do not match")
        return np.array([_weight(row[0], field, f"{path}: line {line}") for line, row in rows])
    given: dict[str, float] = {}
    for line, row in rows:
        key = row[0].strip()
        if key in given:
            raise ValidationError(f"{field}: {path}: line {line}: duplicate demand id {key!r}")
        given[key] = _weight(row[1] if len(row) > 1 else "", field,
                             f"{path}: line {line}, demand {key!r}")
    known = set(ids)
    missing = [i for i in ids if i not in given]
    extra = [k for k in given if k not in known]
    if missing or extra:
        parts = ([f"no weight for {len(missing)} demand ids of the matrix (e.g. "
                  f"{missing[0]!r})"] if missing else []) + (
            [f"{len(extra)} ids not in the matrix (e.g. {extra[0]!r})"] if extra else [])
        raise ValidationError(f"{field}: {path}: the shapes do not match: {'; '.join(parts)}")
    return np.array([given[i] for i in ids])


def _rows(path: str | Path, *, field: str,
          encoding: str | None) -> list[tuple[int, list[str]]]:
    """The rows that hold anything but blanks, each with the line it ends on."""
    text, delimiter = _text(path, field=field, encoding=encoding)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValidationError(f"{field}: {path}: line {reader.line_num}: not a CSV table "
                              f"({exc})") from None


def _text(path: str | Path, *, field: str, encoding: str | None) -> tuple[str, str]:
    """The file's text and its delimiter (comma, semicolon or tab)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{field}: {path}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise ValidationError(f"{field}: {path}: larger than {MAX_BYTES // 1_000_000} MB")
    text = decode(path.read_bytes(), encoding, name=f"{field}: {path}")
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    return text.lstrip("\ufeff"), delimiter


def _unique(values: list[str], message: str) -> None:
    seen = pd.Index(values)
    if seen.has_duplicates:
        raise ValidationError(f"{message}: "
                              f"{', '.join(map(repr, seen[seen.duplicated()].unique()[:5]))}")


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return np.nan


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _weight(cell: str, field: str, where: str) -> float:
    try:
        value = float(cell.strip())
    except ValueError:
        raise ValidationError(f"{field}: {where}: {cell.strip()!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise ValidationError(f"{field}: {where}: weights must be finite, non-negative numbers, "
                              f"got {cell.strip()!r}")
    return value
