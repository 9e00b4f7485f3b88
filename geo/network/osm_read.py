"""Read road ways from OSM sources into one plain form: a columnar :class:`WayTable`.

Sources: ``.osm.pbf`` and ``.osm`` / ``.osm.gz`` / ``.osm.bz2`` XML (both read by libosmium through
pyosmium, so a PBF is never turned into XML), osmnx GraphML files, and networkx graphs from an
online osmnx query (place name, bbox or polygon).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, cast

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


class Way(NamedTuple):
    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    tags: dict[str, str]


@dataclass(frozen=True)
class WayTable:
    """Road ways in columns: way ``w`` is points ``offsets[w]:offsets[w + 1]``.

    ``lon``/``lat`` are NaN where an extract lacks a node; no segment is made to or from such a
    point, so a way with missing nodes is split instead of jumping across the gap.
    """

    node_ids: np.ndarray  # int64, one per point
    lon: np.ndarray
    lat: np.ndarray
    offsets: np.ndarray
    tags: list[dict[str, str]]

    def __len__(self) -> int:
        return len(self.tags)

    def __iter__(self) -> Iterator[Way]:
        for w, tags in enumerate(self.tags):
            part = slice(self.offsets[w], self.offsets[w + 1])
            yield Way(self.node_ids[part], self.lon[part], self.lat[part], tags)

    @classmethod
    def from_lists(cls, ids, lon, lat, sizes, tags) -> WayTable:
        return cls(np.asarray(ids, dtype=np.int64), np.asarray(lon, dtype=float),
                   np.asarray(lat, dtype=float),
                   np.r_[0, np.cumsum(np.asarray(sizes, dtype=np.int64))], list(tags))


def source_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(GRAPHML_SUFFIXES):
        return "graphml"
    if name.endswith(OSM_SUFFIXES):
        return "osm"
    raise SourceError(
        f"{path}: unknown file type; expected one of {', '.join(OSM_SUFFIXES + GRAPHML_SUFFIXES)}"
    )


def read_ways(path: Path) -> WayTable:
    """All ways with a ``highway`` tag in an OSM file or osmnx GraphML file."""
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if source_kind(path) == "graphml":
        return ways_from_graphml(path)
    return _ways_from_osm_file(path)


_UNDEFINED = 2147483647  # libosmium's undefined coordinate
_WANTED = frozenset(WAY_TAGS)


def _ways_from_osm_file(path: Path) -> WayTable:
    import osmium

    ids: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    sizes: list[int] = []
    tags: list[dict[str, str]] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for entity in processor:
            way = cast("osmium.osm.Way", entity)  # the entity filter lets only ways through
            tags.append({tag.k: tag.v for tag in way.tags if tag.k in _WANTED})
            sizes.append(_append_nodes(way.nodes, ids, xs, ys))
    except (RuntimeError, ValueError, OSError) as exc:
        raise SourceError(f"{path}: cannot read OSM data ({_first_line(exc)})") from exc
    x, y = np.asarray(xs, dtype=np.int64), np.asarray(ys, dtype=np.int64)
    missing = (x == _UNDEFINED) | (y == _UNDEFINED)
    lon = np.where(missing, np.nan, x * 1e-7)
    lat = np.where(missing, np.nan, y * 1e-7)
    return WayTable.from_lists(ids, lon, lat, sizes, tags)


def _append_nodes(nodes, ids: list, xs: list, ys: list) -> int:
    """Append a way's node ids and fixed-point coordinates; returns the node count.

    pyosmium's public iteration wraps every node in Python objects, which made reading 3-4x
    slower on large extracts; the pinned pyosmium 4.3 exposes the underlying list, used here
    when present.
    """
    ref_list = getattr(nodes, "_list", None)
    data = getattr(nodes, "_pyosmium_data", None)
    if ref_list is None or data is None:
        refs = list(nodes)
    else:
        get = ref_list.get
        refs = [get(data, i) for i in range(ref_list.size(data))]
    for ref in refs:
        ids.append(ref.ref)
        xs.append(ref.x)
        ys.append(ref.y)
    return len(refs)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def ways_from_graphml(path: Path) -> WayTable:
    import osmnx

    try:
        graph = osmnx.io.load_graphml(path)
    except Exception as exc:  # osmnx/networkx raise many kinds on a broken file
        raise SourceError(f"{path}: cannot read GraphML ({_first_line(exc)})") from exc
    return ways_from_osmnx_graph(graph)


def ways_from_osmnx_graph(graph) -> WayTable:
    """Ways from an osmnx MultiDiGraph (simplified or not).

    osmnx stores a two-way street as two directed edges along the same points in opposite
    orders; those become one two-way way here, so that a snapped point can leave in both
    directions. The pair is found by its geometry, not by osmnx's ``reversed`` flag, which
    simplification turns into a list (``[False, True]``) where a street joins ways drawn in
    opposite directions. Interior geometry points of simplified edges get negative ids of
    their own.
    """
    nodes = graph.nodes
    next_virtual_id = -1
    ids, lons, lats, sizes = [], [], [], []
    tags: list[dict[str, str]] = []
    # The ways without their way back yet, by (u, v, points): several OSM ways may join the
    # same two nodes along the same points.
    one_way: dict[tuple, list[tuple[int, frozenset]]] = defaultdict(list)
    for u, v, data in graph.edges(data=True):
        if "geometry" in data:
            lon, lat = (list(a) for a in data["geometry"].xy)
        else:
            lon, lat = [nodes[u]["x"], nodes[v]["x"]], [nodes[u]["y"], nodes[v]["y"]]
        osm_ids = _osm_ids(data)
        twin = _take_twin(one_way[v, u, tuple(lon[::-1]), tuple(lat[::-1])], osm_ids)
        if twin is not None:
            tags[twin]["oneway"] = "no"  # the way back along the same points
            continue
        one_way[u, v, tuple(lon), tuple(lat)].append((len(tags), osm_ids))
        way_tags = {k: _tag_text(k, data[k]) for k in WAY_TAGS if data.get(k) is not None}
        way_tags["oneway"] = "yes"
        inner = len(lon) - 2
        ids += [int(u), *range(next_virtual_id, next_virtual_id - inner, -1), int(v)]
        next_virtual_id -= inner
        lons += lon
        lats += lat
        sizes.append(len(lon))
        tags.append(way_tags)
    return WayTable.from_lists(ids, lons, lats, sizes, tags)


def _osm_ids(data) -> frozenset:
    value = data.get("osmid")
    return frozenset(map(str, value)) if isinstance(value, list) else frozenset([str(value)])


def _take_twin(candidates: list[tuple[int, frozenset]], osm_ids: frozenset) -> int | None:
    """The way back among ``candidates`` (removed from them): the one of the same OSM ways,
    else the first."""
    if not candidates:
        return None
    chosen = next((c for c in candidates if c[1] == osm_ids), candidates[0])
    candidates.remove(chosen)
    return chosen[0]


def _tag_text(key: str, value) -> str:
    """osmnx keeps merged tags as lists: the first highway class, and all maxspeeds."""
    if isinstance(value, list):
        return str(value[0]) if key == "highway" else ";".join(str(v) for v in value)
    return str(value)


def ways_from_online_query(
    *, place: str | None = None, bbox: tuple[float, float, float, float] | None = None,
    polygon=None, mode: str,
) -> WayTable:
    """Download roads with osmnx (needs internet) and return them as ways.

    ``bbox`` is (west, south, east, north) as in osmnx 2. The download is unsimplified and keeps
    all components, so that this module's own filters, simplification and component choice apply
    exactly as for a file.
    """
    import osmnx

    network_type = "drive_service" if mode == "drive" else "walk"
    try:
        if place is not None:
            graph = osmnx.graph_from_place(place, network_type=network_type, simplify=False,
                                           retain_all=True)
        elif bbox is not None:
            graph = osmnx.graph_from_bbox(bbox, network_type=network_type, simplify=False,
                                          retain_all=True)
        elif polygon is not None:
            graph = osmnx.graph_from_polygon(polygon, network_type=network_type, simplify=False,
                                             retain_all=True)
        else:
            raise SourceError("online query: give a place, a bbox or a polygon")
    except SourceError:
        raise
    except Exception as exc:  # network errors, geocoder misses, empty responses
        raise SourceError(f"online query failed: {_first_line(exc)}") from exc
    return ways_from_osmnx_graph(graph)
