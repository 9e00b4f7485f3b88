"""Building networks from the real Liechtenstein and Monaco extracts."""

import dataclasses
import gzip
import shutil

import numpy as np
import pytest
from pyproj import Geod
from scipy.sparse.csgraph import dijkstra

from geo.errors import NoRoadsError, SourceError, ValidationError
from geo.network.build import build_network
from geo.network.convert import to_csr
from geo.network.model import NetworkSettings
from geo.network.osm_read import read_ways
from geo.network.osm_tags import DEFAULT_DRIVE_SPEEDS_KPH
from tests.conftest import LIECHTENSTEIN, MONACO


def _segment_pairs(net) -> set:
    """Consecutive coordinate pairs of every road geometry, in both orders."""
    lonlat = np.round(np.asarray(net.geom_lonlat), 7)
    pairs = set()
    for g in range(net.n_geometries):
        pts = [tuple(p) for p in lonlat[net.geom_offsets[g]:net.geom_offsets[g + 1]]]
        for a, b in zip(pts[:-1], pts[1:]):
            pairs.add((a, b))
            pairs.add((b, a))
    return pairs


def _way_pairs(way) -> list:
    pts = list(zip(np.round(way.lon, 7), np.round(way.lat, 7)))
    return list(zip(pts[:-1], pts[1:]))


@pytest.fixture(scope="module")
def li_ways():
    return list(read_ways(LIECHTENSTEIN))


def test_road_closed_to_pedestrians_is_driven_not_walked(li_drive, li_walk, li_ways):
    # Neither real extract has a motorway; Liechtenstein has main roads tagged foot=no.
    closed = [w for w in li_ways if w.tags.get("foot") == "no"
              and w.tags["highway"] in ("primary", "secondary")]
    segments = [p for w in closed for p in _way_pairs(w)]
    assert len(segments) >= 2
    drive_pairs, walk_pairs = _segment_pairs(li_drive), _segment_pairs(li_walk)
    assert not any(p in walk_pairs for p in segments)
    assert all(p in drive_pairs for p in segments)


def test_motorway_footway_and_oneway_in_a_small_constructed_file(tmp_path):
    """A hand-written OSM file (not real data; neither extract has a motorway): a one-way
    motorway 1→5, a footway 11–15, two-way streets 5–22–15 and 15–16–11, and a one-way
    street 11→21→1 closing the driving loop."""
    nodes = {i: (47.10 + 0.001 * i, 9.50) for i in range(1, 6)}
    nodes.update({i: (47.10 + 0.001 * (i - 10), 9.51) for i in range(11, 16)})
    nodes.update({21: (47.1005, 9.505), 22: (47.1055, 9.505), 16: (47.103, 9.515)})
    ways = [
        (100, [1, 2, 3, 4, 5], {"highway": "motorway"}),
        (101, [11, 12, 13, 14, 15], {"highway": "footway"}),
        (102, [5, 22, 15], {"highway": "residential"}),
        (103, [15, 16, 11], {"highway": "residential"}),
        (104, [11, 21, 1], {"highway": "residential", "oneway": "yes"}),
    ]
    text = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6'>"]
    text += [f"<node id='{i}' version='1' lat='{lat}' lon='{lon}'/>"
             for i, (lat, lon) in nodes.items()]
    for wid, refs, tags in ways:
        text.append(f"<way id='{wid}' version='1'>" + "".join(f"<nd ref='{r}'/>" for r in refs)
                    + "".join(f"<tag k='{k}' v='{v}'/>" for k, v in tags.items()) + "</way>")
    path = tmp_path / "constructed.osm"
    path.write_text("\n".join(text + ["</osm>"]))

    drive = build_network(path, mode="drive", use_cache=False)
    walk = build_network(path, mode="walk", use_cache=False)
    points = {mode: {tuple(np.round(p, 7)) for p in np.asarray(net.geom_lonlat)}
              for mode, net in (("drive", drive), ("walk", walk))}
    motorway_inner = {(9.50, 47.102), (9.50, 47.103), (9.50, 47.104)}
    footway_inner = {(9.51, 47.102), (9.51, 47.103), (9.51, 47.104)}
    assert motorway_inner <= points["drive"] and motorway_inner.isdisjoint(points["walk"])
    assert footway_inner <= points["walk"] and footway_inner.isdisjoint(points["drive"])

    def travel_order(net, point):
        """Edges along the geometry holding ``point``, each as its points in travel order."""
        lonlat = np.round(np.asarray(net.geom_lonlat), 7)
        i = np.flatnonzero((lonlat == point).all(axis=1))[0]
        g = np.searchsorted(net.geom_offsets, i, side="right") - 1
        coords = lonlat[net.geom_offsets[g]:net.geom_offsets[g + 1]]
        return [coords[::-1] if net.edge_reversed[e] else coords
                for e in net.geom_edges[g] if e >= 0]

    (motorway,) = travel_order(drive, (9.50, 47.103))   # one edge only: one way...
    assert np.all(np.diff(motorway[motorway[:, 0] == 9.50][:, 1]) > 0)  # ...northwards, 1→5
    (oneway_street,) = travel_order(drive, (9.505, 47.1005))
    assert tuple(oneway_street[0]) == (9.51, 47.101)                 # 11→21→1, not back
    assert len(travel_order(drive, (9.505, 47.1055))) == 2           # two-way street
    assert (walk.geom_edges[:, 1] >= 0).all()                        # walking: all two-way
    # 1, 15 and the shape points were contracted: only junctions 5 and 11 are nodes.
    assert sorted(drive.node_osm_id.tolist()) == [5, 11]


@pytest.mark.parametrize("region", ["liechtenstein", "monaco"])
@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_kept_network_is_strongly_connected(networks, region, mode):
    net = networks(region, mode)
    for reverse in (False, True):
        adjacency = to_csr(net, np.asarray(net.edge_travel_time_s), reverse=reverse)
        reached = dijkstra(adjacency, indices=0)
        assert np.isfinite(reached).all()
    assert net.meta["dropped_nodes"] >= 0 and net.meta["dropped_edges"] >= 0


@pytest.mark.parametrize("region", ["liechtenstein", "monaco"])
def test_simplification_keeps_true_geometry_and_length(networks, region):
    net = networks(region, "drive")
    lonlat = np.radians(np.asarray(net.geom_lonlat))
    step = np.diff(lonlat, axis=0)
    a = (np.sin(step[:, 1] / 2) ** 2
         + np.cos(lonlat[:-1, 1]) * np.cos(lonlat[1:, 1]) * np.sin(step[:, 0] / 2) ** 2)
    seg = 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))
    within = np.ones(len(seg), dtype=bool)
    within[np.asarray(net.geom_offsets[1:-1]) - 1] = False  # pairs spanning two geometries
    per_geom = np.add.reduceat(np.where(within, seg, 0.0), np.asarray(net.geom_offsets[:-1]))
    forward = np.asarray(net.geom_edges[:, 0])
    np.testing.assert_allclose(net.edge_length_m[forward], per_geom, rtol=1e-9, atol=1e-6)
    # Geometry ends are the edge's nodes.
    first = np.asarray(net.geom_lonlat)[net.geom_offsets[:-1]]
    np.testing.assert_allclose(first, np.asarray(net.node_lonlat)[net.edge_tail[forward]])
    # Chains were contracted: far fewer nodes than geometry points.
    assert net.n_nodes < 0.5 * len(net.geom_lonlat)


def test_two_way_road_has_one_geometry_and_two_mirrored_edges(li_drive):
    pairs = li_drive.geom_edges[li_drive.geom_edges[:, 1] >= 0]
    fwd, bwd = pairs[:, 0], pairs[:, 1]
    np.testing.assert_array_equal(li_drive.edge_tail[fwd], li_drive.edge_head[bwd])
    np.testing.assert_allclose(li_drive.edge_length_m[fwd], li_drive.edge_length_m[bwd])
    assert li_drive.edge_reversed[bwd].all() and not li_drive.edge_reversed[fwd].any()


def test_network_is_immutable(li_drive):
    with pytest.raises(ValueError):
        li_drive.edge_travel_time_s[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        li_drive.mode = "walk"


def test_projected_crs_is_the_utm_zone_of_the_extract(li_drive):
    assert li_drive.crs == "EPSG:32632"  # Liechtenstein lies in UTM zone 32N
    x, y = li_drive.to_xy.transform(*np.asarray(li_drive.node_lonlat[:5]).T)
    np.testing.assert_allclose(np.column_stack([x, y]), li_drive.node_xy[:5])


def test_cache_reuses_and_rebuilds_on_changed_settings(tmp_path):
    source = tmp_path / "monaco.osm.gz"
    shutil.copy(MONACO, source)
    first = build_network(source, mode="drive", cache_dir=tmp_path / "cache")
    again = build_network(source, mode="drive", cache_dir=tmp_path / "cache")
    assert again.meta["cache_path"] == first.meta["cache_path"]
    assert isinstance(again.edge_tail.base, np.memmap)  # memory-mapped from the cache
    np.testing.assert_array_equal(first.edge_travel_time_s, again.edge_travel_time_s)
    slower = build_network(source, mode="drive", cache_dir=tmp_path / "cache",
                           settings=NetworkSettings(drive_speeds_kph={"residential": 10}))
    assert slower.meta["cache_path"] != first.meta["cache_path"]
    assert slower.edge_travel_time_s.sum() > first.edge_travel_time_s.sum()
    entries = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 2


def test_changed_source_content_rebuilds(tmp_path):
    source = tmp_path / "region.osm.gz"
    shutil.copy(MONACO, source)
    first = build_network(source, mode="walk", cache_dir=tmp_path)
    text = gzip.decompress(MONACO.read_bytes()).decode()
    steps = text.count("v=\"steps\"")
    source.write_bytes(gzip.compress(text.replace("v=\"steps\"", "v=\"construction\"").encode()))
    changed = build_network(source, mode="walk", cache_dir=tmp_path)
    assert steps > 10
    assert changed.meta["cache_path"] != first.meta["cache_path"]
    assert changed.n_edges < first.n_edges


def test_xml_and_pbf_of_the_same_data_agree(tmp_path):
    import osmium

    xml = tmp_path / "monaco.osm"
    with osmium.SimpleWriter(str(tmp_path / "monaco.osm.pbf")) as writer:
        for obj in osmium.FileProcessor(str(MONACO)):
            writer.add(obj)
    from_xml = build_network(MONACO, mode="drive", use_cache=False)
    from_pbf = build_network(tmp_path / "monaco.osm.pbf", mode="drive", use_cache=False)
    assert xml.suffix == ".osm"
    np.testing.assert_array_equal(from_xml.node_osm_id, from_pbf.node_osm_id)
    np.testing.assert_allclose(from_xml.edge_travel_time_s, from_pbf.edge_travel_time_s)


def test_without_maxspeed_every_road_drives_at_its_class_speed(tmp_path):
    """One speed for every highway class: ignoring maxspeed, every edge takes its length at
    that speed; reading it (Liechtenstein signs 20 to 80 km/h), many do not, and the two are
    cached apart."""
    uniform = dict.fromkeys(DEFAULT_DRIVE_SPEEDS_KPH, 36.0)  # 10 m/s
    ignored = build_network(LIECHTENSTEIN, mode="drive", cache_dir=tmp_path,
                            settings=NetworkSettings(drive_speeds_kph=uniform, use_maxspeed=False))
    np.testing.assert_allclose(ignored.edge_travel_time_s, ignored.edge_length_m / 10.0)
    read = build_network(LIECHTENSTEIN, mode="drive", cache_dir=tmp_path,
                         settings=NetworkSettings(drive_speeds_kph=uniform))
    signed = ~np.isclose(read.edge_travel_time_s, read.edge_length_m / 10.0)
    assert signed.mean() > 0.1


def test_without_maxspeed_a_signed_road_takes_its_class_default(tmp_path):
    """A hand-written road: 111 m of primary signed 120 km/h, then 111 m of residential signed
    50 km/h (one edge after simplification)."""
    path = tmp_path / "signed.osm"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        + "".join(f"<node id='{i}' version='1' lat='{47.1 + 0.001 * i}' lon='9.5'/>\n"
                  for i in range(3))
        + "<way id='10' version='1'><nd ref='0'/><nd ref='1'/>"
          "<tag k='highway' v='primary'/><tag k='maxspeed' v='120'/></way>\n"
          "<way id='11' version='1'><nd ref='1'/><nd ref='2'/>"
          "<tag k='highway' v='residential'/><tag k='maxspeed' v='50'/></way>\n</osm>\n")
    metres = Geod(ellps="WGS84").inv(9.5, 47.1, 9.5, 47.101)[2]  # each way's length
    by_class = build_network(path, mode="drive", use_cache=False,
                             settings=NetworkSettings(use_maxspeed=False))
    by_sign = build_network(path, mode="drive", use_cache=False)
    class_kph = DEFAULT_DRIVE_SPEEDS_KPH["primary"], DEFAULT_DRIVE_SPEEDS_KPH["residential"]
    assert by_class.n_edges == by_sign.n_edges == 2
    np.testing.assert_allclose(by_class.edge_travel_time_s,
                               sum(metres / (kph / 3.6) for kph in class_kph), rtol=1e-3)
    np.testing.assert_allclose(by_sign.edge_travel_time_s,
                               metres / (120 / 3.6) + metres / (50 / 3.6), rtol=1e-3)


def test_speed_settings_are_validated():
    with pytest.raises(ValidationError, match="drive_speeds_kph"):
        NetworkSettings(drive_speeds_kph={"residential": -3})
    with pytest.raises(ValidationError, match="walk_speed_kph"):
        NetworkSettings(walk_speed_kph=0)


# Bad input: a clear error, nothing cached.

def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        build_network(tmp_path / "absent.osm.pbf", cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_truncated_pbf(tmp_path):
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(LIECHTENSTEIN.read_bytes()[:200_000])
    with pytest.raises(SourceError, match="cannot read OSM data"):
        build_network(broken, cache_dir=tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*")) if (tmp_path / "cache").exists() else True


def test_not_an_osm_file(tmp_path):
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"this is not a pbf file at all" * 10)
    with pytest.raises(SourceError):
        build_network(junk, use_cache=False)
    unknown = tmp_path / "roads.txt"
    unknown.write_text("x")
    with pytest.raises(SourceError, match="unknown file type"):
        build_network(unknown, use_cache=False)


def test_valid_file_without_roads_for_the_mode(tmp_path):
    only_footway = tmp_path / "footway.osm"
    only_footway.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        "<node id='1' version='1' lat='47.1' lon='9.5'/>\n"
        "<node id='2' version='1' lat='47.101' lon='9.5'/>\n"
        "<way id='10' version='1'><nd ref='1'/><nd ref='2'/><tag k='highway' v='footway'/></way>\n"
        "</osm>\n")
    with pytest.raises(NoRoadsError, match="no roads usable for mode 'drive'"):
        build_network(only_footway, mode="drive", cache_dir=tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*")) if (tmp_path / "cache").exists() else True
    walk = build_network(only_footway, mode="walk", use_cache=False)
    assert walk.n_edges == 2 and walk.edge_length_m[0] == pytest.approx(111.2, abs=0.5)


def test_unknown_mode():
    with pytest.raises(ValidationError, match="unknown mode 'bike'"):
        build_network(MONACO, mode="bike")
