"""read_vector: real files written with geopandas/pyogrio from the Monaco extract's amenities, each
CRS rule of the policy, and coordinates checked against pyproj and cn_coords directly."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.core.resources import MONACO_OSM, data_path
from geo.errors import SourceError, ValidationError
from geo.io import cn_coords
from geo.io.osm_features import read_features, tag
from geo.io.vector import read_vector

UTM32N = "EPSG:32632"  # Monaco's UTM zone


@pytest.fixture(scope="module")
def amenities() -> gpd.GeoDataFrame:
    """Real points and areas (hospital, bank, parking ...) from the Monaco extract, EPSG:4326."""
    features = read_features(data_path(MONACO_OSM), keys=("amenity",))
    return gpd.GeoDataFrame({"osm_id": features["osm_id"], "amenity": tag(features, "amenity")},
                            geometry=features.geometry.to_numpy(), crs=4326)


def _projected(frame: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """The geometries moved to ``crs`` by pyproj itself, not through geopandas or geo.io."""
    forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    return shapely.transform(frame.geometry.to_numpy(),
                             lambda xy: np.column_stack(forward(xy[:, 0], xy[:, 1])))


def _same_place(read: gpd.GeoDataFrame, expected: gpd.GeoDataFrame, *, tolerance_deg: float):
    assert read.crs.to_epsg() == 4326
    assert read["osm_id"].tolist() == expected["osm_id"].tolist()
    np.testing.assert_allclose(shapely.get_coordinates(read.geometry.to_numpy()),
                               shapely.get_coordinates(expected.geometry.to_numpy()),
                               rtol=0, atol=tolerance_deg)


def test_geopackage_in_web_mercator_comes_back_in_wgs84(amenities, tmp_path):
    mercator = gpd.GeoDataFrame(amenities.drop(columns="geometry"),
                                geometry=_projected(amenities, "EPSG:3857"), crs=3857)
    path = tmp_path / "amenities.gpkg"
    mercator.to_file(path, driver="GPKG", engine="pyogrio")
    read = read_vector(path, field="--facilities")
    assert {"point", "area"} == set(np.where(read.geom_type == "Point", "point", "area"))
    _same_place(read, amenities, tolerance_deg=1e-9)
    assert read_vector(path, field="--facilities", crs="EPSG:3857").equals(read)  # no conflict


def test_shapefile_without_prj_is_refused_unless_the_crs_is_given(amenities, tmp_path):
    points = amenities[amenities.geom_type == "Point"]
    utm = gpd.GeoDataFrame(points.drop(columns="geometry"), geometry=_projected(points, UTM32N),
                           crs=UTM32N)
    path = tmp_path / "sites.shp"
    utm.to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    with pytest.raises(ValidationError,
                       match=r"--facilities: .*sites.shp: layer 'sites': declares no CRS; give "
                             r"the CRS of its coordinates"):
        read_vector(path, field="--facilities")
    _same_place(read_vector(path, field="--facilities", crs=UTM32N), points, tolerance_deg=1e-9)


def test_zipped_shapefile_with_prj(amenities, tmp_path):
    points = amenities[amenities.geom_type == "Point"].to_crs(UTM32N)
    points.to_file(tmp_path / "sites.shp", engine="pyogrio")
    path = tmp_path / "sites.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(tmp_path.glob("sites.*")):
            if part != path:
                archive.write(part, part.name)
    read = read_vector(path, field="--demand")
    _same_place(read, amenities[amenities.geom_type == "Point"], tolerance_deg=1e-9)


def test_geopackage_layer_without_srs_is_refused(amenities, tmp_path):
    path = tmp_path / "nosrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(amenities.drop(columns="geometry"),
                         geometry=amenities.geometry.to_numpy()).to_file(path, driver="GPKG")
    with pytest.raises(ValidationError, match="--barriers: .*nosrs.gpkg: layer 'nosrs': declares "
                                              "no CRS"):
        read_vector(path, field="--barriers")
    _same_place(read_vector(path, field="--barriers", crs="4326"), amenities, tolerance_deg=0)


def test_geojson_without_crs_is_wgs84(amenities, tmp_path):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": i, "geometry": shapely.geometry.mapping(geometry),
         "properties": {"osm_id": osm_id, "名称": "医院"}}
        for i, (osm_id, geometry) in enumerate(zip(amenities["osm_id"], amenities.geometry))]}
    path = tmp_path / "amenities.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    read = read_vector(path, field="--facilities")
    _same_place(read, amenities, tolerance_deg=0)
    assert read["id"].tolist() == list(range(len(amenities)))
    assert (read["名称"] == "医院").all()


@pytest.mark.parametrize("crs", ["GCJ-02", "BD-09"])
def test_csv_lon_lat_in_a_chinese_web_map_system(tmp_path, crs):
    wgs_lon, wgs_lat = np.array([116.3913, 121.4997]), np.array([39.9075, 31.2397])
    lon, lat = cn_coords.FROM_WGS84[crs](wgs_lon, wgs_lat)  # as a Gaode / Baidu map shows them
    path = tmp_path / "stations.csv"
    rows = [f"站 {i},{100 * (i + 1)},{float(x)!r},{float(y)!r}"
            for i, (x, y) in enumerate(zip(lon, lat))]
    path.write_text("\n".join(["name,capacity_people,lng,lat", *rows]) + "\n", encoding="utf-8")
    read = read_vector(path, field="--facilities", crs=crs)
    expected = cn_coords.TO_WGS84[crs](lon, lat)
    np.testing.assert_allclose(read.geometry.x, expected[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(read.geometry.y, expected[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(read.geometry.x, wgs_lon, rtol=0, atol=1e-8)  # about 1 mm
    assert read["capacity_people"].tolist() == [100, 200]  # numbers, not text
    assert read["name"].tolist() == ["站 0", "站 1"]


def test_gcj02_over_a_declared_wgs84_is_taken(tmp_path):
    """Files holding GCJ-02 say WGS84 (no format can declare GCJ-02), so that is no conflict."""
    lon, lat = cn_coords.wgs84_to_gcj02(116.3913, 39.9075)
    path = tmp_path / "gaode.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=4326).to_file(path)
    point = read_vector(path, field="--facilities", crs="GCJ-02").geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((116.3913, 39.9075), abs=1e-8)


def test_projected_numbers_in_a_geojson_without_crs_are_refused(amenities, tmp_path):
    utm = _projected(amenities, UTM32N)
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": {}}
        for g in utm]}
    path = tmp_path / "utm.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    with pytest.raises(ValidationError, match=rf"--demand: .*utm.geojson: {len(utm)} of "
                                              rf"{len(utm)} row\(s\) are not longitude/latitude "
                                              r"\(row 1: x 3\d{5}.*give it"):
        read_vector(path, field="--demand")
    with_crs = read_vector(path, field="--demand", crs=UTM32N)
    _same_place(with_crs.assign(osm_id=amenities["osm_id"]), amenities, tolerance_deg=1e-9)


def test_a_file_claiming_wgs84_with_projected_numbers_is_refused(amenities, tmp_path):
    path = tmp_path / "mislabelled.gpkg"
    gpd.GeoDataFrame(geometry=_projected(amenities, UTM32N), crs=4326).to_file(path)
    with pytest.raises(ValidationError, match="--facilities: .*are not longitude/latitude"):
        read_vector(path, field="--facilities")


def test_a_given_crs_contradicting_the_declared_one_is_refused(amenities, tmp_path):
    path = tmp_path / "mercator.gpkg"
    amenities.to_crs(3857).to_file(path)
    with pytest.raises(ValidationError, match="--facilities: .*mercator.gpkg: layer 'mercator': "
                                              "declares EPSG:3857 but the CRS given is "
                                              "EPSG:32632"):
        read_vector(path, field="--facilities", crs=UTM32N)
    with pytest.raises(ValidationError, match="--facilities: crs: unknown CRS 'EPSG:999999'"):
        read_vector(path, field="--facilities", crs="EPSG:999999")


def test_missing_empty_and_unreadable_files(tmp_path):
    with pytest.raises(SourceError, match=r"--facilities: .*none\.gpkg: no such file"):
        read_vector(tmp_path / "none.gpkg", field="--facilities")
    (tmp_path / "empty.geojson").write_text("")
    with pytest.raises(SourceError, match=r"--demand: .*empty\.geojson: the file is empty"):
        read_vector(tmp_path / "empty.geojson", field="--demand")
    (tmp_path / "junk.gpkg").write_text("not a GeoPackage")
    with pytest.raises(SourceError, match=r"--barriers: .*junk\.gpkg: cannot read"):
        read_vector(tmp_path / "junk.gpkg", field="--barriers")
    (tmp_path / "none.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(SourceError, match=r"--demand: .*none\.geojson: holds no rows"):
        read_vector(tmp_path / "none.geojson", field="--demand")


def test_bad_rows_are_refused_with_their_row(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("name,lon,lat\nA,7.42,43.73\nB,east,43.74\nC,,43.75\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"--facilities: .*sites\.csv: row 3: lon: 'east' "
                                              r"is not a number; row 4: lon: required field"):
        read_vector(path, field="--facilities")
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {"name": "A"}}]}), encoding="utf-8")
    with pytest.raises(ValidationError, match="row 1: geometry: required field is missing"):
        read_vector(path.rename(tmp_path / "sites.geojson"), field="--facilities")
