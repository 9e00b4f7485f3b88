"""The basemap read from an OSM extract, checked against counts and coordinates taken from the
extract independently (osmium's own handlers, pyproj), and its disk cache."""

from __future__ import annotations

import logging
import os
from collections import Counter

import numpy as np
import osmium
import pytest
import shapely
from pyproj import Transformer

from geo.errors import SourceError
from geo.io import basemap as basemap_module
from geo.io.basemap import load_basemap, read_basemap
from tests.conftest import LIECHTENSTEIN, MONACO

ROAD_VALUES = {
    "primary": {"primary", "primary_link"},
    "secondary": {"secondary", "secondary_link"},
    "tertiary": {"tertiary", "tertiary_link"},
    "minor": {"residential", "unclassified", "living_street", "service", "road", "pedestrian",
              "busway"},
    "path": {"footway", "path", "track", "cycleway", "bridleway", "steps"},
}


class Census(osmium.SimpleHandler):
    """Counts made without the code under test: building areas, highway ways by value, railway
    lines, and the first node of one primary road."""

    def __init__(self):
        super().__init__()
        self.buildings = 0
        self.highways: Counter[str] = Counter()
        self.rail = 0
        self.primary_first_node: tuple[float, float] | None = None

    def area(self, a):
        if a.tags.get("building", "no") != "no":
            self.buildings += 1

    def way(self, w):
        if "highway" in w.tags:
            self.highways[w.tags["highway"]] += 1
            if w.tags["highway"] == "primary" and self.primary_first_node is None:
                node = w.nodes[0]
                self.primary_first_node = (node.lon, node.lat)
        elif w.tags.get("railway") == "rail":
            self.rail += 1


def census(path) -> Census:
    handler = Census()
    handler.apply_file(str(path), locations=True)
    return handler


@pytest.fixture(scope="module")
def li_basemap():
    return read_basemap(LIECHTENSTEIN)


@pytest.fixture(scope="module")
def li_census():
    return census(LIECHTENSTEIN)


def test_buildings_and_roads_match_an_independent_count(li_basemap, li_census):
    assert len(li_basemap.layers["building"]) == li_census.buildings > 8000
    for name, values in ROAD_VALUES.items():
        expected = sum(li_census.highways[value] for value in values)
        assert len(li_basemap.layers[name]) == expected, name
    assert len(li_basemap.layers["rail"]) == li_census.rail > 0


def test_geometries_are_in_web_mercator(li_basemap, li_census):
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = to_3857.transform(*li_census.primary_first_node)
    starts = shapely.get_point(li_basemap.layers["primary"], 0)
    nearest = shapely.distance(starts, shapely.Point(x, y)).min()
    assert nearest < 0.01  # metres
    assert shapely.get_type_id(li_basemap.layers["building"]).tolist() == [
        shapely.GeometryType.MULTIPOLYGON] * len(li_basemap.layers["building"])


def test_the_extract_bounds_come_from_its_header(li_basemap):
    reader = osmium.io.Reader(str(LIECHTENSTEIN), osmium.osm.osm_entity_bits.NOTHING)
    box = reader.header().box()
    reader.close()
    assert li_basemap.bounds_lonlat == pytest.approx(
        (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat))


def test_places_have_names_ranks_and_translations(li_basemap):
    vaduz = next(p for p in li_basemap.places if p.name == "Vaduz")
    assert (vaduz.lon, vaduz.lat) == pytest.approx((9.5215, 47.1410), abs=0.01)
    assert vaduz.rank == 1  # the capital, although tagged a village
    assert vaduz.label("zh") == vaduz.names["zh"] != "Vaduz"
    assert vaduz.label("xx") == vaduz.label(None) == "Vaduz"
    assert {p.place for p in li_basemap.places} <= {"city", "town", "village", "suburb",
                                                    "hamlet", "neighbourhood"}
    ranks = [p.rank for p in li_basemap.places]
    assert ranks == sorted(ranks)


def test_a_gzipped_xml_extract_reads_too():
    monaco = read_basemap(MONACO)
    assert len(monaco.layers["building"]) == census(MONACO).buildings > 500
    west, south, east, north = monaco.bounds_lonlat  # no header box: the data's extent
    assert 7.38 < west < east < 7.46 and 43.71 < south < north < 43.76
    assert "Monaco" in [p.name for p in monaco.places]


def test_a_missing_extract_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        read_basemap(tmp_path / "nowhere.osm.pbf")


def _same(a, b) -> bool:
    return (a.places == b.places and a.bounds_lonlat == b.bounds_lonlat
            and list(a.layers) == list(b.layers)
            and all(bool(np.all(shapely.equals_exact(a.layers[k], b.layers[k], tolerance=0)))
                    for k in a.layers))


def test_a_second_load_comes_from_the_cache(tmp_path, monkeypatch):
    first = load_basemap(MONACO, cache_dir=tmp_path)
    assert list((tmp_path / "basemap").glob("monaco-*.npz"))

    def no_reading(path):
        raise AssertionError("the extract was read again")

    monkeypatch.setattr(basemap_module, "read_basemap", no_reading)
    assert _same(load_basemap(MONACO, cache_dir=tmp_path), first)


def test_a_damaged_cache_is_read_again_with_a_warning(tmp_path, caplog):
    first = load_basemap(MONACO, cache_dir=tmp_path)
    (entry,) = (tmp_path / "basemap").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        again = load_basemap(MONACO, cache_dir=tmp_path)
    assert "damaged" in caplog.text
    assert _same(again, first)
    assert entry.stat().st_size > 1000  # written again


def test_a_changed_extract_gets_a_new_cache_entry(tmp_path):
    copy = tmp_path / "monaco.osm.gz"
    copy.write_bytes(MONACO.read_bytes())
    load_basemap(copy, cache_dir=tmp_path / "cache")
    os.utime(copy, ns=(1, 1))  # touched: the key is the path, size and modification time
    load_basemap(copy, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "basemap").glob("*.npz"))) == 2
