"""Contract chains of degree-2 nodes into single edges, in vectorised numpy.

Input is a directed graph of OSM segments (one directed edge per direction a segment may be
travelled). A node is *interior* when traffic can only pass straight through it: exactly two
neighbours and either two-way on both sides (in = out = 2) or one-way through (in = out = 1).
Every other node (junction, dead end, direction change, self loop) is an endpoint. Each chain of
edges from an endpoint through interior nodes to the next endpoint becomes one edge; its node
sequence is kept so that the edge's true geometry survives.

Chains are found without a Python loop per node: each edge points to the edge that continues it
through an interior head node; pointer jumping (log₂ of the longest chain rounds) gives every edge
its chain's first edge and its position in the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Chains:
    """Chains of input edges. Chain ``c`` is ``edges[bounds[c]:bounds[c + 1]]`` in travel order."""

    edges: np.ndarray
    bounds: np.ndarray
    tail: np.ndarray  # first node of each chain
    head: np.ndarray  # last node of each chain
    node_offsets: np.ndarray  # chain c's node sequence is nodes[node_offsets[c]:node_offsets[c+1]]
    nodes: np.ndarray
    twin: np.ndarray  # the chain running the same way in reverse, or -1

    @property
    def count(self) -> int:
        return len(self.bounds) - 1


def contract_chains(tail: np.ndarray, head: np.ndarray, segment: np.ndarray,
                    n_nodes: int) -> Chains:
    """Chains of the directed edges ``tail[i] -> head[i]``.

    ``segment[i]`` names the physical segment edge ``i`` runs along (the two directions of a
    two-way segment share it); it pairs each two-way chain with its reverse twin.
    """
    interior = _interior_nodes(tail, head, n_nodes)
    while True:
        root, depth, unresolved = _chain_roots(tail, head, interior, n_nodes)
        if not unresolved.any():
            break
        # Closed loops of interior nodes have no endpoint to start from: cut them open.
        interior[tail[unresolved]] = False
    order = np.lexsort((depth, root))
    starts = np.flatnonzero(np.r_[True, root[order][1:] != root[order][:-1]])
    bounds = np.r_[starts, len(order)]
    chain_tail = tail[order[bounds[:-1]]]
    chain_head = head[order[bounds[1:] - 1]]
    node_offsets, nodes = _node_sequences(tail, head, order, bounds)
    twin = _pair_twins(segment[order[bounds[:-1]]], segment[order[bounds[1:] - 1]])
    return Chains(order, bounds, chain_tail, chain_head, node_offsets, nodes, twin)


def _interior_nodes(tail, head, n_nodes) -> np.ndarray:
    out_deg = np.bincount(tail, minlength=n_nodes)
    in_deg = np.bincount(head, minlength=n_nodes)
    out_lo, out_hi = _neighbour_range(tail, head, n_nodes)
    in_lo, in_hi = _neighbour_range(head, tail, n_nodes)
    two_way = (
        (out_deg == 2) & (in_deg == 2) & (out_lo != out_hi) & (out_lo == in_lo) & (out_hi == in_hi)
    )
    one_way = (out_deg == 1) & (in_deg == 1) & (out_lo != in_lo)
    interior = two_way | one_way
    interior[tail[tail == head]] = False
    return interior


def _neighbour_range(frm, to, n_nodes) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest neighbour id of every node along the edges ``frm -> to``."""
    lo = np.full(n_nodes, np.iinfo(np.int64).max)
    hi = np.full(n_nodes, -1)
    np.minimum.at(lo, frm, to)
    np.maximum.at(hi, frm, to)
    return lo, hi


def _next_edges(tail, head, interior, n_nodes) -> tuple[np.ndarray, np.ndarray]:
    """For each edge ending in an interior node: that edge and the edge continuing it."""
    out_order = np.argsort(tail, kind="stable")
    out_ptr = np.r_[0, np.cumsum(np.bincount(tail, minlength=n_nodes))]
    edges = np.flatnonzero(interior[head])
    via = head[edges]
    first = out_order[out_ptr[via]]
    second = out_order[np.minimum(out_ptr[via] + 1, len(tail) - 1)]
    one_out = (out_ptr[via + 1] - out_ptr[via]) == 1
    # Two-way through node: continue on the out-edge that does not turn back.
    following = np.where(one_out | (head[first] != tail[edges]), first, second)
    return edges, following


def _chain_roots(tail, head, interior, n_nodes):
    n_edges = len(tail)
    previous = np.arange(n_edges)
    edges, following = _next_edges(tail, head, interior, n_nodes)
    previous[following] = edges
    is_start = ~interior[tail]
    ancestor = previous
    depth = (~is_start).astype(np.int64)
    for _ in range(int(np.log2(max(n_edges, 2))) + 2):
        pending = ~is_start[ancestor]
        if not pending.any():
            break
        depth = depth + depth[ancestor]
        ancestor = ancestor[ancestor]
    return ancestor, depth, np.flatnonzero(~is_start[ancestor])


def _node_sequences(tail, head, order, bounds):
    n_chains = len(bounds) - 1
    chain_of_position = np.repeat(np.arange(n_chains), np.diff(bounds))
    nodes = np.empty(len(order) + n_chains, dtype=tail.dtype)
    nodes[np.arange(len(order)) + chain_of_position] = tail[order]
    last = bounds[1:] - 1
    nodes[last + np.arange(n_chains) + 1] = head[order[last]]
    return bounds + np.arange(n_chains + 1), nodes


def _pair_twins(first_segment, last_segment) -> np.ndarray:
    """A two-way chain and its reverse run over the same segments, first and last swapped."""
    key_lo = np.minimum(first_segment, last_segment)
    key_hi = np.maximum(first_segment, last_segment)
    order = np.lexsort((key_hi, key_lo))
    same = (key_lo[order][1:] == key_lo[order][:-1]) & (key_hi[order][1:] == key_hi[order][:-1])
    twin = np.full(len(first_segment), -1)
    left, right = order[:-1][same], order[1:][same]
    twin[left], twin[right] = right, left
    return twin
