"""A basemap read from an OSM extract itself: roads by class, railways, water, buildings, green
areas and place names, projected to Web Mercator (EPSG:3857) once, for a map with no internet.

Read with pyosmium in one pass over the file (libosmium's area assembly reads the relations
first); cached on disk as one ``.npz`` of plain arrays (GeoArrow-style ragged coordinates, no
pickles) keyed by the extract's path, size and modification time, the format version and this
module's code, so a second process start loads in milliseconds without re-reading the extract.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import shapely
from shapely import GeometryType

from geo.core.files import write_atomically
from geo.errors import SourceError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# Classes drawn as areas and as lines, in the order they are drawn (lower first).
AREA_CLASSES = ("green", "forest", "water", "building")
LINE_CLASSES = ("river", "stream", "rail", "path", "minor", "tertiary", "secondary", "primary",
                "motorway")
ROAD_CLASSES = ("path", "minor", "tertiary", "secondary", "primary", "motorway")

HIGHWAY_CLASS = {
    **dict.fromkeys(("motorway", "motorway_link", "trunk", "trunk_link"), "motorway"),
    **dict.fromkeys(("primary", "primary_link"), "primary"),
    **dict.fromkeys(("secondary", "secondary_link"), "secondary"),
    **dict.fromkeys(("tertiary", "tertiary_link"), "tertiary"),
    **dict.fromkeys(("residential", "unclassified", "living_street", "service", "road",
                     "pedestrian", "busway"), "minor"),
    **dict.fromkeys(("footway", "path", "track", "cycleway", "bridleway", "steps"), "path"),
}
RAILWAY_VALUES = frozenset(("rail", "light_rail", "narrow_gauge", "tram", "subway",
                            "funicular", "monorail", "preserved"))
WATERWAY_CLASS = {"river": "river", "canal": "river", "stream": "stream", "drain": "stream",
                  "ditch": "stream"}
WATER_AREA = {("natural", "water"), ("waterway", "riverbank"), ("landuse", "reservoir"),
              ("landuse", "basin"), ("natural", "bay")}
FOREST_AREA = {("landuse", "forest"), ("natural", "wood")}
GREEN_AREA = {("leisure", "park"), ("leisure", "garden"), ("leisure", "nature_reserve"),
              ("leisure", "golf_course"), ("leisure", "recreation_ground"),
              ("landuse", "grass"), ("landuse", "meadow"), ("landuse", "farmland"),
              ("landuse", "orchard"), ("landuse", "vineyard"), ("landuse", "allotments"),
              ("landuse", "village_green"), ("landuse", "recreation_ground"),
              ("landuse", "cemetery"), ("natural", "grassland"), ("natural", "scrub"),
              ("natural", "heath"), ("natural", "wetland")}
AREA_KEYS = ("natural", "waterway", "landuse", "leisure")

# Place rank: 1 is the most important. A capital ranks as a city whatever its place value.
PLACE_RANK = {"city": 1, "town": 2, "village": 3, "suburb": 4, "hamlet": 5, "neighbourhood": 6}
READ_KEYS = ("highway", "railway", "waterway", "natural", "building", "landuse", "leisure",
             "place")


@dataclass(frozen=True)
class Place:
    """A named place node: ``names`` holds its ``name:xx`` tags by language (``{"zh": …}``)."""

    osm_id: int
    place: str
    name: str
    lon: float
    lat: float
    rank: int
    names: Mapping[str, str] = field(default_factory=dict)
    population: int | None = None

    def label(self, lang: str | None) -> str:
        """The name in ``lang`` where the place is tagged with one, else its ``name``."""
        return self.names.get(lang, self.name) if lang else self.name

    def to_dict(self) -> dict:
        return {"osm_id": self.osm_id, "place": self.place, "name": self.name, "lon": self.lon,
                "lat": self.lat, "rank": self.rank, "names": dict(self.names),
                "population": self.population}


@dataclass(frozen=True, eq=False)
class Basemap:
    """The features a basemap draws: per class, a numpy array of shapely geometries in EPSG:3857
    (areas as MultiPolygons, lines as LineStrings); named places; the extract's lon/lat box."""

    layers: Mapping[str, np.ndarray]
    places: tuple[Place, ...]
    bounds_lonlat: tuple[float, float, float, float]
    source: str = ""

    def counts(self) -> dict[str, int]:
        return {name: len(geoms) for name, geoms in self.layers.items()}


def read_basemap(path: str | Path) -> Basemap:
    """The basemap features of an OSM extract (``.osm.pbf``, ``.osm``, ``.osm.gz``, …)."""
    import osmium

    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    factory = osmium.geom.WKBFactory()
    wkb: dict[str, list[str]] = {name: [] for name in AREA_CLASSES + LINE_CLASSES}  # hex WKB
    places: list[Place] = []
    try:
        processor = (osmium.FileProcessor(str(path)).with_locations()
                     .with_areas(osmium.filter.KeyFilter("building", *AREA_KEYS))
                     .with_filter(osmium.filter.KeyFilter(*READ_KEYS)))
        for obj in processor:
            if isinstance(obj, osmium.osm.Node):
                if (place := _place(obj)) is not None:
                    places.append(place)
                continue
            # a geometry broken in the extract (a missing node, an unclosed ring) is left out
            with contextlib.suppress(RuntimeError, osmium.InvalidLocationError):
                if isinstance(obj, osmium.osm.Area):
                    if (name := _area_class(obj.tags)) is not None:
                        wkb[name].append(factory.create_multipolygon(obj))
                elif isinstance(obj, osmium.osm.Way) and (name := _line_class(obj.tags)):
                    wkb[name].append(factory.create_linestring(obj))
        header_box = _header_box(path)
    except RuntimeError as exc:
        raise SourceError(f"{path}: cannot read OSM data ({exc})") from exc
    layers = {name: to_web_mercator(shapely.from_wkb(items) if items else _empty())
              for name, items in wkb.items()}
    bounds = header_box or _extent(layers)
    places.sort(key=lambda p: (p.rank, -(p.population or 0), p.name))
    basemap = Basemap(MappingProxyType(layers), tuple(places), bounds, source=path.name)
    log.info("read basemap of %s: %s, %d places", path.name, basemap.counts(), len(places))
    return basemap


def _line_class(tags) -> str | None:
    highway = tags.get("highway")
    if highway is not None:
        return HIGHWAY_CLASS.get(highway)
    if tags.get("railway") in RAILWAY_VALUES:
        return "rail"
    return WATERWAY_CLASS.get(tags.get("waterway", ""))


def _area_class(tags) -> str | None:
    if tags.get("building", "no") != "no":
        return "building"
    pairs = {(key, tags.get(key)) for key in AREA_KEYS if key in tags}
    if pairs & WATER_AREA:
        return "water"
    if pairs & FOREST_AREA:
        return "forest"
    if pairs & GREEN_AREA:
        return "green"
    return None


def _place(node) -> Place | None:
    kind, name = node.tags.get("place"), node.tags.get("name")
    if kind not in PLACE_RANK or not name or not node.location.valid():
        return None
    rank = 1 if node.tags.get("capital") in ("yes", "2") else PLACE_RANK[kind]
    names = {tag.k[5:]: tag.v for tag in node.tags if tag.k.startswith("name:")}
    population = node.tags.get("population", "").replace(",", "").replace(" ", "")
    return Place(osm_id=node.id, place=kind, name=name, lon=node.location.lon,
                 lat=node.location.lat, rank=rank, names=MappingProxyType(names),
                 population=int(population) if population.isdigit() else None)


def _header_box(path: Path) -> tuple[float, float, float, float] | None:
    import osmium

    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def _extent(layers: Mapping[str, np.ndarray]) -> tuple[float, float, float, float]:
    boxes = [shapely.total_bounds(geoms) for geoms in layers.values() if len(geoms)]
    if not boxes:
        raise SourceError("basemap: the extract holds no roads, water, buildings or green areas")
    stacked = np.array(boxes)
    west, south = to_lonlat(stacked[:, 0].min(), stacked[:, 1].min())
    east, north = to_lonlat(stacked[:, 2].max(), stacked[:, 3].max())
    return (west, south, east, north)


def _empty() -> np.ndarray:
    return np.array([], dtype=object)


# ---- Web Mercator (EPSG:3857, the spherical formulas every slippy map uses) --------------------

EARTH_RADIUS_M = 6_378_137.0
MAX_LAT = 85.0511287798066


def to_web_mercator(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` from lon/lat (EPSG:4326) to EPSG:3857."""
    return shapely.transform(geoms, lambda lonlat: np.column_stack(
        to_mercator_xy(lonlat[:, 0], lonlat[:, 1])))


def to_mercator_xy(lon, lat):
    lat = np.clip(np.asarray(lat, dtype=float), -MAX_LAT, MAX_LAT)
    x = np.radians(np.asarray(lon, dtype=float)) * EARTH_RADIUS_M
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * EARTH_RADIUS_M
    return x, y


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    return (math.degrees(x / EARTH_RADIUS_M),
            math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS_M)) - math.pi / 2))


# ---- the disk cache ----------------------------------------------------------------------------

@functools.cache
def _code_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def cache_path(path: str | Path, *, cache_dir: str | Path) -> Path:
    """Where the prepared basemap of ``path`` is cached: ``<cache_dir>/basemap/<key>.npz``."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from exc
    key = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, FORMAT_VERSION,
                      _code_digest()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return Path(cache_dir) / "basemap" / f"{path.name.split('.')[0]}-{digest}.npz"


def load_basemap(path: str | Path, *, cache_dir: str | Path) -> Basemap:
    """The basemap of ``path``, from the cache in ``cache_dir`` or read (and then cached)."""
    target = cache_path(path, cache_dir=cache_dir)
    if target.exists():
        try:
            return _load(target)
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            log.warning("basemap cache %s is damaged (%s); reading the extract again", target,
                        str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__)
            with contextlib.suppress(OSError):
                target.unlink()
    basemap = read_basemap(path)
    try:
        write_atomically(target, lambda partial: _save(basemap, partial), field="cache")
    except SourceError as exc:  # a read-only cache only costs a re-read next time
        log.warning("basemap not cached: %s", exc)
    return basemap


def _save(basemap: Basemap, target: Path) -> None:
    arrays: dict[str, Any] = {}
    kinds = {}
    for name, geoms in basemap.layers.items():
        if not len(geoms):
            continue
        kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
        kinds[name] = [int(kind), len(offsets)]
        arrays[f"{name}.coords"] = coords
        for level, offset in enumerate(offsets):
            arrays[f"{name}.offsets{level}"] = offset
    meta = {"format": FORMAT_VERSION, "source": basemap.source,
            "bounds_lonlat": list(basemap.bounds_lonlat), "kinds": kinds,
            "layers": list(basemap.layers), "places": [p.to_dict() for p in basemap.places]}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(target, "wb") as handle:
        np.savez(handle, **arrays)


def _load(target: Path) -> Basemap:
    with open(target, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
        meta = json.loads(stored["meta"].tobytes())
        if meta["format"] != FORMAT_VERSION:
            raise ValueError(f"format {meta['format']}, not {FORMAT_VERSION}")
        layers = {}
        for name in meta["layers"]:
            if name not in meta["kinds"]:
                layers[name] = _empty()
                continue
            kind, levels = meta["kinds"][name]
            offsets = tuple(stored[f"{name}.offsets{level}"] for level in range(levels))
            layers[name] = shapely.from_ragged_array(GeometryType(kind), stored[f"{name}.coords"],
                                                     offsets)
    places = tuple(Place(**{**p, "names": MappingProxyType(p["names"])})
                   for p in meta["places"])
    west, south, east, north = meta["bounds_lonlat"]
    return Basemap(MappingProxyType(layers), places, (west, south, east, north),
                   source=meta["source"])
