"""Depot inventory: how much of each catalogue item a depot holds. Stock never goes negative:
the database checks it, and :meth:`InventoryMixin.adjust_stock` takes stock with a conditional
update, so two dispatchers cannot both take the last of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, select, update

from geo.core.validate import is_finite_number
from geo.errors import (
    ConflictError,
    NotFoundError,
    RecordsRejectedError,
    RowProblem,
    ValidationError,
)
from geo.registry import database as db
from geo.registry.schema import MAX_QUANTITY, check_record, layer_spec
from geo.registry.settings import SettingsMixin


class InventoryMixin(SettingsMixin):
    def set_stock(self, depot_id: str, item: str, quantity: float, *, unit: str | None = None,
                  actor: str = "system") -> None:
        """Set a depot's stock of an item (an item of the catalogue; quantity ≥ 0)."""
        self._check_stock_args(depot_id, item, quantity)
        unit = unit or str(self.catalogue().loc[item, "unit"])
        with self._write() as conn:
            self._write_stock(conn, depot_id, item, quantity, unit=unit, actor=actor)
            self._bump_revision(conn, "inventory")

    def adjust_stock(self, depot_id: str, item: str, delta: float, *,
                     actor: str = "system") -> float:
        """Add (or, negative, take) stock; never below zero: taking more than is there raises
        :class:`ConflictError` with the quantity in stock. Returns the new quantity."""
        if not (is_finite_number(delta) and abs(delta) <= MAX_QUANTITY):
            raise ValidationError(f"delta: expected a finite number of at most "
                                  f"{MAX_QUANTITY:,.15g}, got {delta!r}")
        table = db.inventory
        where = (table.c.depot == str(depot_id), table.c.item == item)
        with self._write() as conn:
            # One conditional update that returns what it left: no read for another writer
            # to change in between.
            quantity = conn.execute(update(table).where(*where, table.c.quantity + delta >= 0)
                                    .values(quantity=table.c.quantity + delta,
                                            updated_at=db.utc_now())
                                    .returning(table.c.quantity)).scalar()
            if quantity is None:
                held = conn.execute(select(table.c.quantity).where(*where)).scalar()
                if held is None:
                    raise NotFoundError(f"inventory: depot {depot_id!r} holds no {item!r}")
                raise ConflictError(f"depot {depot_id} holds {held:g} {item}, cannot take "
                                    f"{-delta:g}", current=held)
            self._audit(conn, actor=actor, action="update", layer="inventory",
                        record_id=f"{depot_id}/{item}", old={"quantity": quantity - delta},
                        new={"quantity": quantity})
            self._bump_revision(conn, "inventory")
        return float(quantity)

    def stock(self, depot_id: str) -> dict[str, float]:
        table = db.inventory
        with self._read() as conn:
            rows = conn.execute(select(table.c.item, table.c.quantity)
                                .where(table.c.depot == str(depot_id))).all()
        return {item: float(quantity) for item, quantity in rows}

    def _add_inventory(self, records: Sequence[Mapping], *, actor: str,
                       labels: Sequence[object] | None,
                       known_problems: Sequence[RowProblem]) -> list[str]:
        """``add_many("inventory", ...)``: check every row, then write all of them or none."""
        labels = list(labels) if labels is not None else list(range(1, len(records) + 1))
        rows, problems = self._checked_stock_rows(records, labels)
        problems = list(known_problems) + problems
        if problems:
            raise RecordsRejectedError("inventory", problems, total=len(records))
        with self._write() as conn:
            for row in rows:
                self._write_stock(conn, row["depot"], row["item"], row["quantity"],
                                  unit=row["unit"], actor=actor)
            self._bump_revision(conn, "inventory")
        return [f"{row['depot']}/{row['item']}" for row in rows]

    def _checked_stock_rows(self, records: Sequence[Mapping],
                            labels: list) -> tuple[list[dict], list[RowProblem]]:
        spec = layer_spec("inventory")
        choices, catalogue = self._choices(), self.catalogue()
        depots = db.depots
        with self._read() as conn:
            known_depots = set(conn.execute(select(depots.c.id)).scalars())
        rows: list[dict] = []
        problems: list[RowProblem] = []
        seen: dict[tuple, object] = {}
        for label, record in zip(labels, records, strict=True):
            clean, found = check_record(spec, {k: v for k, v in record.items() if k != "geometry"},
                                        choices=choices)
            if "depot" in clean and clean["depot"] not in known_depots:
                found.append(("depot", f"no depot with id {clean['depot']!r}"))
            key = (clean.get("depot"), clean.get("item"))
            if not found and key in seen:
                found.append(("item", f"duplicate {key[1]!r} for depot {key[0]!r} "
                                      f"(also row {seen[key]})"))
            seen.setdefault(key, label)
            problems += [RowProblem(label, name, text) for name, text in found]
            if not found:
                unit = clean["unit"] or str(catalogue.loc[clean["item"], "unit"])
                rows.append({"depot": clean["depot"], "item": clean["item"],
                             "quantity": clean["quantity"], "unit": unit})
        return rows, problems

    def _write_stock(self, conn: Connection, depot_id: str, item: str, quantity: float, *,
                     unit: str, actor: str) -> None:
        # Checked here, in the write transaction (the depot row locked where the database
        # locks rows): a depot deleted a moment before is a clear error, not a broken foreign key.
        depots = db.depots
        if conn.execute(select(depots.c.id).where(depots.c.id == str(depot_id))
                        .with_for_update()).first() is None:
            raise NotFoundError(f"depots: no record with id {depot_id!r}")
        table = db.inventory
        where = (table.c.depot == str(depot_id), table.c.item == item)
        old = conn.execute(select(table.c.quantity).where(*where).with_for_update()).scalar()
        conn.execute(db.upsert(conn, table, {
            "depot": str(depot_id), "item": item, "quantity": float(quantity), "unit": unit,
            "updated_at": db.utc_now()}, keys=("depot", "item")))
        self._audit(conn, actor=actor, action="update" if old is not None else "insert",
                    layer="inventory", record_id=f"{depot_id}/{item}",
                    old=None if old is None else {"quantity": old},
                    new={"quantity": float(quantity), "unit": unit})

    def _check_stock_args(self, depot_id: str, item: str, quantity: float) -> None:
        problems = []
        if item not in self._choices()["items"]:
            problems.append(f"item: {item!r} is not in the catalogue (add it first)")
        if not (is_finite_number(quantity) and 0 <= quantity <= MAX_QUANTITY):
            problems.append(f"quantity: {quantity!r} is negative, too large or not a number "
                            f"(must be 0 to {MAX_QUANTITY:,.15g})")
        if problems:
            raise ValidationError("; ".join(problems) + f" (inventory {depot_id}/{item})")
