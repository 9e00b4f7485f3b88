"""Registry-wide settings kept in the database: the region it covers, the supply catalogue, and
the mark of a demo registry (so that every output built from it can say so)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select

from geo.errors import ValidationError
from geo.registry import database as db
from geo.registry.schema import DEFAULT_CATALOGUE, Region
from geo.registry.store import Store, meta_value, set_meta_value

REGION_KEY = "region_bounds"
DEMO_KEY = "demo"
POPULATION_KEY = "population_source"


class SettingsMixin(Store):
    @property
    def region(self) -> Region | None:
        with self._read() as conn:
            value = meta_value(conn, REGION_KEY)
        return Region(*value) if value else None

    def set_region(self, bounds: Sequence[float], *, actor: str = "system") -> Region:
        """The lon/lat box (west, south, east, north) the registry covers."""
        values = [float(v) for v in bounds]
        ok = (len(values) == 4 and all(np.isfinite(values)) and -180 <= values[0] < values[2] <= 180
              and -90 <= values[1] < values[3] <= 90)
        if not ok:
            raise ValidationError(f"region: expected west,south,east,north in degrees, "
                                  f"got {bounds}")
        with self._write() as conn:
            old = meta_value(conn, REGION_KEY, lock=True)
            set_meta_value(conn, REGION_KEY, values)
            self._audit(conn, actor=actor, action="update", layer="meta", record_id=REGION_KEY,
                        old={"bounds": old}, new={"bounds": values})
        return Region(*values)

    @property
    def demo(self) -> dict | None:
        """``{"source": OSM file name, "note": what is invented}`` for a demo registry (see
        :func:`geo.registry.demo.build_demo`), None for a real one. One primary-key read."""
        with self._read() as conn:
            value = meta_value(conn, DEMO_KEY)
        return dict(value) if value else None

    def mark_demo(self, source: str, *, note: str, actor: str = "system") -> dict:
        """Mark the registry as a demo built from ``source``, with a one-line ``note`` saying
        which values are invented."""
        if not str(source).strip() or not str(note).strip():
            raise ValidationError(f"demo: expected a source name and a note, got "
                                  f"{source!r}, {note!r}")
        mark = {"source": str(source), "note": str(note)}
        with self._write() as conn:
            old = meta_value(conn, DEMO_KEY, lock=True)
            set_meta_value(conn, DEMO_KEY, mark)
            self._audit(conn, actor=actor, action="update", layer="meta", record_id=DEMO_KEY,
                        old=old, new=mark)
        return mark

    @property
    def population_source(self) -> dict | None:
        """Where the population layer's numbers come from: ``{"people", "method", "note"}``,
        ``method`` one of given, official, estimated (a building proxy), raster or polygons;
        None if never said. One primary-key read."""
        with self._read() as conn:
            value = meta_value(conn, POPULATION_KEY)
        return dict(value) if value else None

    def set_population_source(self, *, people: float, method: str, note: str,
                              actor: str = "system") -> dict:
        """Say where the population layer's numbers come from (for every output to show)."""
        source = {"people": float(people), "method": str(method), "note": str(note)}
        with self._write() as conn:
            old = meta_value(conn, POPULATION_KEY, lock=True)
            set_meta_value(conn, POPULATION_KEY, source)
            self._audit(conn, actor=actor, action="update", layer="meta",
                        record_id=POPULATION_KEY, old=old, new=source)
        return source

    def _seed_catalogue(self) -> None:
        """Put the default items in an empty catalogue (a write only when one is missing)."""
        table = db.catalogue
        with self._read() as conn:
            present = set(conn.execute(select(table.c.item)).scalars())
        if present:
            return
        rows = [{"item": item, "name_en": en, "name_zh": zh, "unit": unit}
                for item, (en, zh, unit) in DEFAULT_CATALOGUE.items()]
        with self._write() as conn:
            if not conn.execute(select(table.c.item).limit(1)).first():
                # Several processes opening a new registry at once: the first insert wins.
                conn.execute(db.insert_new(conn, table), rows)

    def catalogue(self) -> pd.DataFrame:
        with self._read() as conn:
            frame = pd.read_sql(select(db.catalogue), conn)
        return frame.set_index("item")

    def add_catalogue_item(self, item: str, *, name_en: str = "", name_zh: str = "",
                           unit: str = "piece", actor: str = "system") -> None:
        key = str(item).strip()
        if not key or not key.replace("_", "").isalnum():
            raise ValidationError(f"item: expected a short key of letters, digits and _, "
                                  f"got {item!r}")
        table = db.catalogue
        values = {"item": key, "name_en": name_en, "name_zh": name_zh, "unit": unit}
        with self._write() as conn:
            # One statement: of two writers adding the same item at once, one is told it exists.
            added = conn.execute(db.insert_new(conn, table).values(**values)
                                 .returning(table.c.item)).first()
            if added is None:
                raise ValidationError(f"item: {key!r} is already in the catalogue")
            self._audit(conn, actor=actor, action="insert", layer="catalogue", record_id=key,
                        old=None, new=values)
            self._bump_revision(conn, "catalogue")

    def _choices(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """The values records are checked against that live in the registry, not the schema,
        each with its Chinese and English names (which a record may give instead)."""
        catalogue = self.catalogue()
        return {"shelter_classes": {key: (entry.name_zh, entry.name_en)
                                    for key, entry in self.standards.classes.items()},
                "items": {str(item): (str(row.name_zh), str(row.name_en))
                          for item, row in catalogue.iterrows()}}
