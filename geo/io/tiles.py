"""Slippy-map tiles of a :class:`~geo.io.basemap.Basemap` as PNG bytes, drawn with Pillow.

The standard XYZ scheme: 256-pixel tiles in Web Mercator, tile (0, 0) at the north-west corner,
``2**z`` tiles a side at zoom ``z``. Each tile is drawn at twice its size and scaled down with a
Lanczos filter (anti-aliasing Pillow's drawing lacks): areas first (green, forest, water, then
buildings from zoom 14), then lines (waterways, rail, road casings, road fills from the smallest
class up). No text: place names are data (:attr:`Basemap.places`) for the client to label in
its own fonts. Outside the extract's box a tile is transparent.
"""

from __future__ import annotations

import io
import math
import operator
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import shapely
from PIL import Image, ImageColor, ImageDraw

from geo.errors import ValidationError
from geo.io.basemap import AREA_CLASSES, ROAD_CLASSES, Basemap, to_mercator_xy

TILE_PX = 256
SUPERSAMPLE = 2
MAX_ZOOM = 20
HALF_WORLD_M = math.pi * 6_378_137.0  # Web Mercator spans -HALF_WORLD_M..HALF_WORLD_M
# Below this zoom geometries are simplified to half a pixel and areas under two pixels skipped.
DETAIL_ZOOM = 14
# zlib level 2: twice as fast to encode as the default 6, for tiles about 5% larger.
PNG_COMPRESSION = 2

# A light, muted palette after OSM Carto, so that coloured markers stand out on it.
PALETTE: Mapping[str, str] = MappingProxyType({
    "land": "#f5f3ef",
    "green": "#e3eed8",
    "forest": "#d3e5c6",
    "water": "#bcd8ec",
    "building": "#e3dcd4",
    "river": "#bcd8ec",
    "stream": "#bcd8ec",
    "rail": "#b3b0ae",
    "path": "#c8b4a0",
    "minor": "#ffffff",
    "tertiary": "#ffffff",
    "secondary": "#fbf1c2",
    "primary": "#fcdcae",
    "motorway": "#f6c0ad",
})
CASING: Mapping[str, str] = MappingProxyType({
    "minor": "#dcd6cd",
    "tertiary": "#d0c9bf",
    "secondary": "#d8cb94",
    "primary": "#dfb988",
    "motorway": "#d99e8b",
})
CASING_ZOOM = 13
# Lines at least this many canvas pixels wide get round joins and ends.
ROUND_JOIN_PX = 6


@dataclass(frozen=True)
class LineStyle:
    """A line class: drawn from ``min_zoom``; ``width_px`` wide at zoom 16, times
    ``2 ** (growth * (z - 16))`` at zoom ``z``, never thinner than ``min_px``."""

    min_zoom: int
    width_px: float
    growth: float
    min_px: float

    def width(self, z: int) -> float:
        return max(self.min_px, self.width_px * 2 ** (self.growth * (z - 16)))


LINES: Mapping[str, LineStyle] = MappingProxyType({
    "river": LineStyle(8, 6.0, 0.8, 1.0),
    "stream": LineStyle(12, 2.0, 0.5, 0.7),
    "rail": LineStyle(10, 2.0, 0.4, 0.8),
    "path": LineStyle(14, 1.5, 0.35, 1.0),
    "minor": LineStyle(12, 8.0, 0.75, 0.8),
    "tertiary": LineStyle(10, 10.0, 0.75, 0.8),
    "secondary": LineStyle(9, 11.0, 0.75, 0.9),
    "primary": LineStyle(7, 12.0, 0.75, 1.0),
    "motorway": LineStyle(5, 13.0, 0.75, 1.2),
})
AREA_MIN_ZOOM: Mapping[str, int] = MappingProxyType({"green": 0, "forest": 0, "water": 0,
                                                     "building": 14})


def road_color(name: str, z: int) -> str:
    """A road's fill colour; white roads below the zoom of casings take their casing's colour,
    or they would vanish into the land."""
    if z < CASING_ZOOM and PALETTE[name] == "#ffffff":
        return CASING[name]
    return PALETTE[name]


def check_tile(z, x, y) -> tuple[int, int, int]:
    """``(z, x, y)`` as integers, or a :class:`ValidationError` naming every bad field."""
    values: dict[str, int] = {}
    problems = []
    for name, value in (("z", z), ("x", x), ("y", y)):
        try:
            if isinstance(value, bool):
                raise TypeError
            values[name] = operator.index(value)
        except TypeError:
            problems.append(f"{name}: must be an integer, not {value!r}")
    if "z" in values and not 0 <= values["z"] <= MAX_ZOOM:
        problems.append(f"z: the zoom must be from 0 to {MAX_ZOOM}, not {values['z']}")
    elif "z" in values:
        last = 2 ** values["z"] - 1
        problems.extend(f"{name}: must be from 0 to {last} at zoom {values['z']}, not "
                        f"{values[name]}" for name in ("x", "y")
                        if name in values and not 0 <= values[name] <= last)
    if problems:
        raise ValidationError("; ".join(problems))
    return values["z"], values["x"], values["y"]


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The (minx, miny, maxx, maxy) of a tile in EPSG:3857 metres."""
    size = 2 * HALF_WORLD_M / 2 ** z
    west = -HALF_WORLD_M + x * size
    north = HALF_WORLD_M - y * size
    return (west, north - size, west + size, north)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESSION)
    return buffer.getvalue()


EMPTY_TILE = _png(Image.new("RGBA", (TILE_PX, TILE_PX), (0, 0, 0, 0)))


class TileRenderer:
    """Draws tiles of one basemap; build once (it indexes every class), then call
    :meth:`render` from any thread."""

    def __init__(self, basemap: Basemap):
        self.basemap = basemap
        self._trees = {name: shapely.STRtree(geoms) for name, geoms in basemap.layers.items()
                       if len(geoms)}
        self._areas = {name: shapely.area(basemap.layers[name]) for name in AREA_CLASSES
                       if name in self._trees}
        west, south, east, north = basemap.bounds_lonlat
        (minx, maxx), (miny, maxy) = to_mercator_xy([west, east], [south, north])
        self.extent_m = (float(minx), float(miny), float(maxx), float(maxy))
        self._simplified: dict[tuple[str, int], np.ndarray] = {}
        self._lock = threading.Lock()

    def render(self, z: int, x: int, y: int) -> bytes:
        """The PNG of tile ``z/x/y`` (a :class:`ValidationError` for a tile that does not
        exist; a transparent tile away from the extract)."""
        z, x, y = check_tile(z, x, y)
        box = tile_bounds(z, x, y)
        extent = self.extent_m
        if box[0] >= extent[2] or box[2] <= extent[0] or box[1] >= extent[3] or (
                box[3] <= extent[1]):
            return EMPTY_TILE
        size = TILE_PX * SUPERSAMPLE
        canvas = _Canvas(box, size)
        land = ImageColor.getrgb(PALETTE["land"])
        inside = canvas.pixel_box(extent)
        if inside == (0, 0, size, size):  # all land: no transparency to keep
            image = Image.new("RGB", (size, size), land)
        else:
            image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
            image.paste(land, inside)
        # a few pixels beyond the tile, so that the filter smoothing its edge sees what is there
        edge_m = 4 * canvas.m_per_px
        for name in AREA_CLASSES:
            if z >= AREA_MIN_ZOOM[name]:
                self._fill(image, canvas, self._query(name, z, box, margin_m=edge_m),
                           PALETTE[name])
        draw = ImageDraw.Draw(image)
        margin_m = (max(style.width(z) for style in LINES.values()) / 2 + 2) * canvas.m_per_px
        visible = {name: self._query(name, z, box, margin_m=margin_m)
                   for name, style in LINES.items() if z >= style.min_zoom}
        for name in ("river", "stream", "rail"):
            if name in visible:
                canvas.lines(draw, visible[name], PALETTE[name], LINES[name].width(z))
        roads = [name for name in ROAD_CLASSES if name in visible]
        if z >= CASING_ZOOM:
            for name in roads:
                if name in CASING:
                    width = LINES[name].width(z)
                    canvas.lines(draw, visible[name], CASING[name], width + max(1.5, width / 6))
        for name in roads:
            canvas.lines(draw, visible[name], road_color(name, z), LINES[name].width(z))
        return _png(image.resize((TILE_PX, TILE_PX), Image.Resampling.LANCZOS))

    def _query(self, name: str, z: int, box, *, margin_m: float) -> np.ndarray:
        tree = self._trees.get(name)
        if tree is None:
            return np.array([], dtype=object)
        minx, miny, maxx, maxy = box
        window = (minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)
        found = np.sort(tree.query(shapely.box(*window)))  # drawn in the extract's order
        if z < DETAIL_ZOOM:
            m_per_px = (maxx - minx) / TILE_PX
            if name in self._areas:
                found = found[self._areas[name][found] >= 2 * m_per_px ** 2]
            geoms = self._simplified_layer(name, z, m_per_px / 2)[found]
        else:
            geoms = self.basemap.layers[name][found]
        return shapely.clip_by_rect(geoms, *window)

    def _simplified_layer(self, name: str, z: int, tolerance_m: float) -> np.ndarray:
        with self._lock:
            done = self._simplified.get((name, z))
        if done is None:
            done = shapely.simplify(self.basemap.layers[name], tolerance_m,
                                    preserve_topology=False)
            with self._lock:
                self._simplified[name, z] = done
        return done

    @staticmethod
    def _fill(image: Image.Image, canvas: _Canvas, geoms: np.ndarray, color: str) -> None:
        """Fill the polygons (holes left open) in ``color``: drawn as a mask, then painted."""
        polygons = shapely.get_parts(geoms[~shapely.is_empty(geoms)])
        polygons = polygons[shapely.get_type_id(polygons) == shapely.GeometryType.POLYGON]
        if not len(polygons):
            return
        if not shapely.get_num_interior_rings(polygons).any():  # draw straight onto the image
            draw = ImageDraw.Draw(image)
            for points in canvas.pixels(shapely.get_exterior_ring(polygons)):
                if len(points) >= 6:
                    draw.polygon(points, fill=color)
            return
        rings, owner = shapely.get_rings(polygons, return_index=True)
        exterior = np.r_[True, owner[1:] != owner[:-1]]
        mask = Image.new("L", image.size, 0)
        draw = ImageDraw.Draw(mask)
        for points, outer in zip(canvas.pixels(rings), exterior):
            if len(points) >= 6:
                draw.polygon(points, fill=255 if outer else 0)
        image.paste(ImageColor.getrgb(color), mask=mask)


class _Canvas:
    """Web Mercator metres to the supersampled image's pixels for one tile."""

    def __init__(self, box, size: int):
        self.minx, _, _, self.maxy = box
        self.size = size
        self.px_per_m = size / (box[2] - box[0])
        self.m_per_px = (box[2] - box[0]) / TILE_PX  # per pixel of the tile, not the canvas

    def pixel_box(self, extent) -> tuple[int, int, int, int]:
        size = self.size
        left, top = self._px(extent[0], extent[3])
        right, bottom = self._px(extent[2], extent[1])
        return (max(0, math.floor(left)), max(0, math.floor(top)),
                min(size, math.ceil(right)), min(size, math.ceil(bottom)))

    def _px(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.minx) * self.px_per_m, (self.maxy - y) * self.px_per_m

    def pixels(self, geoms: np.ndarray) -> list[list[float]]:
        """Each (simple) geometry's coordinates as a flat [x0, y0, x1, y1, …] pixel list."""
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        if not len(coords):
            return []
        flat = np.empty_like(coords)
        flat[:, 0] = (coords[:, 0] - self.minx) * self.px_per_m
        flat[:, 1] = (self.maxy - coords[:, 1]) * self.px_per_m
        values = flat.ravel().tolist()
        starts = np.searchsorted(owner, np.arange(len(geoms) + 1)) * 2
        return [values[a:b] for a, b in zip(starts[:-1].tolist(), starts[1:].tolist())]

    def lines(self, draw: ImageDraw.ImageDraw, geoms: np.ndarray, color: str,
              width_px: float) -> None:
        """Draw the lines ``width_px`` tile pixels wide, with round joins and ends when wide."""
        parts = shapely.get_parts(geoms[~shapely.is_empty(geoms)])
        if not len(parts):
            return
        width = max(1, round(width_px * SUPERSAMPLE))
        # Pillow's own round joins are computed in Python, vertex by vertex: a disc per vertex
        # is drawn in C, and only where a line is wide enough for its corners to show.
        round_joins = width >= ROUND_JOIN_PX
        radius = width / 2 - 0.5
        for points in self.pixels(parts):
            if len(points) < 4:
                continue
            draw.line(points, fill=color, width=width)
            if round_joins:
                for px, py in zip(points[::2], points[1::2]):
                    draw.ellipse((px - radius, py - radius, px + radius, py + radius),
                                 fill=color)
