"""The basemap the web serves: tiles, places and bounds through a Context, loaded once and from
the disk cache on a second start; names and positions checked against the extract's own tags."""

from __future__ import annotations

import io
import json

import numpy as np
import osmium
import pytest
from PIL import Image

from geo import services
from geo.errors import SourceError, ValidationError
from geo.io import basemap as basemap_module
from geo.services import Context, NetworkSource
from tests.conftest import LIECHTENSTEIN, MONACO

VADUZ = (9.5215, 47.1410)  # the town's coordinates (47°08′28″N 9°31′17″E)
VADUZ_Z15 = (15, 17250, 11506)  # the tile over central Vaduz (standard slippy-map formula)


def place_tags(path, name: str) -> dict[str, str]:
    """The tags of the place node called ``name``, read with osmium."""
    for obj in osmium.FileProcessor(str(path)).with_filter(osmium.filter.KeyFilter("place")):
        if obj.is_node() and obj.tags.get("name") == name:
            return dict(obj.tags)
    raise LookupError(name)


def colours(png: bytes) -> int:
    """How many colours a PNG holds."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels, axis=0))


@pytest.fixture
def ctx(cache_dir):
    with Context(None, source=NetworkSource(LIECHTENSTEIN, cache_dir=cache_dir)) as opened:
        yield opened


def test_a_tile_is_a_png_of_256_pixels_kept_for_the_next_request(ctx):
    png = services.basemap_tile(ctx, *VADUZ_Z15)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (256, 256)
    assert colours(png) > 20  # a drawn map, not a blank
    assert services.basemap_tile(ctx, *VADUZ_Z15) is png


def test_a_second_start_loads_the_basemap_from_the_cache(tmp_path, monkeypatch):
    source = NetworkSource(LIECHTENSTEIN, cache_dir=tmp_path)
    tiles = [VADUZ_Z15, (10, 539, 359), (17, 69002, 46026)]
    with Context(None, source=source) as first:
        drawn = [services.basemap_tile(first, *zxy) for zxy in tiles]
        places = services.basemap_places(first, lang="zh")
    assert list((tmp_path / "basemap").glob("liechtenstein-*.npz"))

    def no_reading(path):
        raise AssertionError("the extract was read again")

    monkeypatch.setattr(basemap_module, "read_basemap", no_reading)
    with Context(None, source=source) as second:
        assert [services.basemap_tile(second, *zxy) for zxy in tiles] == drawn
        assert services.basemap_places(second, lang="zh") == places


def test_places_are_lon_lat_points_with_labels_in_the_asked_language(ctx):
    tags = place_tags(LIECHTENSTEIN, "Vaduz")
    collection = services.basemap_places(ctx, lang="zh")
    json.dumps(collection, allow_nan=False)
    assert collection["type"] == "FeatureCollection" and "OpenStreetMap" in collection[
        "attribution"]
    vaduz = next(f for f in collection["features"] if f["properties"]["name"] == "Vaduz")
    assert vaduz["geometry"]["type"] == "Point"
    assert vaduz["geometry"]["coordinates"] == pytest.approx(list(VADUZ), abs=0.01)
    assert vaduz["properties"]["label"] == tags["name:zh"]
    assert vaduz["properties"]["rank"] == 1 and vaduz["properties"]["min_zoom"] <= 10
    assert vaduz["properties"]["population"] == int(tags["population"])
    ranks = [f["properties"]["rank"] for f in collection["features"]]
    assert ranks == sorted(ranks) and ranks[0] == 1


def test_a_label_falls_back_to_the_local_name(ctx):
    assert "name:en" not in place_tags(LIECHTENSTEIN, "Vaduz")
    for lang in ("en", None):
        features = services.basemap_places(ctx, lang=lang)["features"]
        assert all(f["properties"]["label"] == f["properties"]["name"] for f in features)
    regional = services.basemap_places(ctx, lang="zh-CN")["features"]
    vaduz = next(f for f in regional if f["properties"]["name"] == "Vaduz")
    assert vaduz["properties"]["label"] == place_tags(LIECHTENSTEIN, "Vaduz")["name:zh"]


@pytest.mark.parametrize("lang", ["", "chinese!", "ZH", 5])
def test_a_bad_language_is_refused_naming_the_field(ctx, lang):
    with pytest.raises(ValidationError, match="^lang: "):
        services.basemap_places(ctx, lang=lang)


@pytest.mark.parametrize(("zxy", "field"), [((25, 0, 0), "z"), ((4, 16, 0), "x"),
                                            ((4, 0, 99), "y")])
def test_a_tile_that_does_not_exist_is_refused_naming_the_field(ctx, zxy, field):
    with pytest.raises(ValidationError, match=f"^{field}: "):
        services.basemap_tile(ctx, *zxy)


def test_bounds_are_the_extract_box_in_lon_lat(ctx):
    west, south, east, north = services.basemap_bounds(ctx)
    assert west < VADUZ[0] < east and south < VADUZ[1] < north
    assert (east - west, north - south) == pytest.approx((0.165, 0.224), abs=0.01)


def test_monaco_from_a_gzipped_extract(tmp_path):
    with Context(None, source=NetworkSource(MONACO, cache_dir=tmp_path)) as monaco:
        assert colours(services.basemap_tile(monaco, 16, 34119, 23896)) > 20  # Monte-Carlo
        names = {f["properties"]["name"]: f["properties"]["label"]
                 for f in services.basemap_places(monaco, lang="en")["features"]}
        assert names["Monaco"] == place_tags(MONACO, "Monaco")["name:en"]
        west, south, east, north = services.basemap_bounds(monaco)
        assert west < 7.4246 < east and south < 43.7384 < north


def test_a_road_graph_source_has_no_basemap(tmp_path):
    source = NetworkSource(tmp_path / "roads.graphml", cache_dir=tmp_path)
    with Context(None, source=source) as ctx, pytest.raises(SourceError, match="osm_path"):
        services.basemap_tile(ctx, *VADUZ_Z15)
