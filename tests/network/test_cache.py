"""The network cache: a damaged entry is rebuilt with a warning, a cache that cannot be written
costs only the caching."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from geo.network.build import build_network
from geo.network.model import ARRAY_FIELDS
from tests.conftest import MONACO


def _replace(path: Path, data: bytes) -> None:
    # A new file, not the mapped one rewritten: a process mapping a file that shrinks under it
    # is killed (SIGBUS) when it reads past the new end.
    path.unlink()
    path.write_bytes(data)


DAMAGE = {
    "truncated array": lambda entry: _replace(entry / "edge_tail.npy",
                                              (entry / "edge_tail.npy").read_bytes()[:300]),
    "empty array": lambda entry: _replace(entry / "node_xy.npy", b""),
    "array of another shape": lambda entry: np.save(entry / "edge_head.npy",
                                                    np.arange(3, dtype=np.int32)),
    "missing array": lambda entry: (entry / "fwd_edges.npy").unlink(),
    "garbled header": lambda entry: _replace(entry / "meta.json", b"\x00\xff{garbage"),
    "missing header": lambda entry: (entry / "meta.json").unlink(),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_entry_is_built_again_with_a_warning(tmp_path, caplog, damage):
    cache = tmp_path / "cache"
    entry = Path(build_network(MONACO, mode="drive", cache_dir=cache).meta["cache_path"])
    DAMAGE[damage](entry)
    with caplog.at_level(logging.WARNING, logger="geo.network.cache"):
        rebuilt = build_network(MONACO, mode="drive", cache_dir=cache)
    assert f"network cache {entry} is damaged" in caplog.text
    reference = build_network(MONACO, mode="drive", use_cache=False)
    for name in ARRAY_FIELDS:
        assert np.array_equal(getattr(rebuilt, name), getattr(reference, name)), name
    caplog.clear()
    again = build_network(MONACO, mode="drive", cache_dir=cache)  # the entry is whole again
    assert isinstance(again.edge_tail.base, np.memmap) and "damaged" not in caplog.text


def test_a_cache_that_cannot_be_written_only_costs_the_caching(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="geo.network.build"):
        net = build_network(MONACO, mode="drive", cache_dir=blocker / "cache")
    assert net.n_edges > 0 and "cache_path" not in net.meta
    assert "cannot cache the drive network" in caplog.text
