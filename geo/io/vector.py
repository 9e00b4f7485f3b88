"""Reading vector files (GeoJSON, GeoPackage, Shapefile plain or zipped, CSV, and whatever else
GDAL opens) into WGS84 lon/lat, for analyses, census polygons and registry imports alike.

The CRS policy, one for every file read:

1. The CRS the file declares wins: a Shapefile's ``.prj``, a GeoPackage layer's SRS, the 2008
   GeoJSON ``crs`` member.
2. Else the ``crs`` the caller gives: anything pyproj reads (an EPSG code), or GCJ-02 / BD-09.
3. Else WGS84, but only where the format defines it: GeoJSON (RFC 7946) and CSV coordinate
   columns (lon/lat, or WKT as this package's CSV exports write it).
4. Else the file is refused with a :class:`~geo.errors.ValidationError` naming the field and
   asking for the CRS: a Shapefile without ``.prj`` or a GeoPackage layer without SRS is not
   guessed.

A given ``crs`` that differs from the declared one is refused rather than preferred: one of the
two is wrong and only the user knows which. The exception is GCJ-02 / BD-09 over a declared
WGS84: no file format can declare those offset systems, so files in them say WGS84.

:func:`read_vector` then refuses coordinates that cannot be lon/lat (|lon| > 180, |lat| > 90),
which catches projected numbers in a file that claims, or is assumed to be, WGS84.
:func:`read_rows` (registry imports) leaves that check to the registry, which reports it per row.
Every error names the ``field`` (the option or argument the file came from) and the path.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj import CRS

from geo.errors import RowProblem, SourceError, ValidationError
from geo.io.crs import WGS84, Crs, crs_name, geometries_to_wgs84, is_wgs84, resolve_crs, same_crs
from geo.io.encodings import decode
from geo.io.spreadsheet import unprotect_frame

CSV_SUFFIXES = (".csv", ".txt")
GEOJSON_SUFFIXES = (".geojson", ".json")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
OGR_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError)
SHOWN_PROBLEMS = 3


@dataclass
class ReadRows:
    """What a file holds, before anyone checks it: one record per row (fields plus a WGS84
    ``geometry``), the row labels used in reports, and the problems found while reading."""

    records: list[dict] = field(default_factory=list)
    labels: list[object] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class _Source:
    """A file being read and how, handed to the reader of its format."""

    path: Path
    field: str
    crs: Crs | None
    encoding: str | None
    has_geometry: bool
    field_names: tuple[str, ...]
    typed: bool

    @property
    def where(self) -> str:
        return f"{self.field}: {self.path}"


def read_vector(path: str | Path, *, field: str, crs: str | None = None) -> gpd.GeoDataFrame:
    """The features of a vector file in EPSG:4326, their CRS decided by the policy above.

    ``field`` names the option or argument in every error ("--facilities: /x.gpkg: no such
    file"); ``crs`` is the CRS of a file that declares none. Raises
    :class:`~geo.errors.SourceError` for a missing, unreadable or empty file and
    :class:`~geo.errors.ValidationError` for a missing or conflicting CRS, bad rows or
    coordinates that are not lon/lat."""
    where = f"{field}: {Path(path)}"
    rows = read_rows(path, field=field, crs=crs, typed=True)
    missing = [RowProblem(label, "geometry", "required field is missing")
               for label, record in zip(rows.labels, rows.records) if record["geometry"] is None]
    if rows.problems or missing:
        raise ValidationError(f"{where}: {_problems_text(rows.problems + missing, rows.labels)}")
    frame = gpd.GeoDataFrame(pd.DataFrame.from_records(rows.records), geometry="geometry",
                             crs=WGS84)
    _check_lonlat(frame.geometry.to_numpy(), rows.labels, where=where)
    return frame


def _problems_text(problems: list[RowProblem], labels: Sequence[object]) -> str:
    """The first few problems in row order (as found within a row), and how many more."""
    order = {label: i for i, label in enumerate(labels)}
    problems = sorted(problems, key=lambda p: order.get(p.row, -1))
    shown = "; ".join(str(p) for p in problems[:SHOWN_PROBLEMS])
    extra = len(problems) - SHOWN_PROBLEMS
    return shown + (f"; and {extra} more" if extra > 0 else "")


def read_rows(path: str | Path, *, field: str = "file", crs: str | None = None,
              encoding: str | None = None, has_geometry: bool = True,
              field_names: Sequence[str] = (), typed: bool = False) -> ReadRows:
    """The rows of a vector file with geometries in WGS84, problems of single rows (a bad
    number or WKT, an odd GeoJSON feature) collected rather than raised.

    ``has_geometry=False`` accepts a CSV without coordinate columns. ``field_names`` are the
    long names a Shapefile cut to 10 characters, mapped back. ``typed`` reads CSV numbers as
    numbers; by default CSV cells stay text, for a caller that converts and reports each."""
    source = _Source(Path(path), field, resolve_crs(crs, field=f"{field}: crs"), encoding,
                     has_geometry, tuple(field_names), typed)
    if not source.path.is_file():
        raise SourceError(f"{source.where}: no such file")
    if source.path.stat().st_size == 0:
        raise SourceError(f"{source.where}: the file is empty")
    name = source.path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        rows = _read_csv(source)
    elif name.endswith(GEOJSON_SUFFIXES):
        rows = _read_geojson(source)
    else:
        rows = _read_ogr(source)
    if not rows.records:
        raise SourceError(f"{source.where}: holds no rows")
    return rows


def source_crs(declared: Crs | None, given: Crs | None, *, implied_wgs84: bool,
               where: str) -> Crs:
    """The CRS of a file's coordinates by the policy above; ``where`` prefixes the errors."""
    if declared is not None:
        if given is None or same_crs(declared, given):
            return declared
        if isinstance(given, str) and is_wgs84(declared):
            return given  # GCJ-02 / BD-09 cannot be declared, so such files say WGS84
        raise ValidationError(f"{where}: declares {crs_name(declared)} but the CRS given is "
                              f"{crs_name(given)}; leave the CRS out to use the file's, or fix "
                              f"the file")
    if given is not None:
        return given
    if implied_wgs84:
        return CRS.from_epsg(4326)
    raise ValidationError(f"{where}: declares no CRS; give the CRS of its coordinates (an EPSG "
                          f"code such as EPSG:32632, or GCJ-02 / BD-09)")


def _check_lonlat(geometries: np.ndarray, labels: Sequence[object], *, where: str) -> None:
    xmin, ymin, xmax, ymax = shapely.bounds(geometries).T
    present = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    inside = (np.abs(xmin) <= 180) & (np.abs(xmax) <= 180) & (np.abs(ymin) <= 90) & (
        np.abs(ymax) <= 90)  # False for NaN too
    bad = np.flatnonzero(present & ~inside)
    if len(bad):
        first = bad[0]
        raise ValidationError(
            f"{where}: {len(bad)} of {len(geometries)} row(s) are not longitude/latitude (row "
            f"{labels[first]}: x {xmin[first]:.6g}, y {ymin[first]:.6g}); if the file is in a "
            f"projected CRS, give it (e.g. EPSG:32632)")


def _read_bytes(source: _Source) -> bytes:
    try:
        return source.path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{source.where}: cannot read ({exc.strerror})") from exc


# ---- CSV ------------------------------------------------------------------------------------


def _read_csv(source: _Source) -> ReadRows:
    text = decode(_read_bytes(source), source.encoding, name=source.where)
    if not text.strip():
        raise SourceError(f"{source.where}: the file is empty")
    frame = _parse_csv(text, source, typed=False)
    labels: list[object] = list(range(2, len(frame) + 2))  # line numbers: header is line 1
    rows = ReadRows(labels=labels)
    geometries = _csv_geometries(frame, labels, rows.problems, source)
    if source.typed:  # the same text again, letting pandas infer the number columns
        frame = _parse_csv(text, source, typed=True)[list(frame.columns)]
    if geometries is not None:
        crs = source_crs(None, source.crs, implied_wgs84=True, where=source.where)
        geometries = geometries_to_wgs84(geometries, crs)
    rows.records = frame.to_dict("records")
    if geometries is not None:
        for record, geometry in zip(rows.records, geometries):
            record["geometry"] = geometry
    return rows


def _parse_csv(text: str, source: _Source, *, typed: bool) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=None if typed else str,
                            keep_default_na=typed, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{source.where}: not a readable CSV "
                          f"({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return unprotect_frame(frame)  # the quote our CSV exports put before formula-like text


def _find_column(columns: Iterable[str], names: Sequence[str]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _csv_geometries(frame: pd.DataFrame, labels, problems: list[RowProblem],
                    source: _Source) -> np.ndarray | None:
    """Points from lon/lat columns or shapes from a WKT column, popped from ``frame``."""
    lon_col, lat_col = (_find_column(frame.columns, LON_COLUMNS),
                        _find_column(frame.columns, LAT_COLUMNS))
    wkt_col = _find_column(frame.columns, WKT_COLUMNS)
    if lon_col and lat_col:
        lon = _numbers(frame.pop(lon_col), lon_col, labels, problems)
        lat = _numbers(frame.pop(lat_col), lat_col, labels, problems)
        return np.asarray(shapely.points(lon, lat), dtype=object)
    if wkt_col:
        texts = frame.pop(wkt_col).to_numpy(dtype=object)
        blank = np.array([not str(t).strip() for t in texts], dtype=bool)
        wkt = texts.copy()
        wkt[blank] = None
        geometries = shapely.from_wkt(wkt, on_invalid="ignore")
        for i in np.flatnonzero(~blank & pd.isna(geometries)):
            problems.append(RowProblem(labels[i], wkt_col, f"not valid WKT: {texts[i][:40]!r}"))
        return geometries
    if source.has_geometry:
        raise ValidationError(f"{source.where}: no geometry columns; expected lon/lat (or lng, "
                              f"longitude, 经度/纬度) or a WKT column (wkt, geometry)")
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


# ---- GeoJSON --------------------------------------------------------------------------------


def _read_geojson(source: _Source) -> ReadRows:
    try:
        data = json.loads(decode(_read_bytes(source), None, name=source.where))
    except json.JSONDecodeError as exc:
        raise SourceError(f"{source.where}: not valid JSON ({exc.msg} at line "
                          f"{exc.lineno})") from None
    except RecursionError:  # json gives up on arrays or objects nested ~1000 deep
        raise SourceError(f"{source.where}: not GeoJSON (arrays or objects nested too "
                          f"deeply)") from None
    kind = data.get("type") if isinstance(data, dict) else type(data).__name__
    if kind != "FeatureCollection":
        raise ValidationError(f"{source.where}: expected a GeoJSON FeatureCollection, "
                              f"got {kind!r}")
    if not isinstance(data.get("features"), list):
        raise ValidationError(f"{source.where}: the FeatureCollection has no 'features' list")
    crs = source_crs(_declared_geojson_crs(data, source), source.crs, implied_wgs84=True,
                     where=source.where)
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
    for record, geometry in zip(rows.records, converted):
        record["geometry"] = geometry
    return rows


def _declared_geojson_crs(data: dict, source: _Source) -> Crs | None:
    """The 2008 GeoJSON ``crs`` member, which RFC 7946 dropped but older files still carry."""
    member = data.get("crs")
    properties = member.get("properties") if isinstance(member, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    return resolve_crs(str(name), field=f"{source.where}: 'crs' member") if name else None


def _geojson_geometry(value, number: int, problems: list[RowProblem]):
    if value is None:
        return None
    try:
        return shapely.geometry.shape(value)
    except RecursionError:
        problems.append(RowProblem(number, "geometry", "not a GeoJSON geometry (coordinates "
                                                       "nested too deeply)"))
        return None
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError, IndexError,
            AttributeError) as exc:
        problems.append(RowProblem(number, "geometry", f"not a GeoJSON geometry ({exc})"))
        return None


# ---- GeoPackage, Shapefile and the rest of GDAL ---------------------------------------------


def shapefile_name(name: str) -> str:
    """Shapefile field names hold 10 characters."""
    return name if len(name) <= 10 else name[:10]


def _read_ogr(source: _Source) -> ReadRows:
    """Every layer of the file (a zipped export holds one Shapefile per geometry type)."""
    path = source.path
    location = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(location)]
        frames = [gpd.read_file(location, layer=name, engine="pyogrio") for name in names]
    except OGR_ERRORS as exc:
        raise SourceError(f"{source.where}: cannot read ({str(exc).splitlines()[0]})") from None
    rows = ReadRows()
    long_names = {shapefile_name(f): f for f in source.field_names}
    for name, frame in zip(names, frames):
        crs = source_crs(frame.crs, source.crs, implied_wgs84=False,
                         where=f"{source.where}: layer {name!r}")
        geometries = geometries_to_wgs84(frame.geometry.to_numpy(), crs)
        attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        attributes.columns = [long_names.get(c, c) for c in attributes.columns]
        for i, record in enumerate(attributes.to_dict("records")):
            record["geometry"] = geometries[i]
            rows.records.append(record)
            rows.labels.append(f"{name}:{i + 1}" if len(names) > 1 else i + 1)
    return rows
