"""All-or-nothing imports of layer files into the registry, and the report of a rejected one.

The file is read by :func:`geo.io.vector.read_rows` (its CRS by the policy of that module) and
every row is checked: reading problems such as an unparseable number or WKT, and the registry's
own checks. Either every row goes into the database in one transaction or nothing does, and
:class:`~geo.errors.RecordsRejectedError` lists each problem as (row, field, problem). The
encoding of a CSV file is given or detected (:mod:`geo.io.encodings`).
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from geo.core import labels, names
from geo.core.files import write_atomically
from geo.core.progress import row_progress
from geo.errors import RecordsRejectedError, RowProblem, ValidationError
from geo.io.spreadsheet import protect
from geo.io.vector import read_rows
from geo.registry import Registry
from geo.registry.schema import DERIVED_COLUMNS, LayerSpec, layer_spec

log = logging.getLogger(__name__)

_CJK = re.compile("[\u3400-\u9fff]")


def import_file(registry: Registry, path: str | Path, *, layer: str, crs: str | None = None,
                encoding: str | None = None, actor: str = "import",
                progress: bool | None = None) -> list[str]:
    """Import a file into ``layer`` in one transaction; returns the new ids.

    Columns may be named by the fields' keys or by their Chinese names (``名称``, ``容纳人数``
    ...), and values of choices by their Chinese or English names (``紧急避难场所``, ``消防``).
    Any bad row rejects the whole file with :class:`~geo.errors.RecordsRejectedError`, whose
    ``problems`` give each row number, field and problem, the field named as the file names it
    (a file with Chinese column names gets Chinese field names). Records without a ``source``
    get the file's name."""
    spec = layer_spec(layer)
    rows = read_rows(path, field="file", crs=crs, encoding=encoding,
                     has_geometry=spec.has_geometry,
                     field_names=(*spec.field_names, "id", *sorted(DERIVED_COLUMNS)))
    columns = ColumnNames.of(spec, rows.records)
    columns.rename(rows.records)
    name = Path(path).name
    if "source" in spec.field_names:
        for record in rows.records:
            if not record.get("source"):
                record["source"] = name
    wrap = row_progress(f"checking {name}", enabled=progress)
    try:
        ids = registry.add_many(layer, rows.records, actor=actor, labels=rows.labels,
                                known_problems=rows.problems, progress=wrap)
    except RecordsRejectedError as exc:
        if not columns.header_of:
            raise
        problems = [RowProblem(p.row, columns.header(p.field), p.problem) for p in exc.problems]
        raise RecordsRejectedError(layer, problems, total=len(rows.records)) from None
    log.info("imported %d %s from %s", len(ids), layer, path)
    return ids


@dataclass(frozen=True)
class ColumnNames:
    """How a file names the layer's fields: ``header_of`` maps each field the file names
    otherwise (in Chinese, or in another case) to the file's column; ``chinese`` says whether
    the file names its columns in Chinese, so that fields it lacks are reported in Chinese too."""

    header_of: dict[str, str]
    chinese: bool

    @classmethod
    def of(cls, spec: LayerSpec, records: Sequence[dict]) -> ColumnNames:
        known = {key: labels.LABELS["fields"][key].names
                 for key in ("id", *spec.field_names) if key in labels.LABELS["fields"]}
        headers = dict.fromkeys(key for record in records for key in record)
        header_of: dict[str, str] = {}
        for header in headers:
            key = None if header in known else names.resolve(header, known)
            if key is None:
                continue
            other = header_of.get(key) or (key if key in headers else None)
            if other is not None:
                raise ValidationError(f"file: columns {other!r} and {header!r} both give "
                                      f"{key}; keep one")
            header_of[key] = header
        chinese = any(_CJK.search(header) for header in header_of.values())
        return cls(header_of, chinese)

    def rename(self, records: list[dict]) -> None:
        """Key each record by field names instead of the file's columns (in place)."""
        if not self.header_of:
            return
        renamed = {header: key for key, header in self.header_of.items()}
        for i, record in enumerate(records):
            records[i] = {renamed.get(column, column): value for column, value in record.items()}

    def header(self, key: str) -> str:
        """A field as the file names it, or would: its column, else its Chinese name in a file
        with Chinese columns, else the key."""
        if key in self.header_of:
            return self.header_of[key]
        if self.chinese and key in labels.LABELS["fields"]:
            return labels.zh("fields", key)
        return key


def write_report(problems: Sequence[RowProblem], path: str | Path, *,
                 field: str = "report") -> Path:
    """The validation report as CSV (row, field, problem), UTF-8 with BOM for Excel, each cell
    safe to open in a spreadsheet (:mod:`geo.io.spreadsheet`), written whole or not at all."""

    def write(target: Path) -> None:
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "field", "problem"])
            # Fields and problems quote what the file held: safe to open in a spreadsheet.
            writer.writerows([protect(p.row), protect(p.field), protect(p.problem)]
                             for p in problems)

    return write_atomically(path, write, field=field)
