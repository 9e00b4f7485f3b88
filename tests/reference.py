"""Independent references for tests: networkx graphs with one edge per OSM segment.

Two builds, neither using the routing code:

- :func:`split_graph`: the network's roads cut back into their OSM segments (from the geometry
  points and the per-point cumulative times the build stores), with points inserted on the
  segment they lie on. Checks the searches, joins and partial-edge costs.
- :func:`osm_graph`: the unsimplified graph read straight from the OSM file with osmium (the tag
  rules of :mod:`geo.network.osm_tags` decide which ways and directions are usable and their
  speeds; lengths by this module's own haversine). Checks the build's per-point times as well,
  and, with zones, that barriers act only where they are.

Within one OSM segment the speed is constant, so splitting a segment in proportion to distance
is exact.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import shapely
import shapely.ops

from geo.network import osm_tags

_ALONG = {"travel_time_s": "geom_cum_time_s", "length_m": "geom_cum_length_m"}


def split_graph(net, points: dict, costs=None, *, weight: str = "travel_time_s",
                zones=()) -> nx.MultiDiGraph:
    """networkx graph of ``net`` at OSM-segment level with each snapped point inserted.

    ``points`` maps a node name to a one-point Snapped. ``costs`` (one per edge, default the
    network's ``weight``) scale each edge's segments in proportion to their share of the edge's
    ``weight``; edges whose cost is inf (blocked) are left out. ``zones`` ((geometry in the
    network's CRS, factor; inf blocks)) act on exactly the parts of the pieces they cover.
    """
    costs = np.asarray(getattr(net, f"edge_{weight}") if costs is None else costs, dtype=float)
    along = np.asarray(getattr(net, _ALONG[weight]))
    stops: dict[int, list[tuple[float, object]]] = {}
    for name, snapped in points.items():
        if snapped.on_network[0]:
            stops.setdefault(int(snapped.geom[0]), []).append((float(snapped.fraction[0]), name))
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(points)
    for g in range(net.n_geometries):
        chain = _geometry_chain(net, g, along, stops.get(g, []), zones)
        for side in (0, 1):
            e = int(net.geom_edges[g, side])
            if e < 0 or not np.isfinite(costs[e]):
                continue
            total = float(along[net.geom_offsets[g + 1] - 1])
            scale = costs[e] / total if total > 0 else 0.0
            for a, b, share in chain:
                if side == 0 or share == 0.0:
                    graph.add_edge(a, b, weight=share * scale)
                if side == 1 or share == 0.0:
                    graph.add_edge(b, a, weight=share * scale)
    return graph


def _geometry_chain(net, g: int, along: np.ndarray, stops,
                    zones=()) -> list[tuple[object, object, float]]:
    """(from, to, cost) pieces of geometry ``g`` from its first to its last point, with the
    stops (fraction, name) inserted; interior points are named ``("p", g, k)``."""
    lo, hi = int(net.geom_offsets[g]), int(net.geom_offsets[g + 1])
    xy = np.asarray(net.geom_xy[lo:hi])
    cum = along[lo:hi] - along[lo]
    dist = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    length = dist[-1]
    forward = int(net.geom_edges[g, 0])
    names = [("p", g, k) for k in range(hi - lo)]
    names[0], names[-1] = int(net.edge_tail[forward]), int(net.edge_head[forward])
    # Each position: (distance along, cost along, name); stops interpolate within their segment.
    positions = [(dist[k], cum[k], names[k]) for k in range(hi - lo)]
    for fraction, name in stops:
        d = fraction * length
        positions.append((d, float(np.interp(d, dist, cum)), name))
    positions.sort(key=lambda p: p[0])  # stable: a stop comes after a point at the same place
    pieces = []
    line = net.geometries[g]
    for (d0, c0, a), (d1, c1, b) in zip(positions[:-1], positions[1:]):
        cost = max(c1 - c0, 0.0)
        if zones and d1 > d0:
            # the zones' factor over this piece, which lies within one segment
            cost *= _zone_factor(line, d0 / length, d1 / length, zones) * length / (d1 - d0)
        if np.isfinite(cost):
            pieces.append((a, b, cost))
    # A point exactly at a road's end *is* at that junction, whatever the road's direction.
    for fraction, name in stops:
        if fraction in (0.0, 1.0):
            node = names[0] if fraction == 0.0 else names[-1]
            pieces += [(node, name, 0.0), (name, node, 0.0)]
    return pieces


def path_cost(graph, source, target) -> float:
    try:
        return nx.dijkstra_path_length(graph, source, target)
    except nx.NetworkXNoPath:
        return np.inf


# ---------------------------------------------------------------------------------------------
# Straight from the OSM file

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


class OsmGraph:
    """The unsimplified ``mode`` graph of an OSM file: nodes are OSM node ids, one directed edge
    per usable direction of each segment, with its travel time, and each segment's line in the
    network's projected CRS (for inserting points and cutting by zones)."""

    def __init__(self, path, mode: str, to_xy, *, walk_speed_kph=osm_tags.DEFAULT_WALK_SPEED_KPH):
        import osmium

        self.graph = nx.MultiDiGraph()
        self.segments: list[tuple[int, int, bool, bool, float, float]] = []
        lines = []
        processor = osmium.FileProcessor(str(path)).with_locations().with_filter(
            osmium.filter.KeyFilter("highway"))
        for way in processor:
            if not isinstance(way, osmium.osm.Way):
                continue
            tags = {t.k: t.v for t in way.tags}
            if not osm_tags.is_usable(tags, mode):
                continue
            forward, backward = osm_tags.directions(tags, mode)
            speed_kph = walk_speed_kph if mode == "walk" else osm_tags.drive_speed_kph(
                tags, osm_tags.DEFAULT_DRIVE_SPEEDS_KPH)
            nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
            for (u, lon1, lat1), (v, lon2, lat2) in zip(nodes[:-1], nodes[1:]):
                if u == v:
                    continue
                length = haversine_m(lon1, lat1, lon2, lat2)
                self.segments.append((u, v, forward, backward, length, length / (speed_kph / 3.6)))
                x, y = to_xy.transform([lon1, lon2], [lat1, lat2])
                lines.append(shapely.LineString(np.column_stack([x, y])))
        self.lines = np.asarray(lines, dtype=object)
        self.index = shapely.STRtree(self.lines)

    def build(self, points_xy: dict, zones=()) -> nx.MultiDiGraph:
        """The graph with the named points (projected x, y, each on its nearest segment)
        inserted, and ``zones`` ((geometry in the projected CRS, factor; inf blocks)) applied to
        exactly the parts of segments they cover."""
        stops: dict[int, list[tuple[float, object]]] = {}
        for name, (x, y) in points_xy.items():
            i = int(self.index.nearest(shapely.Point(x, y)))
            at = self.lines[i].line_locate_point(shapely.Point(x, y), normalized=True)
            stops.setdefault(i, []).append((float(at), name))
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(points_xy)
        for i, (u, v, forward, backward, _, time_s) in enumerate(self.segments):
            cuts = sorted(stops.get(i, []), key=lambda s: s[0])
            ends = [(0.0, u), *cuts, (1.0, v)]
            for (f0, a), (f1, b) in zip(ends[:-1], ends[1:]):
                cost = time_s * _zone_factor(self.lines[i], f0, f1, zones)
                if not np.isfinite(cost):
                    continue
                if forward:
                    graph.add_edge(a, b, weight=cost)
                if backward:
                    graph.add_edge(b, a, weight=cost)
        return graph


def _zone_factor(line, f0: float, f1: float, zones) -> float:
    """Mean cost factor over fractions f0..f1 of ``line`` (as a share of the whole segment):
    inf when a blocking zone touches that part, else each bit weighted by the largest factor of
    the zones containing it."""
    if f1 <= f0:
        return 0.0
    piece = shapely.ops.substring(line, f0, f1, normalized=True)
    if not zones:
        return f1 - f0
    cuts = {f0, f1}
    for zone, factor in zones:
        if not piece.intersects(zone):
            continue
        if not np.isfinite(factor):
            return np.inf
        for part in shapely.get_parts(piece.intersection(zone)):
            ends = [part] if part.geom_type == "Point" else [shapely.get_point(part, 0),
                                                            shapely.get_point(part, -1)]
            for point in ends:
                cuts.add(float(line.line_locate_point(point, normalized=True)))
    bounds = sorted(c for c in cuts if f0 <= c <= f1)
    total = 0.0
    for a, b in zip(bounds[:-1], bounds[1:]):
        middle = line.interpolate((a + b) / 2, normalized=True)
        factor = max([f for z, f in zones if z.intersects(middle)] or [1.0])
        total += (b - a) * factor
    return total


def reached_roads(osm: OsmGraph, at_xy, budget: float, *, reverse: bool = False):
    """The parts of the OSM segments reached within ``budget`` from the point ``at_xy`` (to it,
    when ``reverse``), by networkx on the unsimplified graph: each usable direction of a segment
    from the node it is entered at (the node it leads to, coming in) as far as the budget left
    there goes, time spread evenly along the segment (one speed per OSM segment)."""
    graph = osm.build({"F": at_xy})
    cost = nx.single_source_dijkstra_path_length(graph.reverse() if reverse else graph, "F",
                                                 cutoff=budget, weight="weight")
    parts = [shapely.Point(at_xy)]
    for (u, v, forward, backward, _, time_s), line in zip(osm.segments, osm.lines):
        for usable, tail, head in ((forward, u, v), (backward, v, u)):
            entry = head if reverse else tail
            if not usable or entry not in cost:
                continue
            share = min(1.0, (budget - cost[entry]) / time_s) if time_s > 0 else 1.0
            lo, hi = (0.0, share) if entry == u else (1.0 - share, 1.0)
            parts.append(shapely.ops.substring(line, lo, hi, normalized=True))
    return shapely.union_all(parts)
