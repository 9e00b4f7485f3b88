"""The road-network generator (scripts/generate_road_network.py) writes a real, seeded .osm.pbf."""

import subprocess
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

import osmium
import pytest

from geo.network.build import build_network

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_road_network.py"
TARGET = 2_000


def generate(out: Path, *, nodes: int = TARGET, seed: int = 0) -> str:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--nodes", str(nodes), "--seed", str(seed),
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def pbf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "town.osm.pbf"
    generate(path)
    return path


def read(path: Path):
    """(kinds in file order, node ids, way ids, way node refs, way tags) via pyosmium."""
    kinds, node_ids, way_ids, refs, tags = [], [], [], [], []
    for obj in osmium.FileProcessor(str(path)):
        if obj.is_node():
            kinds.append("n")
            node_ids.append(obj.id)
            assert obj.location.valid()
        elif obj.is_way():
            kinds.append("w")
            way_ids.append(obj.id)
            refs.append([n.ref for n in obj.nodes])
            tags.append(dict(obj.tags))
    return kinds, node_ids, way_ids, refs, tags


def test_pbf_is_well_formed(pbf):
    kinds, node_ids, way_ids, refs, _ = read(pbf)
    assert "".join(kinds) == "n" * len(node_ids) + "w" * len(way_ids)  # nodes before ways
    for ids in (node_ids, way_ids):
        assert ids[0] > 0 and all(a < b for a, b in pairwise(ids))
    known = set(node_ids)
    assert all(ref in known for way in refs for ref in way)
    used = {ref for way in refs for ref in way}
    assert used == known  # no stray nodes
    assert len(node_ids) > 2 * TARGET  # shape nodes for simplification to remove


def test_pbf_has_the_tag_styles(pbf):
    _, _, _, refs, tags = read(pbf)
    highways = Counter(t["highway"] for t in tags)
    for highway in ("residential", "unclassified", "primary", "secondary", "tertiary",
                    "motorway", "motorway_link", "footway"):
        assert highways[highway] > 0, highway
    arterial = [t for t in tags if t["highway"] in ("primary", "secondary", "tertiary")]
    speeds = {t.get("maxspeed") for t in arterial}
    assert {"50", "30 mph", "CH:urban", "DE:rural", None} <= speeds
    oneway = Counter(t.get("oneway") for t in tags if t["highway"] in ("residential",
                                                                       "unclassified"))
    assert oneway["yes"] > 0 and oneway["-1"] > 0
    motorways = [t for t in tags if t["highway"] == "motorway"]
    assert all("oneway" not in t for t in motorways)  # one-way is implied
    rings = [r for r, t in zip(refs, tags, strict=True) if t.get("junction") == "roundabout"]
    assert rings and all(r[0] == r[-1] for r in rings)


def test_same_seed_same_bytes_other_seed_differs(pbf, tmp_path):
    again, other = tmp_path / "again.osm.pbf", tmp_path / "other.osm.pbf"
    generate(again)
    generate(other, seed=1)
    assert again.read_bytes() == pbf.read_bytes()
    assert other.read_bytes() != pbf.read_bytes()


def test_drive_network_has_about_the_target_junctions(pbf, tmp_path):
    drive = build_network(pbf, mode="drive", cache_dir=tmp_path)
    assert abs(drive.n_nodes - TARGET) <= 0.05 * TARGET
    # Only the islands are cut off: one-way streets never strand a dead end.
    assert drive.meta["dropped_nodes"] < 0.1 * TARGET
    assert (drive.geom_edges[:, 1] == -1).any()  # one-way streets, ramps and motorways
    walk = build_network(pbf, mode="walk", cache_dir=tmp_path)
    assert (walk.geom_edges[:, 1] >= 0).all()


def test_rejects_bad_arguments(tmp_path):
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--nodes", "5", "--out", str(tmp_path / "x.osm.pbf")],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "--nodes" in result.stderr
    assert not (tmp_path / "x.osm.pbf").exists()
