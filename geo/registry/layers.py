"""Reading the registry whole: layers as GeoDataFrames in EPSG:4326 indexed by id, their counts,
revisions (to cache them by) and extent, and the audit log."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import func, select

from geo.registry import database as db
from geo.registry.schema import LAYERS, layer_spec
from geo.registry.settings import SettingsMixin
from geo.registry.store import TABLES, WGS84

# A layer's GeoDataFrame also shows rows of other layers: the inventory its depots' names and
# positions, incidents their assigned teams. A write of those changes the layer too.
SHOWS = {"inventory": ("depots",), "incidents": ("teams",)}


class LayersMixin(SettingsMixin):
    def layer(self, name: str) -> gpd.GeoDataFrame:
        """A layer as a GeoDataFrame in EPSG:4326 indexed by ``id`` (inventory: one row per depot
        and item, at the depot's location; incidents: with ``assigned_teams``)."""
        spec = layer_spec(name)
        if name == "inventory":
            return self._inventory_layer()
        table = TABLES[name]
        with self._read() as conn:
            frame = pd.read_sql(select(table), conn)
        geometry = shapely.from_wkb(frame.pop("geometry_wkb").to_numpy(dtype=object))
        frame = frame.drop(columns=["min_lon", "min_lat", "max_lon", "max_lat"])
        if name == "teams":
            home = shapely.from_wkb(frame.pop("home_wkb").to_numpy(dtype=object))
            frame["home_lon"], frame["home_lat"] = shapely.get_x(home), shapely.get_y(home)
        if name == "incidents":
            frame["assigned_teams"] = self._open_assignments(frame["id"])
        columns = ["id", *spec.field_names, "created_at", "updated_at"]
        extra = [c for c in frame.columns if c not in columns]
        return gpd.GeoDataFrame(frame[columns + extra], geometry=geometry,
                                crs=WGS84).set_index("id")

    def revision(self, layer: str) -> int:
        """A number that grows with every committed write that can change ``layer(layer)``, to
        cache the layer by: read it *before* the layer (a write in between then only costs a
        reread). One read of a few ``meta`` rows."""
        layer_spec(layer)
        return sum(self._revisions((layer, *SHOWS.get(layer, ()))).values())

    def revisions(self) -> dict[str, int]:
        """:meth:`revision` of every layer, and of the supply ``catalogue``, in one read."""
        names = (*LAYERS, "catalogue")
        counts = self._revisions(names)
        shown = {layer: counts[layer] + sum(counts[other] for other in SHOWS.get(layer, ()))
                 for layer in LAYERS}
        return {**shown, "catalogue": counts["catalogue"]}

    def extent(self) -> tuple[float, float, float, float] | None:
        """The lon/lat box (west, south, east, north) the registry covers: its region if set,
        else the union of the bounds of every feature; None for an empty registry."""
        region = self.region
        if region is not None:
            return (region.min_lon, region.min_lat, region.max_lon, region.max_lat)
        boxes = []
        with self._read() as conn:
            for table in TABLES.values():
                box = conn.execute(select(func.min(table.c.min_lon), func.min(table.c.min_lat),
                                          func.max(table.c.max_lon),
                                          func.max(table.c.max_lat))).one()
                if box[0] is not None:
                    boxes.append(box)
        if not boxes:
            return None
        west, south, east, north = zip(*boxes, strict=True)
        return (float(min(west)), float(min(south)), float(max(east)), float(max(north)))

    def counts(self) -> dict[str, int]:
        with self._read() as conn:
            counts = {name: conn.execute(select(func.count()).select_from(table)).scalar()
                      for name, table in TABLES.items()}
            counts["inventory"] = conn.execute(
                select(func.count()).select_from(db.inventory)).scalar()
        return counts

    def audit_log(self, *, layer: str | None = None, record_id: str | None = None,
                  limit: int | None = None) -> pd.DataFrame:
        """Who changed what and when, newest first, with old and new values."""
        table = db.audit_log
        query = select(table).order_by(table.c.id.desc())
        if layer is not None:
            query = query.where(table.c.layer == layer)
        if record_id is not None:
            query = query.where(table.c.record_id == str(record_id))
        if limit is not None:
            query = query.limit(int(limit))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows],
                            columns=["id", "at", "actor", "action", "layer", "record_id", "old",
                                     "new"])

    def _open_assignments(self, ids: pd.Series) -> list[list[str]]:
        table = db.assignments
        with self._read() as conn:
            rows = conn.execute(select(table.c.incident, table.c.team)
                                .where(table.c.released_at.is_(None))
                                .order_by(table.c.id)).all()
        teams: dict[str, list[str]] = {}
        for incident, team in rows:
            teams.setdefault(incident, []).append(team)
        return [teams.get(i, []) for i in ids]

    def _inventory_layer(self) -> gpd.GeoDataFrame:
        inventory, depots = db.inventory, db.depots
        query = (select(inventory.c.depot, inventory.c.item, inventory.c.quantity,
                        inventory.c.unit, inventory.c.updated_at,
                        depots.c.name.label("depot_name"), depots.c.geometry_wkb)
                 .join(depots, depots.c.id == inventory.c.depot)
                 .order_by(inventory.c.depot, inventory.c.item))
        with self._read() as conn:
            frame = pd.read_sql(query, conn)
        points = shapely.point_on_surface(
            shapely.from_wkb(frame.pop("geometry_wkb").to_numpy(dtype=object)))
        frame.index = pd.Index(frame["depot"] + "/" + frame["item"], name="id")
        return gpd.GeoDataFrame(frame, geometry=points, crs=WGS84)
