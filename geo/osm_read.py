"""Read road ways from OSM sources into one plain form: :class:`RawWay`.

Sources: ``.osm.pbf`` and ``.osm`` / ``.osm.gz`` / ``.osm.bz2`` XML (both read by libosmium through
pyosmium, so a PBF is never turned into XML), osmnx GraphML files, and networkx graphs from an
online osmnx query (place name, bbox or polygon).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.errors import SourceError

log = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".osm.xml")
GRAPHML_SUFFIXES = (".graphml", ".graphml.gz")
# The tags the mode filters and speed model read; everything else is dropped at read time.
WAY_TAGS = (
    "highway", "area", "access", "service", "motorcar", "motor_vehicle", "vehicle", "foot",
    "motorroad", "oneway", "junction", "maxspeed",
)


@dataclass(frozen=True)
class RawWay:
    """One road way: OSM node ids, their lon/lat, and the tags that matter for routing."""

    node_ids: np.ndarray  # int64
    lon: np.ndarray
    lat: np.ndarray
    tags: dict[str, str]


def source_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(GRAPHML_SUFFIXES):
        return "graphml"
    if name.endswith(OSM_SUFFIXES):
        return "osm"
    raise SourceError(
        f"{path}: unknown file type; expected one of {', '.join(OSM_SUFFIXES + GRAPHML_SUFFIXES)}"
    )


def read_ways(path: Path) -> list[RawWay]:
    """All ways with a ``highway`` tag in an OSM file or osmnx GraphML file."""
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if source_kind(path) == "graphml":
        return ways_from_graphml(path)
    return _ways_from_osm_file(path)


def _ways_from_osm_file(path: Path) -> list[RawWay]:
    import osmium

    ways: list[RawWay] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            ways.extend(_split_at_missing(way))
    except (RuntimeError, ValueError, OSError) as exc:
        raise SourceError(f"{path}: cannot read OSM data ({_first_line(exc)})") from exc
    return ways


def _split_at_missing(way) -> list[RawWay]:
    """A way as RawWay pieces; nodes missing from an extract split the way instead of jumping."""
    tags = {key: way.tags[key] for key in WAY_TAGS if key in way.tags}
    ids, lon, lat, pieces = [], [], [], []
    for node in way.nodes:
        location = node.location
        if location.valid():
            ids.append(node.ref)
            lon.append(location.lon)
            lat.append(location.lat)
            continue
        pieces.append((ids, lon, lat))
        ids, lon, lat = [], [], []
    pieces.append((ids, lon, lat))
    return [
        RawWay(np.asarray(i, dtype=np.int64), np.asarray(x), np.asarray(y), tags)
        for i, x, y in pieces
        if len(i) >= 2
    ]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def ways_from_graphml(path: Path) -> list[RawWay]:
    import osmnx

    try:
        graph = osmnx.io.load_graphml(path)
    except Exception as exc:  # osmnx/networkx raise many kinds on a broken file
        raise SourceError(f"{path}: cannot read GraphML ({_first_line(exc)})") from exc
    return ways_from_osmnx_graph(graph)


def ways_from_osmnx_graph(graph) -> list[RawWay]:
    """Ways from an osmnx MultiDiGraph (simplified or not).

    osmnx stores a two-way street as two directed edges, the second marked ``reversed``; those
    become one two-way way here so that a snapped point can leave in both directions. Interior
    geometry points of simplified edges get negative ids of their own.
    """
    nodes = graph.nodes
    next_virtual_id = -1
    ways = []
    for u, v, key, data in graph.edges(keys=True, data=True):
        is_reverse_copy = str(data.get("reversed", False)) == "True"
        if is_reverse_copy and graph.has_edge(v, u):
            continue  # its forward twin carries the way as two-way
        tags = {k: _tag_text(data[k]) for k in WAY_TAGS if data.get(k) is not None}
        two_way = graph.has_edge(v, u) and any(
            str(d.get("reversed", False)) == "True" for d in graph[v][u].values()
        )
        tags["oneway"] = "no" if two_way else "yes"
        if "geometry" in data:
            lon, lat = (np.asarray(a, dtype=float) for a in data["geometry"].xy)
        else:
            lon = np.array([nodes[u]["x"], nodes[v]["x"]], dtype=float)
            lat = np.array([nodes[u]["y"], nodes[v]["y"]], dtype=float)
        inner = len(lon) - 2
        ids = np.empty(len(lon), dtype=np.int64)
        ids[0], ids[-1] = int(u), int(v)
        ids[1:-1] = np.arange(next_virtual_id, next_virtual_id - inner, -1)
        next_virtual_id -= inner
        ways.append(RawWay(ids, lon, lat, tags))
    return ways


def _tag_text(value) -> str:
    """osmnx keeps merged tags as lists; the first highway class and all maxspeeds matter."""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def ways_from_online_query(
    *, place: str | None = None, bbox: tuple[float, float, float, float] | None = None,
    polygon=None, mode: str,
) -> list[RawWay]:
    """Download roads with osmnx (needs internet) and return them as ways.

    ``bbox`` is (west, south, east, north) as in osmnx 2. The download is unsimplified and keeps
    all components, so that this module's own filters, simplification and component choice apply
    exactly as for a file.
    """
    import osmnx

    network_type = "drive_service" if mode == "drive" else "walk"
    options = {"network_type": network_type, "simplify": False, "retain_all": True}
    try:
        if place is not None:
            graph = osmnx.graph_from_place(place, **options)
        elif bbox is not None:
            graph = osmnx.graph_from_bbox(bbox, **options)
        elif polygon is not None:
            graph = osmnx.graph_from_polygon(polygon, **options)
        else:
            raise SourceError("online query: give a place, a bbox or a polygon")
    except SourceError:
        raise
    except Exception as exc:  # network errors, geocoder misses, empty responses
        raise SourceError(f"online query failed: {_first_line(exc)}") from exc
    return ways_from_osmnx_graph(graph)
