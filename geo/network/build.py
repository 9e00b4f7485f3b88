"""Build routable road networks from OpenStreetMap data.

:func:`build_network` turns an OSM source into an immutable :class:`RoadNetwork` of numpy arrays:
filter the ways by travel mode, give every segment a length and a travel time, keep the largest
strongly connected component, contract degree-2 chains (keeping their geometry), project to the
extract's UTM zone and lay the edges out as forward and reverse CSR adjacency. Results are cached
on disk by the source's content hash, the mode and the settings.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from geo.core.resources import LIECHTENSTEIN_OSM, data_path
from geo.errors import NoRoadsError, ValidationError
from geo.network import cache as netcache
from geo.network import osm_tags
from geo.network.model import ARRAY_FIELDS, NetworkSettings, RoadNetwork

if TYPE_CHECKING:
    from geo.network.osm_read import WayTable

# What only a build needs (reading OSM, contracting chains, progress bars, projecting) is
# imported where a build starts: loading a network from the cache, which every query does,
# needs none of it.

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_OSM = data_path(LIECHTENSTEIN_OSM)



def build_network(
    source: str | Path = DEFAULT_OSM, *, mode: str = "drive",
    settings: NetworkSettings | None = None,
    cache_dir: str | Path | None = None, use_cache: bool = True, progress: bool = False,
) -> RoadNetwork:
    """Build (or load from the disk cache) the ``mode`` network of an OSM file or GraphML file."""
    mode = check_mode(mode)
    settings = settings or NetworkSettings()
    path = Path(source)
    key = None
    if use_cache:
        key = netcache.cache_key(path, mode=mode, settings=settings.key(mode),
                                 cache_dir=cache_dir)
        cached = netcache.load(key, cache_dir=cache_dir, factory=RoadNetwork)
        if cached is not None:
            return cached
    from geo.network.osm_read import read_ways

    net = _build(lambda: read_ways(path), source_name=path.name, mode=mode, settings=settings,
                 progress=progress)
    if key is not None:
        try:
            cache_path = netcache.save(net, key, cache_dir=cache_dir, fields=ARRAY_FIELDS)
        except OSError as exc:  # a full or read-only cache costs a build next time, no more
            log.warning("cannot cache the %s network (%s); using it uncached", mode,
                        exc.strerror or exc)
            return net
        netcache.remember_hash(path, cache_dir=cache_dir)
        net = netcache.load(key, cache_dir=cache_dir, factory=RoadNetwork) or net
        log.info("cached %s network at %s", mode, cache_path)
    return net


def build_network_online(
    *, mode: str = "drive", place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None, polygon=None,
    settings: NetworkSettings | None = None, progress: bool = False,
) -> RoadNetwork:
    """Build a network from an osmnx download (place name, (west, south, east, north) or polygon).

    Needs internet; the downloaded ways go through the same filters and build as a file does.
    """
    mode = check_mode(mode)
    label = place or (f"bbox {bbox}" if bbox is not None else "polygon")

    def download():
        from geo.network.osm_read import ways_from_online_query

        return ways_from_online_query(place=place, bbox=bbox, polygon=polygon, mode=mode)

    return _build(download, source_name=label, mode=mode, settings=settings or NetworkSettings(),
                  progress=progress)


def check_mode(mode: str) -> str:
    if mode not in osm_tags.MODES:
        raise ValidationError(
            f"mode: unknown mode {mode!r}; expected one of {', '.join(osm_tags.MODES)}")
    return mode


def _build(read, *, source_name: str, mode: str, settings: NetworkSettings,
           progress: bool) -> RoadNetwork:
    from geo.core.progress import Stages, on_terminal

    started = time.perf_counter()
    stages = Stages(5, description=f"building {mode} network", enabled=progress and on_terminal())
    try:
        stages.next("reading OSM ways")
        ways = read()
        stages.next("filtering and timing segments")
        segments = _segments(ways, mode, settings)
        if segments is None:
            raise NoRoadsError(f"{source_name}: no roads usable for mode {mode!r}")
        stages.next("keeping the largest connected component")
        graph = _directed_graph(segments)
        keep = _largest_strong_component(graph)
        stages.next("simplifying")
        chains, dropped = _assemble(graph, keep)
        stages.next("projecting")
        net = _finish(chains, segments, graph, dropped, mode=mode)
    finally:
        stages.close()
    meta = {**net.meta, "source": source_name, "settings": settings.key(mode),
            "build_seconds": round(time.perf_counter() - started, 3)}
    object.__setattr__(net, "meta", MappingProxyType(meta))
    log.info("built %s network of %s: %d nodes, %d edges", mode, source_name, net.n_nodes,
             net.n_edges)
    return net


@dataclass
class _Segments:
    """OSM node-to-node segments of the usable ways."""

    node_osm_id: np.ndarray
    node_lon: np.ndarray
    node_lat: np.ndarray
    u: np.ndarray  # node index
    v: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    length_m: np.ndarray
    speed_mps: np.ndarray


def _segments(ways: WayTable, mode: str, settings: NetworkSettings) -> _Segments | None:
    usable = np.array([osm_tags.is_usable(tags, mode) for tags in ways.tags], dtype=bool)
    if not usable.any():
        return None
    chosen = np.flatnonzero(usable)
    directions = np.zeros((len(ways), 2), dtype=bool)
    directions[chosen] = [osm_tags.directions(ways.tags[w], mode) for w in chosen]
    speeds_kph = np.ones(len(ways))
    speeds_kph[chosen] = [_speed_kph(ways.tags[w], mode, settings) for w in chosen]
    way_of_point = np.repeat(np.arange(len(ways)), np.diff(ways.offsets))
    # A segment joins each point to the next point of the same usable way, both located.
    located = np.isfinite(ways.lon) & np.isfinite(ways.lat)
    first = np.flatnonzero((way_of_point[:-1] == way_of_point[1:]) & usable[way_of_point[:-1]]
                           & located[:-1] & located[1:])
    points = np.unique(np.r_[first, first + 1])
    node_osm_id, first_seen, index = np.unique(ways.node_ids[points], return_index=True,
                                               return_inverse=True)
    position = np.empty(len(ways.node_ids), dtype=np.int64)
    position[points] = index
    u, v = position[first], position[first + 1]
    distinct = u != v  # repeated node refs give zero-length self segments
    first, u, v = first[distinct], u[distinct], v[distinct]
    way = way_of_point[first]
    lon, lat = ways.lon, ways.lat
    length = _haversine_m(lon[first], lat[first], lon[first + 1], lat[first + 1])
    return _Segments(node_osm_id, lon[points][first_seen], lat[points][first_seen], u, v,
                     directions[way, 0], directions[way, 1], length, speeds_kph[way] / 3.6)


def _speed_kph(tags, mode: str, settings: NetworkSettings) -> float:
    if mode == "walk":
        return settings.walk_speed_kph
    if not settings.use_maxspeed:
        tags = {k: v for k, v in tags.items() if k != "maxspeed"}
    return osm_tags.drive_speed_kph(tags, settings.drive_speeds_kph)


def _haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass
class _Directed:
    """One directed edge per allowed direction of each segment."""

    tail: np.ndarray
    head: np.ndarray
    segment: np.ndarray
    n_nodes: int


def _directed_graph(seg: _Segments) -> _Directed:
    fwd = np.flatnonzero(seg.forward)
    bwd = np.flatnonzero(seg.backward)
    return _Directed(
        tail=np.r_[seg.u[fwd], seg.v[bwd]], head=np.r_[seg.v[fwd], seg.u[bwd]],
        segment=np.r_[fwd, bwd], n_nodes=len(seg.node_osm_id),
    )


def _largest_strong_component(graph: _Directed) -> np.ndarray:
    """Mask of the nodes in the largest strongly connected component."""
    n = graph.n_nodes
    adjacency = sp.csr_array((np.ones(len(graph.tail)), (graph.tail, graph.head)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    used = np.zeros(n, dtype=bool)
    used[graph.tail] = used[graph.head] = True
    sizes = np.bincount(labels[used])
    return labels == np.argmax(sizes)


def _assemble(graph: _Directed, keep: np.ndarray):
    """Chains of the kept graph, and counts of what the dropped part would have been."""
    kept_edges = keep[graph.tail] & keep[graph.head]
    chains = _chains_of(graph, kept_edges)
    dropped_edges = ~kept_edges
    dropped_nodes = np.zeros(graph.n_nodes, dtype=bool)
    dropped_nodes[graph.tail[dropped_edges]] = dropped_nodes[graph.head[dropped_edges]] = True
    dropped_nodes &= ~keep
    inside = dropped_edges & dropped_nodes[graph.tail] & dropped_nodes[graph.head]
    dropped_chains = _chains_of(graph, inside) if inside.any() else None
    n_dropped_nodes = 0 if dropped_chains is None else len(np.unique(
        np.r_[dropped_chains.tail, dropped_chains.head]))
    n_dropped_edges = int((dropped_edges & ~inside).sum()) + (
        0 if dropped_chains is None else dropped_chains.count)
    dropped = {"dropped_nodes": n_dropped_nodes, "dropped_edges": n_dropped_edges,
               "dropped_segments": np.unique(graph.segment[dropped_edges])}
    return chains, dropped


def _chains_of(graph: _Directed, mask: np.ndarray):
    from geo.network.simplify import contract_chains

    edges = np.flatnonzero(mask)
    chains = contract_chains(graph.tail[edges], graph.head[edges], graph.segment[edges],
                             graph.n_nodes)
    # Translate chain edge numbers back to the full directed graph.
    return dataclasses.replace(chains, edges=edges[chains.edges])


def _finish(chains, seg: _Segments, graph: _Directed, dropped, *, mode: str):
    from geo.core.crs import utm_crs

    seg_time = seg.length_m / seg.speed_mps
    seg_of_edge = graph.segment[chains.edges]
    chain_length = np.add.reduceat(seg.length_m[seg_of_edge], chains.bounds[:-1])
    chain_time = np.add.reduceat(seg_time[seg_of_edge], chains.bounds[:-1])

    # Nodes: chain endpoints, renumbered 0..n-1.
    old_nodes, new_index = np.unique(np.r_[chains.tail, chains.head], return_inverse=True)
    tail = new_index[: chains.count].astype(np.int32)
    head = new_index[chains.count:].astype(np.int32)

    # Geometries: one per one-way chain, one per two-way pair (the lower chain is forward).
    is_forward = (chains.twin < 0) | (np.arange(chains.count) < chains.twin)
    geom_chain = np.flatnonzero(is_forward)
    geom_of_chain = np.empty(chains.count, dtype=np.int32)
    geom_of_chain[geom_chain] = np.arange(len(geom_chain))
    backward_chains = np.flatnonzero(~is_forward)
    geom_of_chain[backward_chains] = geom_of_chain[chains.twin[backward_chains]]
    geom_edges = np.stack([geom_chain, np.full(len(geom_chain), -1)], axis=1)
    geom_edges[geom_of_chain[backward_chains], 1] = backward_chains
    sizes = np.diff(chains.node_offsets)[geom_chain]
    geom_segments = seg_of_edge[_ranges(chains.bounds[geom_chain], sizes - 1)]
    geom_cum_time_s = _cumulative_per_geometry(seg_time[geom_segments], sizes)
    geom_cum_length_m = _cumulative_per_geometry(seg.length_m[geom_segments], sizes)
    point_nodes = chains.nodes[_ranges(chains.node_offsets[geom_chain], sizes)]
    geom_lonlat = np.column_stack([seg.node_lon[point_nodes], seg.node_lat[point_nodes]])

    crs = utm_crs(float(np.mean(geom_lonlat[:, 0])), float(np.mean(geom_lonlat[:, 1])))
    from pyproj import Transformer

    project = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    geom_xy = np.column_stack(project.transform(geom_lonlat[:, 0], geom_lonlat[:, 1]))
    node_lonlat = np.column_stack([seg.node_lon[old_nodes], seg.node_lat[old_nodes]])
    node_xy = np.column_stack(project.transform(node_lonlat[:, 0], node_lonlat[:, 1]))
    dropped_xy = _dropped_segments_xy(seg, dropped["dropped_segments"], project)

    n = len(old_nodes)
    fwd_edges = np.argsort(tail, kind="stable").astype(np.int32)
    rev_edges = np.argsort(head, kind="stable").astype(np.int32)
    return RoadNetwork(
        mode=mode, crs=crs,
        meta={"dropped_nodes": dropped["dropped_nodes"], "dropped_edges": dropped["dropped_edges"]},
        node_osm_id=seg.node_osm_id[old_nodes], node_lonlat=node_lonlat, node_xy=node_xy,
        edge_tail=tail, edge_head=head, edge_travel_time_s=chain_time, edge_length_m=chain_length,
        edge_geom=geom_of_chain, edge_reversed=~is_forward,
        geom_offsets=np.r_[0, np.cumsum(sizes)].astype(np.int64), geom_lonlat=geom_lonlat,
        geom_xy=geom_xy, geom_cum_time_s=geom_cum_time_s, geom_cum_length_m=geom_cum_length_m,
        geom_edges=geom_edges.astype(np.int32),
        fwd_indptr=np.r_[0, np.cumsum(np.bincount(tail, minlength=n))].astype(np.int64),
        fwd_edges=fwd_edges,
        rev_indptr=np.r_[0, np.cumsum(np.bincount(head, minlength=n))].astype(np.int64),
        rev_edges=rev_edges, dropped_xy=dropped_xy,
    )


def _cumulative_per_geometry(per_segment: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """At each geometry point, the sum of ``per_segment`` from the geometry's first point.

    Geometry ``g`` has ``sizes[g]`` points and ``sizes[g] - 1`` segments, listed in order.
    Simplification merges segments of different speeds into one edge, so a point partway along
    an edge needs these sums to get its exact share of the edge's travel time.
    """
    total = np.r_[0.0, np.cumsum(per_segment)]
    first_segment = np.cumsum(sizes - 1) - (sizes - 1)
    point_in_geom = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    segment_before = np.repeat(first_segment, sizes) + point_in_geom
    return total[segment_before] - np.repeat(total[first_segment], sizes)


def _dropped_segments_xy(seg: _Segments, segments: np.ndarray, project) -> np.ndarray:
    ends = np.r_[seg.u[segments], seg.v[segments]]
    x, y = project.transform(seg.node_lon[ends], seg.node_lat[ends])
    k = len(segments)
    return np.stack([np.column_stack([x[:k], y[:k]]), np.column_stack([x[k:], y[k:]])], axis=1)


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start, start + size)`` for each pair, without a Python loop."""
    ends = np.cumsum(sizes)
    return np.repeat(starts - (ends - sizes), sizes) + np.arange(ends[-1] if len(ends) else 0)
