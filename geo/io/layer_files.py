"""Exporting registry layers as GeoJSON, CSV, GeoPackage or zipped Shapefile.

Coordinates are written in WGS84 or, on request, in any CRS pyproj knows (an EPSG code) or in
the Chinese web-map systems GCJ-02 and BD-09; GeoJSON is always WGS84 lon/lat (RFC 7946). CSV
may be written in any encoding (GBK for Chinese Excel), its text cells safe to open in a
spreadsheet (:mod:`geo.io.spreadsheet`). Reading the files back is
:func:`geo.io.vector.read_rows`; importing them into the registry is
:mod:`geo.registry.imports`.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.core.files import write_atomically, write_text_atomically
from geo.errors import SourceError, ValidationError
from geo.io.crs import WGS84, crs_name, geometries_from_wgs84, is_wgs84, resolve_crs
from geo.io.encodings import codec
from geo.io.geojson import geojson_text
from geo.io.spreadsheet import protect_frame
from geo.io.vector import OGR_ERRORS, shapefile_name

SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".txt": "csv",
            ".gpkg": "gpkg", ".zip": "shp", ".shp": "shp"}
FORMATS = ("geojson", "csv", "gpkg", "shp")
EXTENSIONS = {"geojson": ".geojson", "csv": ".csv", "gpkg": ".gpkg", "shp": ".zip"}
SHAPEFILE_FAMILIES = {"Point": "point", "MultiPoint": "point", "LineString": "line",
                      "MultiLineString": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}


def file_format(path: Path, fmt: str | None = None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
        return fmt
    for suffix, name in SUFFIXES.items():
        if path.name.lower().endswith(suffix):
            return name
    raise SourceError(f"{path}: unknown file type; expected one of {', '.join(SUFFIXES)}")


def export_layer(frame: gpd.GeoDataFrame, path: str | Path, *, fmt: str | None = None,
                 layer: str = "layer", encoding: str = "utf-8", crs: str | None = None,
                 field: str = "out") -> Path:
    """Write a layer (a GeoDataFrame in EPSG:4326 indexed by id) as GeoJSON, CSV, GeoPackage
    or zipped Shapefile, whole or not at all (:func:`geo.core.files.write_atomically`);
    ``crs`` converts the coordinates (an EPSG code, GCJ-02 or BD-09). Write errors name
    ``field``."""
    path = Path(path)
    kind = file_format(path, fmt)
    target = resolve_crs(crs)
    if kind == "geojson" and not (target is None or is_wgs84(target)):
        raise ValidationError(f"crs: GeoJSON is always WGS84 lon/lat (RFC 7946); export CSV, "
                              f"GeoPackage or Shapefile for {crs_name(target)}")
    plain = _plain_columns(frame)
    geometries = geometries_from_wgs84(plain.geometry.to_numpy(), target)
    out_crs = None if isinstance(target, str) else (target or WGS84)
    plain = gpd.GeoDataFrame(plain.drop(columns="geometry"), geometry=list(geometries),
                             crs=out_crs)
    if kind == "geojson":
        # The ids become the feature ids too; the other formats have no place for them.
        text = geojson_text(plain.set_axis(frame.index.rename(None)),
                            attribution=has_osm_source(frame))
        write_text_atomically(path, text, field=field)
        return path
    writers = {"csv": lambda out: _write_csv(plain, out, encoding=encoding),
               "gpkg": lambda out: _to_file(plain, out, driver="GPKG", layer=layer),
               "shp": lambda out: _write_shapefile_zip(plain, out, layer=layer)}
    write_atomically(path, writers[kind], field=field, suffix=EXTENSIONS[kind])
    return path


def has_osm_source(frame: gpd.GeoDataFrame) -> bool:
    """Whether any record comes from OSM (its ``source`` starts with "osm"), so that an export
    must carry the OSM credit (the rule of :mod:`geo.io.geojson`)."""
    return "source" in frame and bool(frame["source"].astype(str).str.startswith("osm").any())


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


def _write_csv(frame: gpd.GeoDataFrame, path: Path, *, encoding: str) -> None:
    name = codec(encoding)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    geometry = frame.geometry
    if len(frame) and (geometry.geom_type == "Point").all():
        table["lon"], table["lat"] = geometry.x, geometry.y
    else:
        table["wkt"] = shapely.to_wkt(geometry.to_numpy(), rounding_precision=-1)
    try:
        # CRLF as Excel writes it; it also makes the writer quote a name holding a lone CR.
        protect_frame(table).to_csv(path, index=False, encoding=name, lineterminator="\r\n")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"encoding: a value cannot be written as {encoding} "
                              f"({exc.object[exc.start:exc.end]!r}); use utf-8") from None


def _to_file(frame: gpd.GeoDataFrame, path: Path, **options) -> None:
    try:
        frame.to_file(path, engine="pyogrio", **options)
    except OGR_ERRORS as exc:  # GDAL reports a failed write as its own error, not an OSError
        raise OSError(str(exc).splitlines()[0]) from exc


def _write_shapefile_zip(frame: gpd.GeoDataFrame, path: Path, *, layer: str) -> None:
    """One shapefile per geometry family (a shapefile holds one), zipped together."""
    names = {c: shapefile_name(c) for c in frame.columns if c != "geometry"}
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
            _to_file(part, stem.with_suffix(".shp"), driver="ESRI Shapefile", encoding="UTF-8")
            _check_shapefile_complete(stem.with_suffix(".shp"))
            for written in sorted(Path(folder).glob(f"{stem.name}.*")):
                archive.write(written, written.name)


def _check_shapefile_complete(shp: Path) -> None:
    """GDAL does not report failed writes of a Shapefile's parts (a full disk leaves them cut
    short without an error), so check each part is as long as its own header says."""
    expected = {}
    for part in (shp, shp.with_suffix(".shx")):
        header = _head(part, 28)
        expected[part] = int.from_bytes(header[24:28], "big") * 2  # length in 16-bit words
    dbf = _head(shp.with_suffix(".dbf"), 12)
    records, header_length, record_length = (int.from_bytes(dbf[4:8], "little"),
                                             int.from_bytes(dbf[8:10], "little"),
                                             int.from_bytes(dbf[10:12], "little"))
    if header_length < 33 or record_length < 1:  # a header never finished
        raise OSError(".dbf part left without its header; is the disk full?")
    expected[shp.with_suffix(".dbf")] = header_length + records * record_length
    for part, size in expected.items():
        if part.stat().st_size < size:
            raise OSError(f"{part.suffix} part cut short at {part.stat().st_size} of {size} "
                          f"bytes; is the disk full?")


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        header = handle.read(size)
    if len(header) < size:
        raise OSError(f"{path.suffix} part cut short; is the disk full?")
    return header
