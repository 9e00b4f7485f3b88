"""All-or-nothing imports of layer files into the registry, and the report of a rejected one.

The file is read by :func:`geo.io.vector.read_rows` (its CRS by the policy of that module) and
every row is checked: reading problems such as an unparseable number or WKT, and the registry's
own checks. Either every row goes into the database in one transaction or nothing does, and
:class:`~geo.errors.RecordsRejectedError` lists each problem as (row, field, problem). CSV
files may be UTF-8 (with or without a byte-order mark) or GBK/GB18030 (Chinese Excel exports),
detected or given.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

from geo.core.files import write_atomically
from geo.core.progress import row_progress
from geo.errors import RowProblem
from geo.io.vector import read_rows
from geo.registry import Registry
from geo.registry.schema import DERIVED_COLUMNS, layer_spec

log = logging.getLogger(__name__)


def import_file(registry: Registry, path: str | Path, *, layer: str, crs: str | None = None,
                encoding: str | None = None, actor: str = "import",
                progress: bool | None = None) -> list[str]:
    """Import a file into ``layer`` in one transaction; returns the new ids.

    Any bad row rejects the whole file with :class:`~geo.errors.RecordsRejectedError`, whose
    ``problems`` give each row number, field and problem. Records without a ``source`` get the
    file's name."""
    spec = layer_spec(layer)
    rows = read_rows(path, field="file", crs=crs, encoding=encoding,
                     has_geometry=spec.has_geometry,
                     field_names=(*spec.field_names, "id", *sorted(DERIVED_COLUMNS)))
    name = Path(path).name
    if "source" in spec.field_names:
        for record in rows.records:
            if not record.get("source"):
                record["source"] = name
    wrap = row_progress(f"checking {name}", enabled=progress)
    ids = registry.add_many(layer, rows.records, actor=actor, labels=rows.labels,
                            known_problems=rows.problems, progress=wrap)
    log.info("imported %d %s from %s", len(ids), layer, path)
    return ids


def write_report(problems: Sequence[RowProblem], path: str | Path, *,
                 field: str = "report") -> Path:
    """The validation report as CSV (row, field, problem), UTF-8 with BOM for Excel, written
    whole or not at all."""

    def write(target: Path) -> None:
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "field", "problem"])
            writer.writerows([p.row, p.field, p.problem] for p in problems)

    return write_atomically(path, write, field=field)
