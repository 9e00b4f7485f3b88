"""The one GeoJSON writer: the OSM credit by the flag, lon/lat order, ids and nulls, unescaped
Chinese, and nothing left behind by a failed write."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo import OSM_ATTRIBUTION
from geo.errors import SourceError, ValidationError
from geo.io.geojson import geojson_collection, write_geojson
from geo.io.vector import read_vector

MONACO_HOSPITAL = (7.4192, 43.7262)  # lon, lat
UTM32N = "EPSG:32632"


def _sites(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Two sites in ``crs``: a point with a Chinese name, a polygon with a missing capacity."""
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    x, y = to_crs(*MONACO_HOSPITAL)
    return gpd.GeoDataFrame(
        {"name": ["摩纳哥医院 Centre Hospitalier", "Parking"], "capacity_people": [120.0, np.nan],
         "services": [["er", "icu"], []], "opened": pd.to_datetime(["2020-05-01", "2021-01-02"])},
        geometry=[shapely.Point(x, y), shapely.Point(x, y).buffer(50 if crs == UTM32N else 1e-3)],
        crs=crs, index=pd.Index(["H1", "P7"], name="id"))


@pytest.mark.parametrize("attribution", [True, False])
def test_attribution_follows_the_flag(tmp_path, attribution):
    path = write_geojson(_sites(), tmp_path / "sites.geojson", attribution=attribution)
    collection = json.loads(path.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert ("attribution" in collection) is attribution
    if attribution:
        assert collection["attribution"] == OSM_ATTRIBUTION
    assert collection == geojson_collection(_sites(), attribution=attribution)


def test_coordinates_are_lon_lat_whatever_the_frame_crs(tmp_path):
    path = write_geojson(_sites(UTM32N), tmp_path / "sites.geojson", attribution=True)
    point = json.loads(path.read_text(encoding="utf-8"))["features"][0]["geometry"]
    assert point["type"] == "Point"
    assert point["coordinates"] == pytest.approx(list(MONACO_HOSPITAL), abs=1e-9)


def test_ids_nulls_lists_and_times_are_plain_json(tmp_path):
    features = geojson_collection(_sites(), attribution=False)["features"]
    assert [f["id"] for f in features] == ["H1", "P7"]
    assert features[1]["properties"]["capacity_people"] is None
    assert features[0]["properties"]["services"] == ["er", "icu"]
    assert features[0]["properties"]["opened"] == "2020-05-01T00:00:00"
    text = write_geojson(_sites(), tmp_path / "sites.geojson", attribution=False).read_text(
        encoding="utf-8")
    assert "NaN" not in text


def test_chinese_names_are_written_unescaped_and_read_back(tmp_path):
    path = write_geojson(_sites(), tmp_path / "sites.geojson", attribution=True)
    raw = path.read_bytes()
    assert "摩纳哥医院".encode() in raw and b"\\u" not in raw
    back = read_vector(path, field="--facilities")
    assert back["name"].tolist() == _sites()["name"].tolist()
    assert back["id"].tolist() == ["H1", "P7"]
    assert back.geometry.iloc[0].equals(_sites().geometry.iloc[0])


def test_a_missing_folder_is_made_as_by_every_writer(tmp_path):
    path = write_geojson(_sites(), tmp_path / "new-folder" / "sites.geojson", attribution=True)
    assert read_vector(path, field="--facilities")["id"].tolist() == ["H1", "P7"]


def test_a_write_error_names_the_field(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SourceError, match="--out: .*file/sites.geojson: cannot write"):
        write_geojson(_sites(), blocker / "sites.geojson", attribution=True, field="--out")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_an_unserialisable_value_fails_and_keeps_the_old_file(tmp_path):
    path = write_geojson(_sites(), tmp_path / "sites.geojson", attribution=True)
    before = path.read_bytes()
    broken = _sites().assign(handle=[object(), object()])
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        write_geojson(broken, path, attribution=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sites.geojson"]  # no partial file


def test_a_frame_without_crs_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="frame: no CRS"):
        write_geojson(_sites().set_crs(None, allow_override=True), tmp_path / "x.geojson",
                      attribution=True)
    assert list(tmp_path.iterdir()) == []
