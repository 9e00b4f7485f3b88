"""The basemap the map UI shows without internet: tiles, place names and the covered box, all from
the context's OSM extract.

The prepared basemap is read once per context (from the disk cache beside the networks when a
process has read it before) and kept; rendered tiles are kept in a small in-memory LRU, since a
map asks for the same few tiles over and over.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path

import geopandas as gpd
import shapely

from geo.errors import SourceError, ValidationError
from geo.io.basemap import Basemap, Place, load_basemap
from geo.io.geojson import geojson_collection
from geo.io.tiles import TileRenderer, check_tile
from geo.network.cache import default_cache_dir
from geo.network.osm_read import source_kind
from geo.services.context import Context

# The zoom from which a place's name is worth showing, by rank (1: capitals and cities).
PLACE_MIN_ZOOM = {1: 8, 2: 10, 3: 11, 4: 13, 5: 13, 6: 15}
TILE_CACHE_SIZE = 1024  # tiles of 10-80 kB: at most ~80 MB
_LANG = re.compile(r"[a-z]{2,3}([-_][A-Za-z0-9]{1,8})*")


def basemap_tile(ctx: Context, z: int, x: int, y: int) -> bytes:
    """Tile ``z/x/y`` (XYZ, 256 px, Web Mercator) of the extract's basemap as PNG bytes; a
    transparent tile away from the extract; a :class:`ValidationError` naming ``z``, ``x`` or
    ``y`` for a tile that does not exist."""
    key = check_tile(z, x, y)
    tiles = ctx.cached("basemap.tiles", lambda: _LruCache(TILE_CACHE_SIZE))
    png = tiles.get(key)
    if png is None:
        png = _renderer(ctx).render(*key)
        tiles.put(key, png)
    return png


def basemap_places(ctx: Context, lang: str | None = None) -> dict:
    """The extract's named places as a GeoJSON FeatureCollection (lon/lat), most important
    first. Properties: ``name`` (the local name), ``label`` (the name in ``lang``, such as
    ``"zh"`` or ``"en"``, where the place has one, else ``name``), ``place``, ``rank`` (1 is the
    most important), ``min_zoom`` (from which to show it) and ``population`` (or null)."""
    if lang is not None and (not isinstance(lang, str) or not _LANG.fullmatch(lang)):
        raise ValidationError(f"lang: {lang!r} is not a language code such as 'zh' or 'en'")
    places = _basemap(ctx).places
    frame = gpd.GeoDataFrame(
        [{"name": p.name, "label": _label(p, lang), "place": p.place, "rank": p.rank,
          "min_zoom": PLACE_MIN_ZOOM[p.rank], "population": p.population} for p in places],
        columns=["name", "label", "place", "rank", "min_zoom", "population"],
        geometry=shapely.points([(p.lon, p.lat) for p in places]) if places else [],
        index=[f"node/{p.osm_id}" for p in places], crs="EPSG:4326")
    return geojson_collection(frame, attribution=True)


def basemap_bounds(ctx: Context) -> list[float]:
    """The box the extract covers: [west, south, east, north] in lon/lat."""
    return [float(v) for v in _basemap(ctx).bounds_lonlat]


def _label(place: Place, lang: str | None) -> str:
    """The name in ``lang``; for a regional code (``zh-CN``) the language's own (``zh``) if the
    place has no name in the region's variant."""
    if lang is None:
        return place.name
    for code in (lang, re.split(r"[-_]", lang)[0]):
        if code in place.names:
            return place.label(code)
    return place.name


def _basemap(ctx: Context) -> Basemap:
    def load() -> Basemap:
        path = Path(ctx.source.osm_path)
        if source_kind(path) != "osm":
            raise SourceError(f"osm_path: {path.name} holds a road graph only; the basemap is "
                              "drawn from an OSM extract (.osm.pbf, .osm, .osm.gz, .osm.bz2)")
        return load_basemap(path, cache_dir=ctx.source.cache_dir or default_cache_dir())

    return ctx.cached("basemap", load)


def _renderer(ctx: Context) -> TileRenderer:
    return ctx.cached("basemap.renderer", lambda: TileRenderer(_basemap(ctx)))


class _LruCache:
    """The most recently used ``size`` tiles (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple[int, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int, int]) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[int, int, int], value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
