"""Import and export of registry layers: GeoJSON, CSV, GeoPackage and zipped Shapefile.

Imports are all-or-nothing: the file is read, every row is checked (reading problems such as an
unparseable number or WKT, and the registry's own checks), and either every row goes into the
database in one transaction or nothing does and :class:`~geo.registry.RecordsRejectedError` lists
each problem as (row, field, problem). Coordinates may be in any CRS pyproj knows (an EPSG code)
or in the Chinese web-map systems GCJ-02 and BD-09; they are stored in WGS84. CSV files may be
UTF-8 (with or without a byte-order mark) or GBK/GB18030 (Chinese Excel exports), detected or
given.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from tqdm import tqdm

from geo import OSM_ATTRIBUTION
from geo.core.progress import on_terminal
from geo.errors import SourceError, ValidationError
from geo.io import cn_coords
from geo.registry.registry import Registry, RowProblem
from geo.registry.schema import DERIVED_COLUMNS, layer_spec

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".txt": "csv",
            ".gpkg": "gpkg", ".zip": "shp", ".shp": "shp"}
FORMATS = ("geojson", "csv", "gpkg", "shp")
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gbk",
             "gb2312": "gbk", "gb18030": "gb18030", "cp936": "gbk"}
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
SHAPEFILE_FAMILIES = {"Point": "point", "MultiPoint": "point", "LineString": "line",
                      "MultiLineString": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}


@dataclass
class ReadRows:
    """What a file holds, before the registry checks it: one record per row (fields plus a
    WGS84 ``geometry``), the row labels used in reports, and the problems found while reading."""

    records: list[dict] = field(default_factory=list)
    labels: list[object] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


# ---- CRS ------------------------------------------------------------------------------------


def resolve_crs(text: str | None) -> str | CRS | None:
    """``"GCJ-02"`` / ``"BD-09"``, a pyproj CRS (EPSG code, WKT, PROJ string), or None."""
    if text is None or str(text).strip() == "":
        return None
    chinese = cn_coords.chinese_crs(text)
    if chinese:
        return chinese
    value = str(text).strip()
    try:
        return CRS.from_user_input(f"EPSG:{value}" if value.isdigit() else value)
    except CRSError:
        raise ValidationError(f"crs: unknown CRS {text!r} (give an EPSG code such as EPSG:4326, "
                              f"or GCJ-02 / BD-09)") from None


def geometries_to_wgs84(geometries: np.ndarray, crs: str | CRS | None) -> np.ndarray:
    """An array of shapely geometries from ``crs`` (default WGS84) to WGS84 lon/lat."""
    return _reproject(geometries, crs, to_wgs84=True)


def geometries_from_wgs84(geometries: np.ndarray, crs: str | CRS | None) -> np.ndarray:
    """An array of WGS84 geometries to ``crs`` (default: left in WGS84)."""
    return _reproject(geometries, crs, to_wgs84=False)


def _reproject(geometries: np.ndarray, crs: str | CRS | None, *, to_wgs84: bool) -> np.ndarray:
    if crs is None:
        return geometries
    if isinstance(crs, str):
        convert = (cn_coords.TO_WGS84 if to_wgs84 else cn_coords.FROM_WGS84)[crs]
    elif crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return geometries
    else:
        pair = (crs, WGS84) if to_wgs84 else (WGS84, crs)
        convert = Transformer.from_crs(*pair, always_xy=True).transform
    return shapely.transform(geometries, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1])))


# ---- reading --------------------------------------------------------------------------------


def file_format(path: Path, fmt: str | None = None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
        return fmt
    for suffix, name in SUFFIXES.items():
        if path.name.lower().endswith(suffix):
            return name
    raise SourceError(f"{path}: unknown file type; expected one of {', '.join(SUFFIXES)}")


def read_rows(path: str | Path, *, layer: str, crs: str | None = None,
              encoding: str | None = None) -> ReadRows:
    """The rows of a GeoJSON, CSV, GeoPackage or zipped Shapefile, with geometries in WGS84."""
    path = Path(path)
    layer_spec(layer)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise SourceError(f"{path}: the file is empty")
    source_crs = resolve_crs(crs)
    kind = file_format(path)
    if kind == "csv":
        rows = _read_csv(path, layer=layer, crs=source_crs, encoding=encoding)
    elif kind == "geojson":
        rows = _read_geojson(path, crs=source_crs)
    else:
        rows = _read_ogr(path, layer=layer, crs=source_crs)
    if not rows.records:
        raise SourceError(f"{path}: holds no rows to import")
    return rows


def decode(data: bytes, encoding: str | None = None, *, name: str = "file") -> str:
    """Text of a CSV: the given encoding, else UTF-8 (BOM or not), else GB18030 (covers GBK)."""
    if encoding is not None:
        codec = ENCODINGS.get(encoding.strip().lower())
        if codec is None:
            raise ValidationError(f"encoding: {encoding!r} is not one of "
                                  f"{', '.join(sorted(set(ENCODINGS)))}")
        try:
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{name}: not valid {encoding} at byte {exc.start}; "
                              f"try another --encoding") from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise SourceError(f"{name}: neither UTF-8 nor GBK/GB18030 text; give --encoding")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from exc


def _find_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _read_csv(path: Path, *, layer: str, crs, encoding: str | None) -> ReadRows:
    text = decode(_read_bytes(path), encoding, name=str(path))
    if not text.strip():
        raise SourceError(f"{path}: the file is empty")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    labels = list(range(2, len(frame) + 2))  # line numbers: the header is line 1
    rows = ReadRows(labels=labels)
    geometries = _csv_geometries(frame, labels, rows.problems, has_geometry=layer_spec(
        layer).has_geometry, name=str(path))
    if geometries is not None:
        geometries = geometries_to_wgs84(geometries, crs)
    records = frame.to_dict("records")
    for i, record in enumerate(records):
        if geometries is not None:
            record["geometry"] = geometries[i]
    rows.records = records
    return rows


def _csv_geometries(frame: pd.DataFrame, labels, problems: list[RowProblem], *,
                    has_geometry: bool, name: str) -> np.ndarray | None:
    lon_col, lat_col = _find_column(frame.columns, LON_COLUMNS), _find_column(frame.columns,
                                                                             LAT_COLUMNS)
    wkt_col = _find_column(frame.columns, WKT_COLUMNS)
    if lon_col and lat_col:
        lon = _numbers(frame.pop(lon_col), lon_col, labels, problems)
        lat = _numbers(frame.pop(lat_col), lat_col, labels, problems)
        return shapely.points(lon, lat)
    if wkt_col:
        texts = frame.pop(wkt_col).to_numpy(dtype=object)
        blank = np.array([not str(t).strip() for t in texts])
        geometries = shapely.from_wkt(np.where(blank, None, texts), on_invalid="ignore")
        for i in np.flatnonzero(~blank & pd.isna(geometries)):
            problems.append(RowProblem(labels[i], wkt_col, f"not valid WKT: {texts[i][:40]!r}"))
        return geometries
    if has_geometry:
        raise ValidationError(f"{name}: no geometry columns; expected lon/lat (or lng, longitude, "
                              f"经度/纬度) or a WKT column (wkt, geometry)")
    return None


def _numbers(column: pd.Series, name: str, labels, problems: list[RowProblem]) -> np.ndarray:
    values = pd.to_numeric(column.str.strip(), errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(np.isnan(values)):
        raw = str(column.iloc[i]).strip()
        if raw.lower() == "nan":
            continue  # a NaN coordinate: reported by the geometry check
        problem = "required field is missing" if not raw else f"{raw!r} is not a number"
        problems.append(RowProblem(labels[i], name, problem))
    return values


def _read_geojson(path: Path, *, crs) -> ReadRows:
    try:
        data = json.loads(decode(_read_bytes(path), None, name=str(path)))
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    kind = data.get("type") if isinstance(data, dict) else type(data).__name__
    if kind != "FeatureCollection":
        raise ValidationError(f"{path}: expected a GeoJSON FeatureCollection, got {kind!r}")
    if not isinstance(data.get("features"), list):
        raise ValidationError(f"{path}: the FeatureCollection has no 'features' list")
    if crs is None and isinstance(data.get("crs"), dict):  # the 2008 GeoJSON "crs" member
        crs = resolve_crs(str((data["crs"].get("properties") or {}).get("name", "")) or None)
    rows = ReadRows()
    geometries = []
    for number, feature in enumerate(data["features"], start=1):
        rows.labels.append(number)
        feature = feature if isinstance(feature, dict) else {}
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            rows.problems.append(RowProblem(number, "properties", "expected an object"))
            properties = {}
        record = dict(properties)
        if feature.get("id") is not None and "id" not in record:
            record["id"] = feature["id"]
        geometries.append(_geojson_geometry(feature.get("geometry"), number, rows.problems))
        rows.records.append(record)
    converted = geometries_to_wgs84(np.array(geometries, dtype=object), crs)
    for record, geometry in zip(rows.records, converted, strict=True):
        record["geometry"] = geometry
    return rows


def _geojson_geometry(value, number: int, problems: list[RowProblem]):
    if value is None:
        return None
    try:
        return shapely.geometry.shape(value)
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError, IndexError,
            AttributeError) as exc:
        problems.append(RowProblem(number, "geometry", f"not a GeoJSON geometry ({exc})"))
        return None


def _read_ogr(path: Path, *, layer: str, crs) -> ReadRows:
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(source)]
        frames = [gpd.read_file(source, layer=name, engine="pyogrio") for name in names]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise SourceError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None
    rows = ReadRows()
    long_names = {_short_name(f): f for f in (*layer_spec(layer).field_names, "id",
                                               *DERIVED_COLUMNS)}
    for name, frame in zip(names, frames, strict=True):
        declared = frame.crs
        if crs is None and declared is None:
            raise ValidationError(f"{path}: layer {name!r} declares no CRS; give --crs")
        geometries = geometries_to_wgs84(frame.geometry.to_numpy(),
                                         crs if crs is not None else declared)
        attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        attributes.columns = [long_names.get(c, c) for c in attributes.columns]
        for i, record in enumerate(attributes.to_dict("records")):
            record["geometry"] = geometries[i]
            rows.records.append(record)
            rows.labels.append(f"{name}:{i + 1}" if len(names) > 1 else i + 1)
    return rows


def tqdm_progress(description: str, *, enabled: bool | None = None) -> Callable:
    """A progress wrapper for :meth:`Registry.add_many` (shown on a terminal by default)."""
    show = on_terminal() if enabled is None else enabled

    def wrap(items, total=None):
        return tqdm(items, total=total, desc=description, disable=not show, file=sys.stderr,
                    mininterval=0.5, leave=False)

    return wrap


def import_file(registry: Registry, path: str | Path, *, layer: str, crs: str | None = None,
                encoding: str | None = None, actor: str = "import",
                progress: bool | None = None) -> list[str]:
    """Import a file into ``layer`` in one transaction; returns the new ids.

    Any bad row rejects the whole file with :class:`~geo.registry.RecordsRejectedError`, whose
    ``problems`` give each row number, field and problem."""
    rows = read_rows(path, layer=layer, crs=crs, encoding=encoding)
    name = Path(path).name
    if "source" in layer_spec(layer).field_names:
        for record in rows.records:
            if not record.get("source"):
                record["source"] = name
    wrap = tqdm_progress(f"checking {name}", enabled=progress)
    ids = registry.add_many(layer, rows.records, actor=actor, labels=rows.labels,
                            known_problems=rows.problems, progress=wrap)
    log.info("imported %d %s from %s", len(ids), layer, path)
    return ids


def write_report(problems: Sequence[RowProblem], path: str | Path) -> Path:
    """The validation report as CSV (row, field, problem), UTF-8 with BOM for Excel."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "field", "problem"])
        writer.writerows([p.row, p.field, p.problem] for p in problems)
    return path


# ---- writing --------------------------------------------------------------------------------


def export_layer(frame: gpd.GeoDataFrame, path: str | Path, *, fmt: str | None = None,
                 layer: str = "layer", encoding: str = "utf-8", crs: str | None = None) -> Path:
    """Write a layer (a GeoDataFrame in EPSG:4326 indexed by id) as GeoJSON, CSV, GeoPackage
    or zipped Shapefile; ``crs`` converts the coordinates (an EPSG code, GCJ-02 or BD-09)."""
    path = Path(path)
    kind = file_format(path, fmt)
    target = resolve_crs(crs)
    plain = _plain_columns(frame)
    geometries = geometries_from_wgs84(plain.geometry.to_numpy(), target)
    out_crs = None if isinstance(target, str) else (target or WGS84)
    plain = gpd.GeoDataFrame(plain.drop(columns="geometry"), geometry=list(geometries),
                             crs=out_crs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "geojson":
        _write_geojson(plain, path, credit=_has_osm_source(frame))
    elif kind == "csv":
        _write_csv(plain, path, encoding=encoding)
    elif kind == "gpkg":
        plain.to_file(path, driver="GPKG", layer=layer, engine="pyogrio")
    else:
        _write_shapefile_zip(plain, path, layer=layer)
    return path


def _plain_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lists and mappings as JSON text, times as ISO text, the id as a column."""
    plain = frame.reset_index()
    for column in plain.columns:
        if column == "geometry":
            continue
        values = plain[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            plain[column] = values.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object)
        elif values.dtype == object and values.map(lambda v: isinstance(v, list | dict)).any():
            plain[column] = values.map(lambda v: json.dumps(v, ensure_ascii=False)
                                       if isinstance(v, list | dict) else v)
    return plain


def _has_osm_source(frame: gpd.GeoDataFrame) -> bool:
    return "source" in frame and frame["source"].astype(str).str.startswith("osm").any()


def _write_geojson(frame: gpd.GeoDataFrame, path: Path, *, credit: bool) -> None:
    collection = json.loads(frame.to_json(na="null", drop_id=True))
    if credit:
        collection["attribution"] = OSM_ATTRIBUTION
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


def _write_csv(frame: gpd.GeoDataFrame, path: Path, *, encoding: str) -> None:
    codec = ENCODINGS.get(encoding.strip().lower())
    if codec is None:
        raise ValidationError(f"encoding: {encoding!r} is not one of "
                              f"{', '.join(sorted(set(ENCODINGS)))}")
    table = pd.DataFrame(frame.drop(columns="geometry"))
    geometry = frame.geometry
    if len(frame) and (geometry.geom_type == "Point").all():
        table["lon"], table["lat"] = geometry.x, geometry.y
    else:
        table["wkt"] = shapely.to_wkt(geometry.to_numpy(), rounding_precision=-1)
    try:
        table.to_csv(path, index=False, encoding=codec)
    except UnicodeEncodeError as exc:
        raise ValidationError(f"encoding: a value cannot be written as {encoding} "
                              f"({exc.object[exc.start:exc.end]!r}); use utf-8") from None


def _short_name(name: str) -> str:
    """Shapefile field names hold 10 characters."""
    return name if len(name) <= 10 else name[:10]


def _write_shapefile_zip(frame: gpd.GeoDataFrame, path: Path, *, layer: str) -> None:
    """One shapefile per geometry family (a shapefile holds one), zipped together."""
    names = {c: _short_name(c) for c in frame.columns if c != "geometry"}
    if len(set(names.values())) != len(names):
        raise ValidationError("format: field names clash when cut to 10 characters for a "
                              "Shapefile; export as GeoPackage")
    frame = frame.rename(columns=names)
    families = frame.geometry.geom_type.map(SHAPEFILE_FAMILIES)
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED) as archive:
        for family in sorted(families.dropna().unique()) or ["point"]:
            part = frame[(families == family).to_numpy()] if len(frame) else frame
            stem = Path(folder) / (f"{layer}_{family}" if families.nunique() > 1 else layer)
            part.to_file(stem.with_suffix(".shp"), driver="ESRI Shapefile", engine="pyogrio",
                         encoding="UTF-8")
            for written in sorted(Path(folder).glob(f"{stem.name}.*")):
                archive.write(written, written.name)
