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

from geo.errors import SourceError, ValidationError
from geo.io.crs import WGS84, crs_name, geometries_from_wgs84, is_wgs84, resolve_crs
from geo.io.encodings import codec
from geo.io.geojson import write_geojson
from geo.io.spreadsheet import protect_frame
from geo.io.vector import shapefile_name

SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".txt": "csv",
            ".gpkg": "gpkg", ".zip": "shp", ".shp": "shp"}
FORMATS = ("geojson", "csv", "gpkg", "shp")
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
                 layer: str = "layer", encoding: str = "utf-8", crs: str | None = None) -> Path:
    """Write a layer (a GeoDataFrame in EPSG:4326 indexed by id) as GeoJSON, CSV, GeoPackage
    or zipped Shapefile; ``crs`` converts the coordinates (an EPSG code, GCJ-02 or BD-09)."""
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
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "geojson":
        # The ids become the feature ids too; the other formats have no place for them.
        write_geojson(plain.set_axis(frame.index.rename(None)), path,
                      attribution=has_osm_source(frame))
    elif kind == "csv":
        _write_csv(plain, path, encoding=encoding)
    elif kind == "gpkg":
        plain.to_file(path, driver="GPKG", layer=layer, engine="pyogrio")
    else:
        _write_shapefile_zip(plain, path, layer=layer)
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
            part.to_file(stem.with_suffix(".shp"), driver="ESRI Shapefile", engine="pyogrio",
                         encoding="UTF-8")
            for written in sorted(Path(folder).glob(f"{stem.name}.*")):
                archive.write(written, written.name)
