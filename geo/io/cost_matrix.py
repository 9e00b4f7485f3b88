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
    candidate ids as columns (both as text). Every problem names the file, row and column."""
    text, delimiter = _text(path, field=field, encoding=encoding)
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                            keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError(f"{field}: {path}: not a CSV table "
                              f"({' '.join(str(exc).split())})") from None
    if table.shape[0] < 2 or table.shape[1] < 2:
        raise ValidationError(f"{field}: {path}: expected a header row of candidate ids and "
                              "at least one demand row, with the demand ids in the first column")
    header = [str(cell).strip() for cell in table.iloc[0, 1:]]
    _unique(header, f"{field}: {path}: duplicate candidate ids")
    ids = [str(cell).strip() for cell in table.iloc[1:, 0]]
    _unique(ids, f"{field}: {path}: duplicate demand ids")
    cells = table.iloc[1:, 1:]
    short = cells.isna().any(axis=1).to_numpy()
    if short.any():
        r = int(np.flatnonzero(short)[0])
        raise ValidationError(f"{field}: {path}: row {r + 2} (demand {ids[r]!r}) has fewer "
                              f"costs than the {len(header)} candidates")
    words = cells.apply(lambda column: column.str.strip().str.lower())
    unreachable = words.isin(UNREACHABLE).to_numpy()
    values = words.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = (np.isnan(values) & ~unreachable) | (values < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(f"{field}: {path}: demand {ids[r]!r}, candidate {header[c]!r}: "
                              f"{str(cells.iat[r, c]).strip()!r} is not a non-negative number "
                              f"({int(bad.sum())} such cells)")
    values[unreachable] = np.inf
    return pd.DataFrame(values, index=pd.Index(ids, name="demand"), columns=header)


def read_weights(path: str | Path, *, ids: list[str], field: str = "weights",
                 encoding: str | None = None) -> np.ndarray:
    """One weight per demand id of the matrix, in its row order."""
    rows = [row for row in _rows(path, field=field, encoding=encoding) if any(c.strip()
                                                                             for c in row)]
    if rows and len(rows[0]) >= 2 and not _is_number(rows[0][1]):
        rows = rows[1:]  # a header row
    if not rows:
        raise ValidationError(f"{field}: {path}: no weights")
    if all(len(row) == 1 for row in rows):
        if len(rows) != len(ids):
            raise ValidationError(f"{field}: {path}: {len(rows)} weights for the {len(ids)} "
                                  "demand rows of the cost matrix; the shapes do not match")
        return np.array([_weight(row[0], field, f"{path}: line {n + 1}")
                         for n, row in enumerate(rows)])
    given: dict[str, float] = {}
    for row in rows:
        key = row[0].strip()
        if key in given:
            raise ValidationError(f"{field}: {path}: duplicate demand id {key!r}")
        given[key] = _weight(row[1] if len(row) > 1 else "", field, f"{path}: demand {key!r}")
    missing = [i for i in ids if i not in given]
    extra = [k for k in given if k not in set(ids)]
    if missing or extra:
        parts = ([f"no weight for {len(missing)} demand ids of the matrix (e.g. "
                  f"{missing[0]!r})"] if missing else []) + (
            [f"{len(extra)} ids not in the matrix (e.g. {extra[0]!r})"] if extra else [])
        raise ValidationError(f"{field}: {path}: the shapes do not match: {'; '.join(parts)}")
    return np.array([given[i] for i in ids])


def _rows(path: str | Path, *, field: str, encoding: str | None) -> list[list[str]]:
    text, delimiter = _text(path, field=field, encoding=encoding)
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]


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
