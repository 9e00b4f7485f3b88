"""Other sources than a file: osmnx GraphML, and the online osmnx path with a recorded response."""

import json
from pathlib import Path

import numpy as np
import osmnx
import pytest
import responses
import shapely

from geo.errors import SourceError
from geo.network.build import build_network, build_network_online
from geo.network.osm_read import read_ways
from geo.routing.search import shortest_from_nodes
from tests.conftest import MONACO

OVERPASS = Path(__file__).resolve().parents[1] / "data" / "overpass_monaco.json"
BBOX = (7.4130, 43.7260, 7.4260, 43.7340)


def test_graphml_from_osmnx_builds_the_same_roads(tmp_path, networks):
    graph = osmnx.graph_from_xml(MONACO, simplify=True, retain_all=False)
    path = tmp_path / "monaco.graphml"
    osmnx.io.save_graphml(graph, path)
    from_graphml = build_network(path, mode="walk", use_cache=False)
    direct = networks("monaco", "walk")
    # Junctions kept by both builds, and walking times between them.
    common, in_graphml, in_direct = np.intersect1d(
        from_graphml.node_osm_id, direct.node_osm_id, return_indices=True)
    assert len(common) > 0.7 * direct.n_nodes
    a = shortest_from_nodes(from_graphml, in_graphml[:20])[:, in_graphml]
    b = shortest_from_nodes(direct, in_direct[:20])[:, in_direct]
    close = np.isclose(a, b, rtol=1e-3) | (np.isinf(a) & np.isinf(b))
    # osmnx's GraphML keeps fewer tags (no foot/access hierarchy), so a few paths differ.
    assert close.mean() > 0.9


def test_graphml_two_way_streets_are_one_two_way_way_each(tmp_path):
    # osmnx's simplification turns the "reversed" flag into a list ([False, True]) where a
    # street joins OSM ways drawn in opposite directions; such streets must stay two-way.
    graph = osmnx.graph_from_xml(MONACO, simplify=True, retain_all=False)
    path = tmp_path / "monaco.graphml"
    osmnx.io.save_graphml(graph, path)
    graph = osmnx.io.load_graphml(path)
    flagged = {frozenset((u, v)) for u, v, d in graph.edges(data=True)
               if isinstance(d.get("reversed"), list)}
    assert flagged  # the case this test is about is in the data
    ways = read_ways(path)
    two_way = np.array([tags["oneway"] == "no" for tags in ways.tags])
    # Every directed edge of the graph once: a two-way way stands for two.
    assert len(ways) + two_way.sum() == graph.number_of_edges()
    ends = {frozenset((int(way.node_ids[0]), int(way.node_ids[-1]))): way
            for way, both in zip(ways, two_way) if both}
    assert all(pair in ends for pair in flagged)
    # No road left as two one-way copies running along the same points.
    one_way = [tuple(zip(way.lon, way.lat)) for way, both in zip(ways, two_way) if not both]
    assert not set(one_way) & {points[::-1] for points in one_way}


def test_broken_graphml(tmp_path):
    path = tmp_path / "broken.graphml"
    path.write_text("<graphml><graph><node id=")
    with pytest.raises(SourceError, match="cannot read GraphML"):
        build_network(path, use_cache=False)


@pytest.fixture
def recorded_overpass(monkeypatch):
    """Serve osmnx's Overpass request from the recorded response; no network is touched."""
    monkeypatch.setattr(osmnx.settings, "overpass_url", "http://127.0.0.1/api")
    monkeypatch.setattr(osmnx.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(osmnx.settings, "use_cache", False)
    monkeypatch.setattr(osmnx.settings, "log_console", False)
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "http://127.0.0.1/api/interpreter",
                 json=json.loads(OVERPASS.read_text()))
        yield mock


def test_online_bbox_query_uses_the_same_build(recorded_overpass):
    net = build_network_online(mode="drive", bbox=BBOX)
    assert len(recorded_overpass.calls) == 1
    assert net.n_nodes > 50 and net.meta["source"].startswith("bbox")
    west, south, east, north = net.bounds_lonlat
    assert BBOX[0] - 0.01 < west and east < BBOX[2] + 0.01
    reached = shortest_from_nodes(net, 0)
    assert np.isfinite(reached).all()


def test_online_polygon_query(recorded_overpass):
    polygon = shapely.box(*BBOX)
    net = build_network_online(mode="walk", polygon=polygon)
    assert net.n_nodes > 50 and net.mode == "walk"


def test_online_query_failure_is_a_source_error(monkeypatch):
    monkeypatch.setattr(osmnx.settings, "overpass_url", "http://127.0.0.1/api")
    monkeypatch.setattr(osmnx.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(osmnx.settings, "use_cache", False)
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "http://127.0.0.1/api/interpreter", status=400,
                 json={"remark": "runtime error: bad request"})
        with pytest.raises(SourceError, match="online query failed"):
            build_network_online(mode="drive", bbox=BBOX)
    with pytest.raises(SourceError, match="give a place, a bbox or a polygon"):
        build_network_online(mode="drive")
