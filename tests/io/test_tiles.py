"""Basemap tiles, checked against the extract read independently: a road's pixels, worked out
with osmium, pyproj and the standard slippy-map formulas, are road-coloured; pixels far from
every feature are the land colour; tiles away from the extract are transparent."""

from __future__ import annotations

import io
import math

import numpy as np
import osmium
import pytest
import shapely
from PIL import Image, ImageColor
from pyproj import Transformer

from geo.errors import ValidationError
from geo.io.basemap import load_basemap, read_basemap
from geo.io.tiles import PALETTE, TileRenderer, road_color, tile_bounds
from tests.conftest import LIECHTENSTEIN, MONACO

VADUZ = (9.5215, 47.1410)
HALF_WORLD = 20037508.342789244  # EPSG:3857 x of longitude 180
TO_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The standard slippy-map tile numbers of a point (OSM wiki, "Slippy map tilenames")."""
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def pixel_of(mx, my, z: int, x: int, y: int):
    """EPSG:3857 metres to pixel coordinates within tile z/x/y (256 px)."""
    scale = 2 ** z * 256 / (2 * HALF_WORLD)
    return ((np.asarray(mx) + HALF_WORLD) * scale - x * 256,
            (HALF_WORLD - np.asarray(my)) * scale - y * 256)


def metres_of(px, py, z: int, x: int, y: int):
    scale = 2 ** z * 256 / (2 * HALF_WORLD)
    return ((np.asarray(px) + x * 256) / scale - HALF_WORLD,
            HALF_WORLD - (np.asarray(py) + y * 256) / scale)


def decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (256, 256)
    return np.asarray(image.convert("RGBA")).astype(int)


def close_to(pixels: np.ndarray, color: str, tolerance: int = 6) -> np.ndarray:
    rgb = np.array(ImageColor.getrgb(color))
    return (np.abs(pixels[..., :3] - rgb).max(axis=-1) <= tolerance) & (pixels[..., 3] == 255)


class Features(osmium.SimpleHandler):
    """Every way of a highway value, and every mapped thing a basemap might draw, as lon/lat
    geometries made by osmium (not by the code under test)."""

    KEYS = ("highway", "railway", "waterway", "building", "landuse", "natural", "leisure")

    def __init__(self):
        super().__init__()
        self.factory = osmium.geom.WKBFactory()
        self.roads: dict[str, list[list[tuple[float, float]]]] = {}
        self.everything: list[str] = []

    def way(self, w):
        if not any(key in w.tags for key in self.KEYS):
            return
        self.everything.append(self.factory.create_linestring(w))
        if "highway" in w.tags:
            self.roads.setdefault(w.tags["highway"], []).append(
                [(n.lon, n.lat) for n in w.nodes])

    def area(self, a):
        if any(key in a.tags for key in self.KEYS):
            self.everything.append(self.factory.create_multipolygon(a))


@pytest.fixture(scope="module")
def features():
    handler = Features()
    handler.apply_file(str(LIECHTENSTEIN), locations=True)
    return handler


@pytest.fixture(scope="module")
def renderer(cache_dir):
    return TileRenderer(load_basemap(LIECHTENSTEIN, cache_dir=cache_dir))


def road_pixels(features, values, z, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints of the segments of roads tagged ``values`` that lie well inside the tile, in
    pixels."""
    px, py = [], []
    for value in values:
        for nodes in features.roads.get(value, []):
            lon, lat = np.array(nodes).T
            mx, my = TO_3857.transform(lon, lat)
            cx, cy = pixel_of(mx, my, z, x, y)
            mid_x, mid_y = (cx[1:] + cx[:-1]) / 2, (cy[1:] + cy[:-1]) / 2
            inside = (mid_x > 8) & (mid_x < 248) & (mid_y > 8) & (mid_y < 248)
            px.extend(mid_x[inside])
            py.extend(mid_y[inside])
    return np.array(px).astype(int), np.array(py).astype(int)


def test_tile_bounds_follow_the_slippy_map_scheme():
    assert tile_bounds(0, 0, 0) == pytest.approx((-HALF_WORLD, -HALF_WORLD, HALF_WORLD,
                                                  HALF_WORLD))
    assert tile_bounds(1, 1, 0) == pytest.approx((0, 0, HALF_WORLD, HALF_WORLD), abs=1e-6)
    z, x, y = tile_of(*VADUZ, 15)
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    vx, vy = TO_3857.transform(*VADUZ)
    assert minx <= vx < maxx and miny <= vy < maxy


def test_a_primary_road_is_drawn_where_it_runs(renderer, features):
    z, x, y = tile_of(*VADUZ, 15)
    pixels = decode(renderer.render(z, x, y))
    px, py = road_pixels(features, ("primary",), z, x, y)
    assert len(px) >= 10
    on_road = close_to(pixels[py, px], PALETTE["primary"])
    assert on_road.mean() >= 0.95  # primary is the top class here: nothing is drawn over it


def test_residential_streets_are_drawn_where_they_run(renderer, features):
    z, x, y = tile_of(*VADUZ, 16)
    pixels = decode(renderer.render(z, x, y))
    px, py = road_pixels(features, ("residential",), z, x, y)
    assert len(px) >= 10
    # bigger roads may cross a street (and are drawn over it) at a few of these points
    assert close_to(pixels[py, px], road_color("minor", z)).mean() >= 0.8


def test_where_nothing_is_mapped_the_tile_shows_land(renderer, features):
    z, x, y = tile_of(*VADUZ, 15)
    pixels = decode(renderer.render(z, x, y))
    grid = np.arange(4, 256, 8)
    gx, gy = (a.ravel() for a in np.meshgrid(grid, grid))
    everything = shapely.transform(shapely.from_wkb(features.everything),
                                   lambda c: np.column_stack(TO_3857.transform(c[:, 0], c[:, 1])))
    tree = shapely.STRtree(everything)
    points = shapely.points(*metres_of(gx + 0.5, gy + 0.5, z, x, y))
    near, _ = tree.query(points, predicate="dwithin", distance=25.0)
    empty = np.setdiff1d(np.arange(len(points)), near)
    assert len(empty) >= 5
    assert close_to(pixels[gy[empty], gx[empty]], PALETTE["land"], tolerance=2).all()


def test_a_tile_away_from_the_extract_is_transparent(renderer):
    pixels = decode(renderer.render(*tile_of(0.0, 0.0, 10)))
    assert (pixels[..., 3] == 0).all()


def test_a_tile_on_the_extract_edge_is_transparent_outside_it(renderer):
    z, x, y = tile_of(*VADUZ, 7)
    pixels = decode(renderer.render(z, x, y))
    vx, vy = pixel_of(*TO_3857.transform(*VADUZ), z, x, y)
    assert pixels[int(vy), int(vx), 3] == 255
    far = pixel_of(*TO_3857.transform(9.0, 47.5), z, x, y)  # west and north of the extract
    assert 0 <= far[0] < 256 and 0 <= far[1] < 256
    assert pixels[int(far[1]), int(far[0]), 3] == 0


def test_a_whole_region_tile_shows_forest_and_roads(renderer):
    pixels = decode(renderer.render(*tile_of(*VADUZ, 10)))
    assert close_to(pixels, PALETTE["forest"], tolerance=3).sum() > 500
    assert close_to(pixels, road_color("primary", 10), tolerance=20).sum() > 20


@pytest.mark.parametrize(("zxy", "field"), [
    ((21, 0, 0), "z"), ((-1, 0, 0), "z"), ((3, 8, 0), "x"), ((3, 0, -1), "y"),
    ((2.5, 0, 0), "z"), (("3", 0, 0), "z"), ((True, 0, 0), "z"), ((3, None, 0), "x"),
])
def test_a_tile_that_does_not_exist_is_refused_naming_the_field(renderer, zxy, field):
    with pytest.raises(ValidationError, match=rf"(^|; ){field}: "):
        renderer.render(*zxy)


def test_every_bad_field_is_reported_at_once(renderer):
    with pytest.raises(ValidationError, match=r"x: .*; y: "):
        renderer.render(2, 4, 9)


def test_a_gzipped_xml_extract_renders():
    renderer = TileRenderer(read_basemap(MONACO))
    pixels = decode(renderer.render(*tile_of(7.4246, 43.7384, 16)))  # Monte-Carlo
    assert (pixels[..., 3] == 255).all()
    assert close_to(pixels, PALETTE["building"], tolerance=3).sum() > 1000
    assert close_to(pixels, PALETTE["primary"]).sum() > 100
