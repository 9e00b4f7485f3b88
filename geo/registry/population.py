"""Population as demand points: a building-based proxy, a population raster, or census polygons.

The proxy spreads a total population over residential buildings in proportion to their floor
area (footprint × ``building:levels``, with a default where the tag is missing); the total is
the user's, a published figure for the extract, or estimated from that floor area at a stated
floor area per person (:func:`population_total` says which). It is a stand-in for real
figures: where a population grid (e.g. GHS-POP, WorldPop, a national 100 m grid) or census
polygons exist, load them with :func:`population_from_raster` or
:func:`population_from_polygons` instead. Every function returns points in EPSG:4326 with a
``population`` column (people), ready for :meth:`geo.registry.Registry.add_many` and coverage.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import SourceError, ValidationError
from geo.io.vector import read_vector

log = logging.getLogger(__name__)

# Liechtenstein's permanent resident population, rounded: 39,055 on 31 Dec 2020 and 39,308 on
# 31 Dec 2021 (Amt für Statistik Liechtenstein, Bevölkerungsstand, statistikportal.li); 40,015
# on 31 Dec 2023. The extract is older (OSM data up to 2015). Configurable.
LIECHTENSTEIN_POPULATION = 39_000
LIECHTENSTEIN_SOURCE = ("Liechtenstein's resident population in 2020-21, Amt für Statistik "
                        "Liechtenstein")
DEFAULT_LEVELS = 2.0
# Floor area per resident, to estimate a total where none is given: a planning assumption, of
# the order of the national averages of housing floor area per person, 41.8 m² in China (2020
# census, 家庭户人均住房建筑面积, 《中国人口普查年鉴-2020》) and 30-45 m² of useful floor space in
# most European countries (UNECE and Eurostat housing statistics). Footprint × levels also
# counts walls, stairs and some non-residential "building=yes", and tall buildings without
# building:levels count as DEFAULT_LEVELS storeys: the estimate is rough (on the extracts here,
# Monaco gets about 27,000 people for some 38,000 residents, Liechtenstein about 79,000 for
# 39,000). Where the real total is known, give it.
M2_PER_PERSON = 40.0
MIN_FOOTPRINT_M2 = 30.0  # smaller "building=yes" outlines are sheds, kiosks, carports
RESIDENTIAL_BUILDINGS = frozenset({
    "residential", "house", "apartments", "detached", "semidetached_house", "terrace", "farm",
    "bungalow", "dormitory", "cabin", "hut"})
# A building=yes with any of these keys is a shop, office, school, ... not a home.
NON_RESIDENTIAL_KEYS = ("amenity", "shop", "office", "craft", "tourism", "industrial",
                        "leisure", "healthcare", "emergency", "man_made")
NON_RESIDENTIAL_LANDUSE = frozenset({"industrial", "commercial", "retail", "military", "railway",
                                     "farmyard", "quarry"})


def parse_levels(value) -> float:
    """``building:levels`` as a number of storeys (NaN when missing or unreadable)."""
    if value is None:
        return float("nan")
    match = re.match(r"\s*(\d+(?:[.,]\d+)?)", str(value))
    if not match:
        return float("nan")
    levels = float(match.group(1).replace(",", "."))
    return levels if 0 < levels < 200 else float("nan")


def residential_buildings(features: gpd.GeoDataFrame, *, metric_crs: str) -> gpd.GeoDataFrame:
    """The buildings counted as homes, in ``metric_crs``, with ``footprint_m2`` and ``levels``.

    Counted: residential building types; ``building=yes`` of at least 30 m² that carries no
    shop/office/amenity-like tag and does not stand in industrial, commercial or similar land."""
    areas = features[features["kind"] == "area"].to_crs(metric_crs)
    building = areas["tags"].map(lambda t: t.get("building"))
    landuse = areas["tags"].map(lambda t: t.get("landuse"))
    footprint = areas.geometry.area
    typed_home = building.isin(RESIDENTIAL_BUILDINGS)
    plain = (building == "yes") & ~areas["tags"].map(
        lambda t: any(k in t for k in NON_RESIDENTIAL_KEYS)) & (footprint >= MIN_FOOTPRINT_M2)
    blocked = areas[landuse.isin(NON_RESIDENTIAL_LANDUSE).to_numpy()]
    if len(blocked) and plain.any():
        centres = areas.geometry[plain].representative_point()
        inside = gpd.sjoin(gpd.GeoDataFrame(geometry=centres, crs=metric_crs),
                           blocked[["geometry"]], predicate="within").index.unique()
        plain.loc[inside] = False
    homes = areas[(typed_home | plain).to_numpy()].copy()
    homes["footprint_m2"] = homes.geometry.area
    homes["levels"] = homes["tags"].map(lambda t: parse_levels(t.get("building:levels")))
    return homes


@dataclass(frozen=True)
class PopulationTotal:
    """The people a building-based population layer spreads, and where the number comes from:
    ``method`` is "given" (by the user), "official" (a published figure for the extract) or
    "estimated" (from residential floor area); ``note`` says so in one line."""

    people: float
    method: str
    note: str

    def to_dict(self) -> dict:
        return {"people": self.people, "method": self.method, "note": self.note}


def population_total(homes: gpd.GeoDataFrame, *, given: float | None = None,
                     official: tuple[float, str] | None = None,
                     default_levels: float = DEFAULT_LEVELS,
                     m2_per_person: float = M2_PER_PERSON) -> PopulationTotal:
    """The total to spread over ``homes`` (from :func:`residential_buildings`): ``given`` if
    the user gave one, else an ``official`` (people, source) figure known for the extract, else
    an estimate: residential floor area ÷ ``m2_per_person``."""
    if given is not None:
        if not (np.isfinite(given) and given >= 0):
            raise ValidationError(f"population: expected a non-negative number of people, got "
                                  f"{given!r}")
        return PopulationTotal(float(given), "given", f"{given:,.0f} people, the total given "
                               f"by the user, spread over residential floor area")
    if official is not None:
        people, source = official
        return PopulationTotal(float(people), "official", f"{people:,.0f} people ({source}), "
                               f"spread over residential floor area")
    if not (np.isfinite(m2_per_person) and m2_per_person > 0):
        raise ValidationError(f"m2_per_person: expected a positive number, got "
                              f"{m2_per_person!r}")
    area_m2 = float(floor_area_m2(homes, default_levels=default_levels).sum())
    people = area_m2 / m2_per_person
    return PopulationTotal(people, "estimated", (
        f"{people:,.0f} people estimated from {area_m2:,.0f} m² of residential floor area in "
        f"OSM (footprint × building:levels, {default_levels:g} where missing) at "
        f"{m2_per_person:g} m² per person, a planning assumption; give the real total where "
        f"known"))


def floor_area_m2(homes: gpd.GeoDataFrame, *, default_levels: float = DEFAULT_LEVELS,
                  ) -> np.ndarray:
    """Each home's floor area: footprint × levels (``default_levels`` where unknown)."""
    if not (np.isfinite(default_levels) and default_levels > 0):
        raise ValidationError(f"default_levels: expected a positive number, got "
                              f"{default_levels!r}")
    levels = homes["levels"].fillna(default_levels).to_numpy(dtype=float)
    return homes["footprint_m2"].to_numpy(dtype=float) * levels


def population_from_buildings(homes: gpd.GeoDataFrame, *, total_population: float,
                              default_levels: float = DEFAULT_LEVELS) -> gpd.GeoDataFrame:
    """Demand points: ``total_population`` apportioned to ``homes`` (from
    :func:`residential_buildings`) by floor area = footprint × levels (``default_levels`` where
    the tag is missing). Points are the buildings' representative points, in EPSG:4326."""
    if not (np.isfinite(total_population) and total_population >= 0):
        raise ValidationError(f"total_population: expected a non-negative number, got "
                              f"{total_population!r}")
    if len(homes) == 0:
        raise ValidationError("population: no residential buildings to spread the population on")
    floor_area = floor_area_m2(homes, default_levels=default_levels)
    share = floor_area / floor_area.sum()
    points = homes.geometry.representative_point().to_crs("EPSG:4326")
    frame = gpd.GeoDataFrame({
        "id": ["P-" + osm_id.replace("/", "-") for osm_id in homes["osm_id"]],
        "population": total_population * share,
        "floor_area_m2": floor_area,
        "source": homes["osm_id"].map(lambda i: f"osm:{i}").to_numpy(),
        "notes": np.where(homes["levels"].isna(), f"proxy; levels defaulted to {default_levels:g}",
                          "proxy; levels from building:levels"),
    }, geometry=points.to_numpy(), crs="EPSG:4326")
    return frame


def population_from_raster(path: str | Path, *, band: int = 1,
                           min_population: float = 0.0) -> gpd.GeoDataFrame:
    """Demand points at the centres of a population raster's cells (people per cell, e.g.
    GHS-POP or WorldPop counts), skipping nodata and cells at or below ``min_population``."""
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as source:
            values = source.read(band, masked=True).astype(float)
            transform, crs = source.transform, source.crs
    except (RasterioIOError, IndexError) as exc:
        raise SourceError(f"{path}: cannot read the population raster ({exc})") from exc
    if crs is None:
        raise ValidationError(f"{path}: the raster declares no CRS")
    data = values.filled(np.nan)
    rows, cols = np.nonzero(np.isfinite(data) & (data > min_population))
    # Cell centres through the affine transform (written out: affine's ``*`` is deprecated).
    col_c, row_c = cols + 0.5, rows + 0.5
    x = transform.c + col_c * transform.a + row_c * transform.b
    y = transform.f + col_c * transform.d + row_c * transform.e
    frame = gpd.GeoDataFrame({
        "id": [f"P-r{r}c{c}" for r, c in zip(rows, cols, strict=True)],
        "population": data[rows, cols],
        "source": Path(path).name,
    }, geometry=shapely.points(x, y), crs=crs)
    return frame.to_crs("EPSG:4326")


def population_from_polygons(polygons: gpd.GeoDataFrame | str | Path, *,
                             column: str = "population",
                             crs: str | None = None) -> gpd.GeoDataFrame:
    """Demand points at the representative points of census polygons (a GeoDataFrame, or a
    vector file read by :func:`geo.io.vector.read_vector` with ``crs`` for a file that declares
    none), with the people count from ``column``."""
    frame = (polygons if isinstance(polygons, gpd.GeoDataFrame)
             else read_vector(polygons, field="polygons", crs=crs))
    if column not in frame:
        raise ValidationError(f"column: {column!r} is not a column of the census polygons "
                              f"(have {', '.join(map(str, frame.columns))})")
    if frame.crs is None:
        raise ValidationError("census polygons: no CRS declared")
    people = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(people) | (people < 0))
    if len(bad):
        raise ValidationError(f"{column}: rows {', '.join(str(i + 1) for i in bad[:10])} are "
                              f"missing, negative or not numbers")
    points = frame.geometry.representative_point().to_crs("EPSG:4326")
    return gpd.GeoDataFrame({"population": people,
                             "id": [f"P-c{i + 1}" for i in range(len(frame))]},
                            geometry=points.to_numpy(), crs="EPSG:4326")
