"""All-or-nothing imports into the registry: formats, CRSs, encodings, the per-row report, and
exports that import again."""

from __future__ import annotations

import csv
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo.errors import RecordsRejectedError, SourceError, ValidationError
from geo.io import cn_coords
from geo.io.layer_files import export_layer
from geo.registry import Registry
from geo.registry.imports import import_file, write_report

LIECHTENSTEIN = [9.47, 47.04, 9.64, 47.28]
HEADER = "id,name,shelter_class,capacity_people,status,lon,lat"
GOOD = ["S1,Schulhaus Mühleholz 学校,short_term,300,open,9.5175,47.1496",
        "S2,Sporthalle 体育馆,emergency,800,open,9.5231,47.1338",
        "S3,Rheinpark Stadion,long_term,2000,closed,9.5056,47.1415"]


@pytest.fixture
def reg(tmp_path):
    """A registry on a SQLite file: for the tests of reading files, which do not depend on
    the database."""
    with Registry(str(tmp_path / "registry.sqlite")) as registry:
        registry.set_region(LIECHTENSTEIN)
        yield registry


@pytest.fixture
def any_reg(registry_url):
    """A registry on either database: for the tests of what an import writes."""
    with Registry(registry_url) as registry:
        registry.set_region(LIECHTENSTEIN)
        yield registry


def _csv(tmp_path, lines, *, name="rows.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def _rejected(reg, path, layer="shelters", **options) -> list[tuple]:
    with pytest.raises(RecordsRejectedError) as caught:
        import_file(reg, path, layer=layer, **options)
    assert reg.counts()[layer] == 0  # all or nothing
    return [(p.row, p.field, p.problem) for p in caught.value.problems]


def test_csv_with_lat_lon_columns_imports_and_keeps_chinese_names(any_reg, tmp_path):
    reg = any_reg
    ids = import_file(reg, _csv(tmp_path, [HEADER, *GOOD]), layer="shelters")
    assert ids == ["S1", "S2", "S3"]
    shelters = reg.layer("shelters")
    assert shelters.loc["S1", "name"] == "Schulhaus Mühleholz 学校"
    assert shelters.loc["S3", "status"] == "closed"
    assert shelters.loc["S2", "geometry"].equals(shapely.Point(9.5231, 47.1338))
    assert (shelters["source"] == "rows.csv").all()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(reg, tmp_path, encoding):
    path = _csv(tmp_path, [HEADER, *GOOD], encoding=encoding)
    import_file(reg, path, layer="shelters")
    assert reg.get("shelters", "S2")["name"] == "Sporthalle 体育馆"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig", "gb18030"])
def test_western_european_excel_csv_keeps_its_names(tmp_path, encoding):
    lines = ["id,name,shelter_class,capacity_people,lon,lat",
             "S1,Sörnäisten peruskoulu,emergency,400,24.9633,60.1872",
             "S2,Käpylän peruskoulu,emergency,300,24.9480,60.2140",
             "S3,Töölön yhteiskoulu,short_term,500,24.9230,60.1790"]
    with Registry(str(tmp_path / "helsinki.sqlite")) as helsinki:
        import_file(helsinki, _csv(tmp_path, lines, encoding=encoding), layer="shelters")
        names = helsinki.layer("shelters")["name"]
    assert names.tolist() == ["Sörnäisten peruskoulu", "Käpylän peruskoulu",
                              "Töölön yhteiskoulu"]


def test_given_encoding_is_used_and_a_wrong_one_is_reported(reg, tmp_path):
    path = _csv(tmp_path, [HEADER, *GOOD], encoding="gb18030")
    with pytest.raises(SourceError, match="not valid utf-8 at byte"):
        import_file(reg, path, layer="shelters", encoding="utf-8")
    with pytest.raises(ValidationError, match="encoding: 'latin-9' is not a text encoding"):
        import_file(reg, path, layer="shelters", encoding="latin-9")
    import_file(reg, path, layer="shelters", encoding="GBK")
    assert reg.get("shelters", "S1")["name"] == "Schulhaus Mühleholz 学校"


CHINESE_SHELTERS = ["名称,纬度,经度,容纳人数,类别,状态",
                    "实验小学操场,47.1496,9.5175,800,紧急避难场所,开放",
                    "体育馆,47.1338,9.5231,1200,短期固定避难场所,已满",
                    "Rheinpark Stadion,47.1415,9.5056,2000,long_term,Closed"]


def test_chinese_excel_csv_names_fields_and_choices_in_chinese(reg, tmp_path):
    path = _csv(tmp_path, CHINESE_SHELTERS, name="避难场所.csv", encoding="gbk")
    import_file(reg, path, layer="shelters")
    shelters = reg.layer("shelters").set_index("name")
    columns = ["shelter_class", "capacity_people", "status"]
    assert shelters.loc["实验小学操场", columns].tolist() == ["emergency", 800, "open"]
    assert shelters.loc["体育馆", ["shelter_class", "status"]].tolist() == ["short_term", "full"]
    assert shelters.loc["Rheinpark Stadion", "status"] == "closed"  # any case of the key
    assert shelters.loc["体育馆", "geometry"].equals(shapely.Point(9.5231, 47.1338))


def test_chinese_names_of_team_types_statuses_and_items(any_reg, tmp_path):
    reg = any_reg
    teams = ["编号,名称,类型,人数,状态,出动时间（秒）,经度,纬度",
             "T1,瓦杜兹消防队,消防,9,可用,240,9.5209,47.1410",
             "T2,红十字急救队,医疗,3,休息,60,9.5103,47.1640"]
    import_file(reg, _csv(tmp_path, teams, encoding="gb18030"), layer="teams")
    assert reg.get("teams", "T1")["type"] == "fire" and reg.get("teams", "T1")["turnout_s"] == 240
    assert (reg.get("teams", "T2")["type"], reg.get("teams", "T2")["status"]) == (
        "medical", "off_duty")
    reg.add("depots", {"id": "D1", "name": "应急物资储备库",
                       "geometry": shapely.Point(9.52, 47.14)})
    stock = ["仓库,物资,数量", "D1,饮用水,500", "D1,帐篷,20", "D1,Blanket,30"]
    import_file(reg, _csv(tmp_path, stock, name="stock.csv", encoding="gbk"), layer="inventory")
    assert reg.stock("D1") == {"water": 500, "tents": 20, "blankets": 30}


def test_a_chinese_file_is_answered_with_its_own_column_names(reg, tmp_path):
    lines = [*CHINESE_SHELTERS[:2], "酒店,47.14,9.52,-5,宾馆,开放", "公园,47.14,9.52,,,开放"]
    problems = _rejected(reg, _csv(tmp_path, lines, encoding="gbk"))
    assert [(row, name) for row, name, _ in problems] == [(3, "容纳人数"), (3, "类别"),
                                                          (4, "类别")]
    assert ("'宾馆' is not one of emergency (紧急避难场所), short_term (短期固定避难场所), "
            "medium_term (中期固定避难场所), long_term (长期固定避难场所), central (中心避难场所)"
            in problems[1][2])
    with pytest.raises(RecordsRejectedError, match="row 3: 容纳人数: -5 is negative"):
        import_file(reg, _csv(tmp_path, lines, encoding="gbk"), layer="shelters")


def test_a_field_named_twice_is_refused(reg, tmp_path):
    lines = ["name,名称,shelter_class,capacity_people,lon,lat", "a,b,emergency,1,9.52,47.14"]
    with pytest.raises(ValidationError, match="columns 'name' and '名称' both give name"):
        import_file(reg, _csv(tmp_path, lines), layer="shelters")


def test_csv_with_wkt_polygons(reg, tmp_path):
    lines = ["id,name,shelter_class,effective_area_m2,wkt",
             '1,Park,emergency,5000,'
             '"POLYGON ((9.52 47.14, 9.521 47.14, 9.521 47.141, 9.52 47.14))"']
    import_file(reg, _csv(tmp_path, lines), layer="shelters")
    assert reg.get("shelters", "1")["capacity_people"] == 5000
    assert reg.get("shelters", "1")["geometry"].geom_type == "Polygon"


def test_geojson_feature_collection(any_reg, tmp_path):
    reg = any_reg
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "T1", "geometry": {"type": "Point", "coordinates": [9.52, 47.14]},
         "properties": {"type": "fire", "headcount": 8, "equipment": ["pump", "ladder"]}}]}
    path = tmp_path / "teams.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    import_file(reg, path, layer="teams")
    assert reg.get("teams", "T1")["equipment"] == ["pump", "ladder"]


def test_odd_geojson_features_are_reported_per_feature(reg, tmp_path):
    point = {"type": "Point", "coordinates": [9.52, 47.14]}
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": point, "properties": {"type": "fire", "headcount": 2}},
        {"type": "Feature", "geometry": {"type": "Circle", "coordinates": [9.5, 47.1]},
         "properties": {"type": "fire", "headcount": 2}},
        {"type": "Feature", "geometry": point, "properties": ["fire", 2]},
        {"type": "Feature", "geometry": None, "properties": {"type": "fire", "headcount": 2}}]}
    path = tmp_path / "odd.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    problems = _rejected(reg, path, layer="teams")
    assert (2, "geometry") in {(row, name) for row, name, _ in problems}
    assert (3, "properties", "expected an object") in problems
    assert (4, "geometry", "required field is missing") in problems
    assert 1 not in {row for row, _, _ in problems}
    path.write_text(json.dumps({"type": "FeatureCollection"}), encoding="utf-8")
    with pytest.raises(ValidationError, match="has no 'features' list"):
        import_file(reg, path, layer="teams")


def test_geojson_crs_member_is_honoured(reg, tmp_path):
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(9.52, 47.14)
    collection = {"type": "FeatureCollection",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
                  "features": [{"type": "Feature", "properties": {"type": "police", "headcount": 2},
                                "geometry": {"type": "Point", "coordinates": [x, y]}}]}
    path = tmp_path / "mercator.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    team = import_file(reg, path, layer="teams")[0]
    point = reg.get("teams", team)["geometry"]
    assert (point.x, point.y) == pytest.approx((9.52, 47.14), abs=1e-9)


def test_geojson_that_is_not_a_feature_collection_is_refused(reg, tmp_path):
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps({"type": "Feature", "geometry": None, "properties": {}}))
    with pytest.raises(ValidationError,
                       match="expected a GeoJSON FeatureCollection, got 'Feature'"):
        import_file(reg, path, layer="teams")
    path.write_text("{not json")
    with pytest.raises(SourceError, match="not valid JSON"):
        import_file(reg, path, layer="teams")


@pytest.mark.parametrize("content", [b"", b"   \n"])
def test_empty_files_are_refused(reg, tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match="empty"):
        import_file(reg, path, layer="shelters")


def test_header_only_file_has_no_rows(reg, tmp_path):
    with pytest.raises(SourceError, match="holds no rows"):
        import_file(reg, _csv(tmp_path, [HEADER]), layer="shelters")


BAD_ROWS = [
    ("self-intersecting polygon", "id,shelter_class,capacity_people,wkt",
     '9,emergency,10,"POLYGON ((9.52 47.14, 9.53 47.15, 9.53 47.14, 9.52 47.15, 9.52 47.14))"',
     "geometry", "invalid geometry: Self-intersection"),
    ("empty geometry", "id,shelter_class,capacity_people,wkt", "9,emergency,10,POINT EMPTY",
     "geometry", "empty geometry"),
    ("unparseable WKT", "id,shelter_class,capacity_people,wkt", "9,emergency,10,POINT (9.5",
     "wkt", "not valid WKT"),
    ("latitude out of range", HEADER, "9,x,emergency,10,open,9.52,95.3", "geometry",
     "coordinates out of range"),
    ("NaN coordinate", HEADER, "9,x,emergency,10,open,nan,47.1", "geometry", "not finite"),
    ("text coordinate", HEADER, "9,x,emergency,10,open,east,47.1", "lon", "'east' is not a number"),
    ("lat/lon swapped", HEADER, "9,x,emergency,10,open,47.1496,9.5175", "geometry",
     "latitude and longitude look swapped"),
    ("outside the region", HEADER, "9,x,emergency,10,open,8.5417,47.3769", "geometry",
     "outside the registry's region"),
    ("negative capacity", HEADER, "9,x,emergency,-10,open,9.52,47.14", "capacity_people",
     "-10 is negative"),
    ("unknown class", HEADER, "9,x,hotel,10,open,9.52,47.14", "shelter_class",
     "'hotel' is not one of"),
    ("unknown status", HEADER, "9,x,emergency,10,burning,9.52,47.14", "status",
     "'burning' is not one of open (开放), closed (关闭), full (已满), unsafe (不安全)"),
    ("duplicate id", HEADER, "S1,x,emergency,10,open,9.52,47.14", "id",
     "duplicate id 'S1' (also row 2)"),
    ("missing required field", HEADER, "9,x,,10,open,9.52,47.14", "shelter_class",
     "required field is missing"),
    ("non-integer capacity", HEADER, "9,x,emergency,ten,open,9.52,47.14", "capacity_people",
     "'ten' is not a valid int"),
]


@pytest.mark.parametrize("case", BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_one_bad_row_rejects_the_whole_file_with_its_row_and_field(reg, tmp_path, case):
    _, header, bad, field, message = case
    columns = header.split(",")
    good = [",".join(dict(zip(HEADER.split(","), row.split(","), strict=True)).get(c, "")
                     if c != "wkt" else "POINT (9.52 47.14)" for c in columns) for row in GOOD]
    problems = _rejected(reg, _csv(tmp_path, [header, good[0], good[1], bad, good[2]]))
    assert [(row, name) for row, name, _ in problems if name == field] == [(4, field)]
    assert any(message in text for row, name, text in problems if row == 4 and name == field)
    assert {row for row, _, _ in problems} == {4}


def test_ids_already_in_the_registry_are_duplicates(any_reg, tmp_path):
    reg = any_reg
    import_file(reg, _csv(tmp_path, [HEADER, GOOD[0]]), layer="shelters")
    with pytest.raises(RecordsRejectedError, match="id 'S1' already exists in shelters"):
        import_file(reg, _csv(tmp_path, [HEADER, *GOOD], name="again.csv"), layer="shelters")
    assert reg.counts()["shelters"] == 1


def test_negative_headcount_and_unknown_team_type(reg, tmp_path):
    lines = ["id,type,headcount,status,lon,lat", "T1,fire,-2,available,9.52,47.14",
             "T2,wizards,5,available,9.52,47.14", "T3,fire,5,asleep,9.52,47.14"]
    problems = _rejected(reg, _csv(tmp_path, lines), layer="teams")
    assert [(row, name) for row, name, _ in problems] == [(2, "headcount"), (3, "type"),
                                                          (4, "status")]


def test_inventory_rows_need_a_known_depot_item_and_non_negative_quantity(any_reg, tmp_path):
    reg = any_reg
    reg.add("depots", {"id": "D1", "geometry": shapely.Point(9.52, 47.14)})
    lines = ["depot,item,quantity", "D1,water,100", "D1,blankets,-5", "D9,water,1",
             "D1,caviar,3", "D1,water,7"]
    problems = _rejected(reg, _csv(tmp_path, lines), layer="inventory")
    assert [(row, name) for row, name, _ in problems] == [(3, "quantity"), (4, "depot"),
                                                          (5, "item"), (6, "item")]
    import_file(reg, _csv(tmp_path, lines[:2], name="ok.csv"), layer="inventory")
    assert reg.stock("D1") == {"water": 100}


def test_swiss_grid_csv_is_converted_to_wgs84(reg, tmp_path):
    to_lv95 = Transformer.from_crs("EPSG:4326", "EPSG:2056", always_xy=True)
    x, y = to_lv95.transform(9.5209, 47.1410)
    lines = ["id,type,headcount,x,y", f"T1,police,4,{x:.3f},{y:.3f}"]
    import_file(reg, _csv(tmp_path, lines), layer="teams", crs="EPSG:2056")
    point = reg.get("teams", "T1")["geometry"]
    assert (point.x, point.y) == pytest.approx((9.5209, 47.1410), abs=1e-7)


@pytest.mark.parametrize("crs", ["GCJ-02", "BD-09"])
def test_chinese_web_map_coordinates_are_converted(tmp_path, crs):
    wgs = (116.3913, 39.9075)
    shifted = [float(v) for v in cn_coords.FROM_WGS84[crs](*wgs)]
    lines = ["id,name,type,headcount,lng,lat",
             f"T1,天安门消防站,fire,9,{shifted[0]!r},{shifted[1]!r}"]
    with Registry(str(tmp_path / "china.sqlite")) as reg:
        import_file(reg, _csv(tmp_path, lines), layer="teams", crs=crs)
        point = reg.get("teams", "T1")["geometry"]
        assert (point.x, point.y) == pytest.approx(wgs, abs=1e-8)  # about 1 mm
        out = export_layer(reg.layer("teams"), tmp_path / "out.csv", crs=crs)
    exported = pd.read_csv(out)
    assert exported.loc[0, "name"] == "天安门消防站"
    assert (exported.loc[0, "lon"], exported.loc[0, "lat"]) == pytest.approx(shifted, abs=1e-9)


def test_unknown_crs_is_refused(reg, tmp_path):
    with pytest.raises(ValidationError, match="crs: unknown CRS 'EPSG:999999'"):
        import_file(reg, _csv(tmp_path, [HEADER, *GOOD]), layer="shelters", crs="EPSG:999999")


@pytest.mark.parametrize("suffix", ["csv", "geojson", "gpkg", "zip"])
def test_export_and_reimport_round_trip(reg, tmp_path, suffix):
    import_file(reg, _csv(tmp_path, [HEADER, *GOOD]), layer="shelters")
    reg.add("shelters", {"id": "S4", "name": "Park 公园", "shelter_class": "emergency",
                         "effective_area_m2": 812.5, "facilities": ["water", "toilets"],
                         "geometry": shapely.box(9.52, 47.14, 9.521, 47.141)})
    original = reg.layer("shelters")
    path = export_layer(original, tmp_path / f"shelters.{suffix}", layer="shelters",
                        encoding="gb18030" if suffix == "csv" else "utf-8")
    with Registry(str(tmp_path / "copy.sqlite")) as copy:
        import_file(copy, path, layer="shelters")
        again = copy.layer("shelters")
    assert sorted(again.index) == ["S1", "S2", "S3", "S4"]
    for column in ("name", "shelter_class", "capacity_people", "status", "facilities"):
        assert again.loc[original.index, column].tolist() == original[column].tolist(), column
    # Shapefiles turn rings clockwise: same shape, other vertex order.
    assert again.loc["S4", "geometry"].equals(original.loc["S4", "geometry"])


def test_geopackage_without_crs_needs_one(reg, tmp_path):
    frame = gpd.GeoDataFrame({"type": ["fire"], "headcount": [3]},
                             geometry=[shapely.Point(9.52, 47.14)])
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        frame.to_file(path, driver="GPKG")
    with pytest.raises(ValidationError,
                       match="file: .*nocrs.gpkg: layer 'nocrs': declares no CRS; give the CRS"):
        import_file(reg, path, layer="teams")
    import_file(reg, path, layer="teams", crs="EPSG:4326")
    assert reg.counts()["teams"] == 1


def test_a_given_crs_that_contradicts_the_declared_one_is_refused(reg, tmp_path):
    frame = gpd.GeoDataFrame({"type": ["fire"], "headcount": [3]},
                             geometry=[shapely.Point(9.52, 47.14)], crs=4326).to_crs(2056)
    path = tmp_path / "lv95.gpkg"
    frame.to_file(path, driver="GPKG")
    with pytest.raises(ValidationError, match="declares EPSG:2056 but the CRS given is EPSG:4326"):
        import_file(reg, path, layer="teams", crs="EPSG:4326")
    import_file(reg, path, layer="teams", crs="EPSG:2056")
    point = reg.layer("teams").geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((9.52, 47.14), abs=1e-7)  # about 1 cm


def test_report_lists_every_problem(reg, tmp_path):
    lines = [HEADER, GOOD[0], "9,x,hotel,-1,open,9.52,47.14", "10,y,emergency,5,open,95,95"]
    with pytest.raises(RecordsRejectedError) as caught:
        import_file(reg, _csv(tmp_path, lines), layer="shelters")
    report = write_report(caught.value.problems, tmp_path / "report.csv")
    rows = report.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "row,field,problem"
    assert [r.split(",")[:2] for r in rows[1:]] == [["3", "capacity_people"],
                                                    ["3", "shelter_class"], ["4", "geometry"]]


def test_report_cells_open_as_text_in_a_spreadsheet(reg, tmp_path):
    lines = ['id,name,shelter_class,capacity_people,lon,lat,"=HYPERLINK(""http://evil/"",""x"")"',
             "S1,Park,emergency,@SUM(1+1),9.52,47.14,1",
             "S2,-2+3,+cmd|' /C calc'!A0,-5,9.52,47.14,1"]
    with pytest.raises(RecordsRejectedError) as caught:
        import_file(reg, _csv(tmp_path, lines), layer="shelters")
    report = write_report(caught.value.problems, tmp_path / "report.csv")
    with report.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert '\'=HYPERLINK("http://evil/","x")' in cells  # the unknown column, quoted
    assert "'-5 is negative (must be ≥ 0)" in cells


@pytest.mark.slow
def test_hundred_thousand_rows_import_with_progress(reg, tmp_path, capsys, rng):
    n = 100_000
    lon, lat = rng.uniform(9.48, 9.62, n), rng.uniform(47.05, 47.26, n)
    lines = ["id,name,population,lon,lat"] + [
        f"P{i},居民点 {i},{i % 37},{lon[i]:.6f},{lat[i]:.6f}" for i in range(n)]
    ids = import_file(reg, _csv(tmp_path, lines), layer="population", progress=True)
    assert len(ids) == n and reg.counts()["population"] == n
    assert re.search(r"checking rows\.csv: +\d+%.*\d+/100000", capsys.readouterr().err)
    population = reg.layer("population")
    assert population["population"].sum() == pytest.approx(sum(i % 37 for i in range(n)))
    assert population.loc["P99999", "name"] == "居民点 99999"
    assert list(reg.nearby("population", lon[5], lat[5], radius_m=0.5).index) == ["P5"]


@pytest.mark.parametrize("suffix", ["csv", "geojson", "gpkg", "zip"])
def test_every_layer_round_trips(any_reg, tmp_path, suffix):
    reg = any_reg
    here = shapely.Point(9.52, 47.14)
    reg.add("shelters", {"id": "S1", "shelter_class": "emergency", "effective_area_m2": 500,
                         "facilities": ["water"], "geometry": here})
    reg.add("depots", {"id": "D1", "name": "Werkhof 仓库", "geometry": here.buffer(0.0002)})
    reg.set_stock("D1", "water", 250)
    reg.add("teams", {"id": "T1", "type": "hazmat", "headcount": 5, "equipment": ["suits"],
                      "turnout_s": 300, "geometry": here})
    reg.add("hazards", {"id": "H1", "type": "fuel_station", "radius_m": 100, "active": False,
                        "geometry": here})
    reg.add("incidents", {"id": "I1", "type": "flood", "severity": 3, "geometry": here,
                          "needs": {"teams": {"water_rescue": 2}, "supplies": {"sandbags": 500}}})
    reg.assign_team("I1", "T1")
    reg.add("population", {"id": "P1", "population": 12.5, "geometry": here})
    with Registry(str(tmp_path / "copy.sqlite")) as copy:
        for layer in ("shelters", "depots", "inventory", "teams", "hazards", "incidents",
                      "population"):
            path = export_layer(reg.layer(layer), tmp_path / f"{layer}.{suffix}", layer=layer)
            import_file(copy, path, layer=layer)
        assert copy.counts() == reg.counts()
        assert copy.get("incidents", "I1")["needs"] == {"teams": {"water_rescue": 2},
                                                        "supplies": {"sandbags": 500}}
        assert copy.get("teams", "T1")["status"] == "assigned"
        assert copy.get("teams", "T1")["equipment"] == ["suits"]
        assert copy.get("hazards", "H1")["active"] is False
        assert copy.stock("D1") == {"water": 250}
        assert copy.get("depots", "D1")["name"] == "Werkhof 仓库"
