"""Layer exports and reading rows back, without a registry: encodings, CRSs, Shapefile names and
the OSM credit. Imports into the registry are in tests/registry/test_imports.py."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import OSM_ATTRIBUTION
from geo.errors import ValidationError
from geo.io import cn_coords
from geo.io.layer_files import export_layer
from geo.io.vector import read_rows

HEADER = "id,name,shelter_class,capacity_people,status,lon,lat"


def _layer(sources=("rows.csv", "osm:way/1")) -> gpd.GeoDataFrame:
    """A small layer as the registry hands it out: indexed by id, in EPSG:4326."""
    frame = gpd.GeoDataFrame(
        {"name": ["Schulhaus 学校", "Park 公园"], "source": list(sources),
         "capacity_people": [300, 40], "facilities": [["water"], []]},
        geometry=[shapely.Point(9.5175, 47.1496), shapely.box(9.52, 47.14, 9.521, 47.141)],
        crs=4326, index=pd.Index(["S1", "S2"], name="id"))
    return frame


def test_read_rows_reports_reading_problems(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(f"{HEADER}\n9,x,emergency,10,open,,47.1\n", encoding="utf-8")
    rows = read_rows(path, field="upload")
    assert [(p.row, p.field, p.problem) for p in rows.problems] == [
        (2, "lon", "required field is missing")]
    assert np.isnan(rows.records[0]["geometry"].x)
    assert rows.records[0]["capacity_people"] == "10"  # text, for the caller to check


def test_read_rows_of_a_table_without_geometry(tmp_path):
    path = tmp_path / "stock.csv"
    path.write_text("depot,item,quantity\nD1,water,100\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="stock.csv: no geometry columns"):
        read_rows(path)
    rows = read_rows(path, has_geometry=False)
    assert rows.records == [{"depot": "D1", "item": "water", "quantity": "100"}]


def test_zipped_shapefile_holds_one_file_per_geometry_type_and_long_names_come_back(tmp_path):
    path = export_layer(_layer(), tmp_path / "s.zip", layer="shelters")
    names = zipfile.ZipFile(path).namelist()
    assert {"shelters_point.shp", "shelters_polygon.shp", "shelters_point.cpg"} <= set(names)
    short = gpd.read_file(f"/vsizip/{path}", layer="shelters_point")
    assert "capacity_p" in short.columns
    rows = read_rows(path, field_names=["capacity_people"])
    assert [r["capacity_people"] for r in rows.records] == [300, 40]
    assert rows.labels == ["shelters_point:1", "shelters_polygon:1"]


@pytest.mark.parametrize(("sources", "credited"), [(("rows.csv", "osm:way/1"), True),
                                                    (("rows.csv", "survey"), False)])
def test_geojson_export_credits_osm_only_for_osm_records(tmp_path, sources, credited):
    path = export_layer(_layer(sources), tmp_path / "s.geojson")
    collection = json.loads(path.read_text(encoding="utf-8"))
    assert (collection.get("attribution") == OSM_ATTRIBUTION) is credited
    assert [f["id"] for f in collection["features"]] == ["S1", "S2"]
    assert collection["features"][0]["properties"]["id"] == "S1"


def test_geojson_export_is_always_lon_lat(tmp_path):
    with pytest.raises(ValidationError, match="crs: GeoJSON is always WGS84 .* for EPSG:2056"):
        export_layer(_layer(), tmp_path / "s.geojson", crs="EPSG:2056")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("crs", ["GCJ-02", "BD-09"])
def test_csv_in_chinese_web_map_coordinates_reads_back(tmp_path, crs):
    wgs = (116.3913, 39.9075)
    frame = gpd.GeoDataFrame({"name": ["天安门消防站"]}, geometry=[shapely.Point(wgs)], crs=4326,
                             index=pd.Index(["T1"], name="id"))
    path = export_layer(frame, tmp_path / "out.csv", crs=crs, encoding="gbk")
    exported = pd.read_csv(path, encoding="gbk")
    shifted = [float(v) for v in cn_coords.FROM_WGS84[crs](*wgs)]
    assert exported.loc[0, "name"] == "天安门消防站"
    assert (exported.loc[0, "lon"], exported.loc[0, "lat"]) == pytest.approx(shifted, abs=1e-9)
    assert abs(shifted[0] - wgs[0]) > 1e-3  # hundreds of metres: a real offset
    point = read_rows(path, crs=crs).records[0]["geometry"]
    assert (point.x, point.y) == pytest.approx(wgs, abs=1e-8)  # about 1 mm
