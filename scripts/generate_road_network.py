"""Generate a seeded, road-like OpenStreetMap network as a real ``.osm.pbf`` (for benchmarks).

    python scripts/generate_road_network.py --nodes 250000 --seed 0 --out /tmp/roads.osm.pbf

The town sits near lon 9.5, lat 47.1 and is made of:

- a jittered grid of local streets (``residential`` / ``unclassified``), 80-120 m blocks, with a
  share of the block edges removed (dead ends, irregular blocks);
- a sparser grid of arterials (``primary`` / ``secondary`` / ``tertiary``) that is never cut,
  with ``maxspeed`` written in several styles (``50``, ``30 mph``, ``CH:urban``, ``DE:rural``, or
  absent);
- one-way local streets (``oneway=yes`` and ``oneway=-1``), only where both ends join other
  streets; now and then (as in real data) one-way streets still trap a small pocket of streets,
  which the build drops with the islands (190 of the 866,000 nodes for seed 0, 250,000);
- roundabouts (``junction=roundabout``, closed ways, counter-clockwise) at arterial crossings;
- two dual-carriageway motorways (``highway=motorway``, one-way implied, grade-separated from
  the streets they cross) with ``motorway_link`` ramps at every fourth arterial;
- footways (``highway=footway``) across blocks and where a street was removed;
- a few small islands of streets that do not touch the town (dropped as unreachable);
- shape nodes (degree 2) along every block edge, so simplification has work to do.

``--nodes`` is the number of *junctions* the drive network should have after simplification (nodes
of the largest connected drive component whose degree is not 2). The generator counts them itself
on its own ways, sizes the grid once from a first draft, and builds the final network from that
size, so the count lands within about one percent of the target. The same ``--nodes`` and
``--seed`` give the same file.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import osmium
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

ORIGIN_LON, ORIGIN_LAT = 9.5, 47.1
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(ORIGIN_LAT))
TIMESTAMP = "2024-01-01T00:00:00Z"  # fixed, so a seed always gives the same bytes

BLOCK_M = (80.0, 120.0)  # spacing of the street grid
JITTER_M = 6.0  # junction position noise
REMOVED_SHARE = 0.12  # local block edges removed
ARTERIAL_EVERY = 8  # every 8th row/column of the grid is an arterial
RAMP_EVERY = 4  # motorway interchanges at every 4th arterial crossing
RAMP_OFFSET_M = 250.0  # ramps join the motorway this far before/after the crossing
CARRIAGEWAY_M = 12.0  # half the distance between the two carriageways
MOTORWAY_NODE_M = 150.0
ROUNDABOUT_RADIUS_M = 20.0
ROUNDABOUT_NODES = 12  # ring nodes; approaches join at 0, 3, 6, 9 (E, N, W, S)
ONEWAY_SHARE = 0.08  # of the local ways that may be one-way
FOOTWAY_BLOCK_SHARE = 0.04  # blocks crossed by a diagonal footway
FOOTWAY_REMOVED_SHARE = 0.3  # removed streets that survive as a footway
ISLANDS = 3
ISLAND_SIZE = 6  # junctions per side of an island grid
SHAPE_NODES = (0, 1, 2, 3)
SHAPE_NODE_P = (0.3, 0.35, 0.2, 0.15)
JUNCTIONS_PER_GRID_NODE = 0.88  # first guess, corrected by the draft count

ARTERIAL_MAXSPEEDS = ("50", "30 mph", "CH:urban", "DE:rural", None)
LOCAL_MAXSPEEDS = ("30", None, None, None, None)
MOTORWAY_MAXSPEEDS = ("120", None)


@dataclass
class Town:
    """Nodes (metres east/north of the origin) and ways (node indices, tags) being generated."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    n_nodes: int = 0
    ways: list[tuple[np.ndarray, dict[str, str]]] = field(default_factory=list)

    def add_nodes(self, x, y) -> np.ndarray:
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        ids = np.arange(self.n_nodes, self.n_nodes + len(x))
        self.x.append(x)
        self.y.append(y)
        self.n_nodes += len(x)
        return ids

    def add_way(self, nodes, tags: dict[str, str]) -> None:
        self.ways.append((np.asarray(nodes, dtype=np.int64), tags))

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.x), np.concatenate(self.y)


@dataclass
class Grid:
    """The street grid: junction indices, positions and which block edges exist."""

    node: np.ndarray  # (ny, nx) town node index of each grid junction
    x: np.ndarray  # (ny, nx)
    y: np.ndarray
    h_kept: np.ndarray  # (ny, nx-1) edge (i, j)-(i+1, j) exists
    v_kept: np.ndarray  # (ny-1, nx) edge (i, j)-(i, j+1) exists
    h_shape: list[np.ndarray]  # shape node indices per horizontal edge, flattened row-major
    v_shape: list[np.ndarray]
    art_rows: np.ndarray  # bool (ny,)
    art_cols: np.ndarray  # bool (nx,)
    ring: dict[int, np.ndarray]  # roundabout: grid node index -> ring node indices

    @property
    def shape(self) -> tuple[int, int]:
        return self.node.shape


def generate(junctions: int, seed: int) -> Town:
    """The town whose drive network has about ``junctions`` junctions (see the module doc)."""
    side = max(ARTERIAL_EVERY + 2, round(math.sqrt(junctions / JUNCTIONS_PER_GRID_NODE)))
    draft = count_drive_junctions(_town(side, seed, junctions))
    side = max(ARTERIAL_EVERY + 2, round(side * math.sqrt(junctions / max(draft, 1))))
    return _town(side, seed, junctions)


def _town(side: int, seed: int, junctions: int) -> Town:
    rng = np.random.default_rng(seed)
    town = Town()
    grid = _grid(town, rng, side, side, origin=(0.0, 0.0), arterials=True)
    n_roundabouts = int(np.clip(junctions // 20_000, 2, 20))
    _roundabouts(town, grid, rng, n_roundabouts)
    _street_ways(town, grid, rng)
    _motorway(town, grid, rng, along="x")
    _motorway(town, grid, rng, along="y")
    _footways(town, grid, rng)
    width = grid.x[:, -1].max()
    for k in range(ISLANDS):
        island = _grid(town, rng, ISLAND_SIZE, ISLAND_SIZE, arterials=False,
                       origin=(k * width / ISLANDS + 500.0, -1500.0))
        _street_ways(town, island, rng)
    return town


def _grid(town: Town, rng, nx: int, ny: int, *, origin, arterials: bool) -> Grid:
    col_x = origin[0] + np.r_[0.0, np.cumsum(rng.uniform(*BLOCK_M, nx - 1))]
    row_y = origin[1] + np.r_[0.0, np.cumsum(rng.uniform(*BLOCK_M, ny - 1))]
    gx = col_x[None, :] + rng.normal(0.0, JITTER_M, (ny, nx))
    gy = row_y[:, None] + rng.normal(0.0, JITTER_M, (ny, nx))
    node = town.add_nodes(gx.ravel(), gy.ravel()).reshape(ny, nx)
    if arterials:
        art_rows = (np.arange(ny) % ARTERIAL_EVERY) == rng.integers(ARTERIAL_EVERY)
        art_cols = (np.arange(nx) % ARTERIAL_EVERY) == rng.integers(ARTERIAL_EVERY)
    else:
        art_rows, art_cols = np.zeros(ny, bool), np.zeros(nx, bool)
    h_kept = (rng.random((ny, nx - 1)) >= REMOVED_SHARE) | art_rows[:, None]
    v_kept = (rng.random((ny - 1, nx)) >= REMOVED_SHARE) | art_cols[None, :]
    h_shape = _shape_nodes(town, rng, gx[:, :-1], gy[:, :-1], gx[:, 1:], gy[:, 1:])
    v_shape = _shape_nodes(town, rng, gx[:-1, :], gy[:-1, :], gx[1:, :], gy[1:, :])
    return Grid(node, gx, gy, h_kept, v_kept, h_shape, v_shape, art_rows, art_cols, {})


def _shape_nodes(town: Town, rng, x0, y0, x1, y1) -> list[np.ndarray]:
    """Intermediate nodes of every block edge: a gentle bow plus noise, listed from 0 to 1."""
    x0, y0, x1, y1 = (a.ravel() for a in (x0, y0, x1, y1))
    counts = rng.choice(SHAPE_NODES, size=len(x0), p=SHAPE_NODE_P)
    edge = np.repeat(np.arange(len(x0)), counts)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    t = (np.arange(len(edge)) - first[edge] + 1) / (counts[edge] + 1)
    bow = rng.normal(0.0, 4.0, len(x0))[edge] * np.sin(np.pi * t)
    dx, dy = x1 - x0, y1 - y0
    length = np.hypot(dx, dy)
    nx_, ny_ = -dy / length, dx / length  # unit normal
    px = x0[edge] + t * dx[edge] + bow * nx_[edge] + rng.normal(0.0, 1.0, len(edge))
    py = y0[edge] + t * dy[edge] + bow * ny_[edge] + rng.normal(0.0, 1.0, len(edge))
    ids = town.add_nodes(px, py)
    return np.split(ids, np.cumsum(counts)[:-1])


def _roundabouts(town: Town, grid: Grid, rng, count: int) -> None:
    """Rings at arterial crossings (away from the border); the centre junction is not used."""
    ny, nx = grid.shape
    rows = np.flatnonzero(grid.art_rows[1:-1]) + 1
    cols = np.flatnonzero(grid.art_cols[1:-1]) + 1
    crossings = [(j, i) for j in rows for i in cols]
    if not crossings:
        return
    picks = rng.choice(len(crossings), size=min(count, len(crossings)), replace=False)
    angles = np.arange(ROUNDABOUT_NODES) * 2 * np.pi / ROUNDABOUT_NODES
    for k in np.sort(picks):
        j, i = crossings[k]
        cx, cy = grid.x[j, i], grid.y[j, i]
        ring = town.add_nodes(cx + ROUNDABOUT_RADIUS_M * np.cos(angles),
                              cy + ROUNDABOUT_RADIUS_M * np.sin(angles))
        grid.ring[int(grid.node[j, i])] = ring
        highway = _arterial_class(j, i, grid)
        town.add_way(np.r_[ring, ring[0]], {"highway": highway, "junction": "roundabout"})


def _arterial_class(j: int, i: int, grid: Grid) -> str:
    rank = max(_line_rank(j, grid.art_rows), _line_rank(i, grid.art_cols))
    return ("tertiary", "secondary", "primary")[rank]


def _line_rank(k: int, arterial: np.ndarray) -> int:
    """0 tertiary, 1 secondary, 2 primary (-1 for a local line), from the arterial's number."""
    if not arterial[k]:
        return -1
    number = int(np.count_nonzero(arterial[:k]))
    return 2 if number % 4 == 0 else 1 if number % 2 == 0 else 0


def _street_ways(town: Town, grid: Grid, rng) -> None:
    """Cut every row and column of kept edges into ways and tag them."""
    ny, nx = grid.shape
    degree = np.zeros((ny, nx), int)
    degree[:, :-1] += grid.h_kept
    degree[:, 1:] += grid.h_kept
    degree[:-1, :] += grid.v_kept
    degree[1:, :] += grid.v_kept
    for j in range(ny):
        row_shapes = grid.h_shape[j * (nx - 1):(j + 1) * (nx - 1)]
        _line_ways(town, grid, rng, grid.node[j], grid.h_kept[j], row_shapes, degree[j],
                   _line_rank(j, grid.art_rows), steps=(1, 0))
    for i in range(nx):
        _line_ways(town, grid, rng, grid.node[:, i], grid.v_kept[:, i], grid.v_shape[i::nx],
                   degree[:, i], _line_rank(i, grid.art_cols), steps=(0, 1))


def _line_ways(town: Town, grid: Grid, rng, nodes, kept, shapes, degree, rank: int,
               steps) -> None:
    """Ways along one grid line: runs of kept edges, split every few blocks and at roundabouts."""
    arterial = rank >= 0
    runs = np.flatnonzero(np.diff(np.r_[0, kept.astype(np.int8), 0]))
    for start, stop in zip(runs[::2], runs[1::2], strict=True):
        edge = start
        while edge < stop:
            length = int(rng.integers(4, 17) if arterial else rng.integers(1, 7))
            end = min(stop, edge + length)
            for k in range(edge + 1, end):  # split at roundabouts
                if int(nodes[k]) in grid.ring:
                    end = k
                    break
            way = _expand(grid, nodes, shapes, edge, end, steps)
            town.add_way(way, _street_tags(rng, rank, degree[edge] >= 2 and degree[end] >= 2))
            edge = end


def _expand(grid: Grid, nodes, shapes, first: int, last: int, steps) -> np.ndarray:
    """Node indices of the way over edges ``first..last-1`` of a line, with shape nodes."""
    parts = []
    for k in range(first, last):
        parts.append([nodes[k]])
        parts.append(shapes[k])
    parts.append([nodes[last]])
    seq = np.concatenate(parts).astype(np.int64)
    dx, dy = steps
    # An approach to a roundabout ends on the ring node that faces it: E=0, N=3, W=6, S=9.
    if int(seq[0]) in grid.ring:
        seq[0] = grid.ring[int(seq[0])][0 if dx else 3]
    if int(seq[-1]) in grid.ring:
        seq[-1] = grid.ring[int(seq[-1])][6 if dx else 9]
    return seq


def _street_tags(rng, rank: int, may_be_oneway: bool) -> dict[str, str]:
    if rank >= 0:
        tags = {"highway": ("tertiary", "secondary", "primary")[rank]}
        speed = ARTERIAL_MAXSPEEDS[rng.integers(len(ARTERIAL_MAXSPEEDS))]
    else:
        tags = {"highway": "residential" if rng.random() < 0.8 else "unclassified"}
        speed = LOCAL_MAXSPEEDS[rng.integers(len(LOCAL_MAXSPEEDS))]
        if may_be_oneway and rng.random() < ONEWAY_SHARE:
            tags["oneway"] = "yes" if rng.random() < 0.5 else "-1"
    if speed is not None:
        tags["maxspeed"] = speed
    return tags


def _motorway(town: Town, grid: Grid, rng, *, along: str) -> None:
    """A dual carriageway between two grid lines, crossing streets on bridges, with ramps.

    ``along="x"`` runs west-east between two rows, ``"y"`` south-north between two columns.
    Traffic keeps right: the forward carriageway (increasing x or y) is on the right of the
    centre line and its ramps meet the grid line on that side.
    """
    lines, cross = (grid.art_rows, grid.art_cols) if along == "x" else (
        grid.art_cols, grid.art_rows)
    base = _local_pair(lines, 0.4 if along == "x" else 0.6)
    cross_lines = np.flatnonzero(cross)
    if base is None or len(cross_lines) < 2:
        return
    if along == "x":
        centre = 0.5 * (grid.y[base].mean() + grid.y[base + 1].mean())
        cross_at = grid.x[base].copy()
        right, side_nodes = -1.0, (grid.node[base], grid.node[base + 1])
    else:
        centre = 0.5 * (grid.x[:, base].mean() + grid.x[:, base + 1].mean())
        cross_at = grid.y[:, base].copy()
        right, side_nodes = 1.0, (grid.node[:, base + 1], grid.node[:, base])
    interchanges = cross_lines[::RAMP_EVERY]
    if interchanges[-1] != cross_lines[-1]:
        interchanges = np.r_[interchanges, cross_lines[-1]]
    s0, s1 = cross_at[interchanges[0]] + RAMP_OFFSET_M, cross_at[interchanges[-1]] - RAMP_OFFSET_M
    if s1 - s0 < 2 * MOTORWAY_NODE_M:
        return
    s = np.linspace(s0, s1, int((s1 - s0) // MOTORWAY_NODE_M) + 1)

    def place(along_m, offset_m):
        wobble = rng.normal(0.0, 2.0, np.size(along_m))
        return (along_m, centre + offset_m + wobble) if along == "x" else (
            centre + offset_m + wobble, along_m)

    for direction, side in ((1, 0), (-1, 1)):
        offset = right * CARRIAGEWAY_M * direction
        lane = town.add_nodes(*place(s, offset))  # ordered by increasing s
        cuts = {0, len(s) - 1}  # positions in travel order where ways split
        for c in interchanges:
            at, street = cross_at[c], int(side_nodes[side][c])
            ramp_tags = {"highway": "motorway_link", "oneway": "yes"}
            for leaving, ramp_s in ((True, at - direction * RAMP_OFFSET_M),
                                    (False, at + direction * RAMP_OFFSET_M)):
                if s0 - 1 <= ramp_s <= s1 + 1:
                    k = int(np.argmin(np.abs(s - ramp_s)))
                    cuts.add(k if direction == 1 else len(s) - 1 - k)
                    town.add_way(_ramp(town, grid, lane[k], street, leaving=leaving), ramp_tags)
        order = lane if direction == 1 else lane[::-1]
        cuts = sorted(cuts)
        # One way per stretch between ramps, as OSM mappers split them.
        for a, b in pairwise(cuts):
            tags = {"highway": "motorway"}
            speed = MOTORWAY_MAXSPEEDS[rng.integers(len(MOTORWAY_MAXSPEEDS))]
            if speed is not None:
                tags["maxspeed"] = speed
            town.add_way(order[a:b + 1], tags)


def _ramp(town: Town, grid: Grid, lane_node: int, street: int, *, leaving: bool) -> np.ndarray:
    """A slip road between a carriageway node and a street junction, with two shape nodes."""
    x, y = town.xy()
    t = np.array([1 / 3, 2 / 3])
    px = x[lane_node] + t * (x[street] - x[lane_node])
    py = y[lane_node] + t * (y[street] - y[lane_node])
    bend = town.add_nodes(px, py)
    return np.r_[lane_node, bend, street] if leaving else np.r_[street, bend[::-1], lane_node]


def _local_pair(arterial: np.ndarray, at: float) -> int | None:
    """First line k from ``at`` of the way across with k and k+1 both local streets."""
    for k in range(int(at * (len(arterial) - 1)), len(arterial) - 1):
        if not arterial[k] and not arterial[k + 1]:
            return k
    return None


def _footways(town: Town, grid: Grid, rng) -> None:
    ny, nx = grid.shape
    cells = np.flatnonzero(rng.random((ny - 1) * (nx - 1)) < FOOTWAY_BLOCK_SHARE)
    for cell in cells:
        j, i = divmod(int(cell), nx - 1)
        a, b = grid.node[j, i], grid.node[j + 1, i + 1]
        if int(a) in grid.ring or int(b) in grid.ring:
            continue
        mid = town.add_nodes(0.5 * (grid.x[j, i] + grid.x[j + 1, i + 1]) + rng.normal(0, 8.0),
                             0.5 * (grid.y[j, i] + grid.y[j + 1, i + 1]) + rng.normal(0, 8.0))
        town.add_way(np.r_[a, mid, b], {"highway": "footway"})
    for kept, shapes, step in ((grid.h_kept, grid.h_shape, (0, 1)),
                               (grid.v_kept, grid.v_shape, (1, 0))):
        removed = np.flatnonzero(~kept.ravel())
        removed = removed[rng.random(len(removed)) < FOOTWAY_REMOVED_SHARE]
        width = kept.shape[1]
        for e in removed:
            j, i = divmod(int(e), width)
            a, b = grid.node[j, i], grid.node[j + step[0], i + step[1]]
            town.add_way(np.r_[a, shapes[e], b], {"highway": "footway"})


def count_drive_junctions(town: Town) -> int:
    """Nodes of degree != 2 in the largest connected component of the drivable ways."""
    pairs = []
    for nodes, tags in town.ways:
        if tags["highway"] != "footway" and len(nodes) > 1:
            pairs.append(np.c_[nodes[:-1], nodes[1:]])
    edges = np.concatenate(pairs)
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    edges = edges[edges[:, 0] != edges[:, 1]]
    n = town.n_nodes
    graph = sp.coo_array((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    used = np.zeros(n, bool)
    used[edges.ravel()] = True
    biggest = np.bincount(labels[used]).argmax()
    degree = np.bincount(edges.ravel(), minlength=n)
    return int(np.count_nonzero(used & (labels == biggest) & (degree != 2)))


def write_pbf(town: Town, out: Path) -> tuple[int, int]:
    """Write the used nodes (ids 1.., ascending) then the ways; returns (nodes, ways)."""
    x, y = town.xy()
    used = np.zeros(town.n_nodes, bool)
    for nodes, _ in town.ways:
        used[nodes] = True
    osm_id = np.cumsum(used)  # 1-based ids in creation order, for the used nodes
    lon = np.round(ORIGIN_LON + x / M_PER_DEG_LON, 7)
    lat = np.round(ORIGIN_LAT + y / M_PER_DEG_LAT, 7)
    header = osmium.io.Header()
    header.set("generator", "emergency-geo scripts/generate_road_network.py")
    header.add_box(osmium.osm.Box(osmium.osm.Location(float(lon[used].min()),
                                                      float(lat[used].min())),
                                  osmium.osm.Location(float(lon[used].max()),
                                                      float(lat[used].max()))))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial.osm.pbf")
    partial.unlink(missing_ok=True)
    common = {"version": 1, "timestamp": TIMESTAMP, "changeset": 1, "uid": 1, "user": "generator"}
    writer = osmium.SimpleWriter(str(partial), header=header)
    try:
        for k in np.flatnonzero(used):
            location = (float(lon[k]), float(lat[k]))
            writer.add_node(osmium.osm.mutable.Node(id=int(osm_id[k]), location=location,
                                                    **common))
        for way_id, (nodes, tags) in enumerate(town.ways, start=1):
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=osm_id[nodes].tolist(),
                                                  tags=tags, **common))
    finally:
        writer.close()
    os.replace(partial, out)
    return int(used.sum()), len(town.ways)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=250_000,
                        help="junctions of the simplified drive network (default 250000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output .osm.pbf path")
    args = parser.parse_args(argv)
    if args.nodes < 100:
        parser.error("--nodes: must be at least 100")
    if not args.out.name.endswith(".osm.pbf"):
        parser.error("--out: must end in .osm.pbf")
    started = time.perf_counter()
    town = generate(args.nodes, args.seed)
    junctions = count_drive_junctions(town)
    nodes, ways = write_pbf(town, args.out)
    print(f"wrote {args.out}: {nodes:,} nodes, {ways:,} ways; {junctions:,} drive junctions "
          f"(target {args.nodes:,}), seed {args.seed}, {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
