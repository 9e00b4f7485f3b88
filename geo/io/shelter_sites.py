"""Candidate shelter sites from an extract's real OSM features: sports halls, schools, public
buildings, school grounds, stadiums, sports pitches, parks, squares, open spaces and open car
parks, each with its effective area, shelter class and capacity.

The effective area is a share of the real footprint (:data:`SITE_SOURCES`): a planning
assumption of this module, not a figure from GB 51143, GB/T 44013 or any other standard. It
stands for the part of a hall, a ground or a square people can actually use (fixed seating,
equipment, beds, paths and water left out) and is to be checked on site before a candidate is
planned as a shelter. Capacities follow from it and the per-capita area of the site's class
(:meth:`~geo.core.standards.ShelterStandards.capacity_people`).

Sources are taken in priority order. A candidate whose centre (``point_on_surface`` in the
metric CRS) lies in a site already taken (a pitch inside a stadium), or in a larger candidate of
the same source (a pitch inside a bigger pitch), is skipped; an unnamed site adopts the name of
a named candidate so skipped. Open ground leaves out the footprints of sites taken before it
that overlap it (a hall on school grounds), so no ground is counted twice. Sites are footprint
polygons; :func:`site_points` gives the point inside each that the nesting rule tested, for
analyses that need one point per site.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.crs import check_projected, utm_crs
from geo.core.files import write_atomically
from geo.core.standards import ShelterStandards
from geo.core.validate import is_finite_number
from geo.errors import SourceError, ValidationError
from geo.io.osm_features import FEATURE_KEYS, read_features

log = logging.getLogger(__name__)

MIN_EFFECTIVE_AREA_M2 = 200.0
FIXED_SITE_AREA_M2 = 10_000.0  # open sites with this much effective area are medium_term
SITE_KEYS = (*FEATURE_KEYS, "place", "highway")  # squares are tagged place= or highway=
COLUMNS = ["name", "kind", "indoor", "effective_area_m2", "shelter_class", "capacity_people",
           "source", "footprint_share", "usable_area_m2", "shares_ground"]


class SiteSource(NamedTuple):
    """A kind of site: its ``label``, the ``test`` on an OSM feature's tags, the share of the
    footprint counted as effective area (a planning assumption), and whether it is ``indoor``."""

    label: str
    test: Callable[[Mapping[str, str]], bool]
    share: float
    indoor: bool


def _sports_hall(tags: Mapping[str, str]) -> bool:
    return (tags.get("leisure") == "sports_centre" and "building" in tags
            or tags.get("building") in ("sports_hall", "gymnasium"))


def _school(tags: Mapping[str, str]) -> bool:
    return tags.get("building") in ("school", "university", "college", "kindergarten")


def _public_building(tags: Mapping[str, str]) -> bool:
    return (tags.get("building") in ("public", "civic", "government")
            or tags.get("amenity") in ("townhall", "community_centre"))


def _school_grounds(tags: Mapping[str, str]) -> bool:
    return tags.get("amenity") in ("school", "college", "university", "kindergarten")


def _square(tags: Mapping[str, str]) -> bool:
    return (tags.get("place") == "square"
            or tags.get("highway") == "pedestrian" and tags.get("area") == "yes")


def _open_car_park(tags: Mapping[str, str]) -> bool:
    """A public car park in the open: a usual emergency assembly area (紧急避难场所 plans list
    squares, green spaces and car parks); not multi-storey, underground or private ones."""
    return (tags.get("amenity") == "parking" and tags.get("parking", "surface") == "surface"
            and tags.get("access", "yes") in ("yes", "public", "customers", "permissive"))


# In priority order. Open spaces are only those meant for the public to gather on: recreation
# grounds, village greens and commons, and open car parks. Left out: playgrounds (small, full
# of equipment, and mostly inside parks already counted) and landuse=grass/meadow (verges and
# farmland as often as public lawns).
SITE_SOURCES: tuple[SiteSource, ...] = (
    SiteSource("sports hall", _sports_hall, 0.7, True),
    SiteSource("school", _school, 0.7, True),
    SiteSource("public building", _public_building, 0.6, True),
    SiteSource("school grounds", _school_grounds, 0.5, False),
    SiteSource("stadium", lambda t: t.get("leisure") == "stadium", 0.6, False),
    SiteSource("sports pitch", lambda t: t.get("leisure") == "pitch", 0.9, False),
    SiteSource("park", lambda t: t.get("leisure") == "park", 0.6, False),
    SiteSource("square", _square, 0.7, False),
    SiteSource("recreation ground", lambda t: t.get("landuse") == "recreation_ground", 0.6,
               False),
    SiteSource("village green", lambda t: t.get("landuse") == "village_green"
               or t.get("leisure") == "common", 0.6, False),
    SiteSource("open car park", _open_car_park, 0.8, False),
)


def shelter_sites(features: gpd.GeoDataFrame, *, metric_crs: str, standards: ShelterStandards,
                  min_effective_area_m2: float = MIN_EFFECTIVE_AREA_M2,
                  shelter_class: str | None = None,
                  sources: Sequence[SiteSource] = SITE_SOURCES) -> gpd.GeoDataFrame:
    """The candidate sites among ``features`` (as read by
    :func:`~geo.io.osm_features.read_features`; squares need :data:`SITE_KEYS`) with at least
    ``min_effective_area_m2`` of effective area, areas measured in ``metric_crs``.

    Index ``id`` ("osm-way-123"); columns ``name`` (the OSM name, else "school (way/123)"),
    ``kind`` (the source's label), ``indoor``, ``effective_area_m2`` (rounded to 0.1 m²),
    ``shelter_class`` (``shelter_class`` if given; else indoor sites short_term, open ones
    medium_term from :data:`FIXED_SITE_AREA_M2` of effective area, emergency below),
    ``capacity_people``, ``source`` ("osm:way/123"), ``footprint_share``, ``usable_area_m2``
    (the footprint the share applies to), ``shares_ground`` (whether sites taken before this
    open ground touch or overlap it, their footprints left out) and the footprint ``geometry``
    in EPSG:4326."""
    _check_options(standards, metric_crs=metric_crs, shelter_class=shelter_class,
                   min_effective_area_m2=min_effective_area_m2)
    areas = features[(features["kind"] == "area").to_numpy()]
    projected = areas.geometry.to_crs(metric_crs).to_numpy()
    lonlat = areas.geometry.to_crs("EPSG:4326")
    taken: list = []
    rows = []
    for label, test, share, indoor in sources:
        chosen = np.flatnonzero(areas["tags"].map(test).to_numpy(dtype=bool)
                                & (shapely.area(projected) * share >= min_effective_area_m2))
        names = np.array([t.get("name") or "" for t in areas["tags"].iloc[chosen]], dtype=object)
        kept, adopted = _not_nested(projected[chosen], chosen, names, taken)
        for i in kept:
            footprint = projected[i]
            # Open ground leaves out what other sites (a hall on it, an overlapping stadium)
            # already counted.
            inner = [shape for shape in taken if shape.intersects(footprint)] if not indoor else []
            usable = footprint.difference(shapely.union_all(inner)) if inner else footprint
            effective = usable.area * share
            if effective < min_effective_area_m2:
                continue
            taken.append(footprint)
            area = round(effective, 1)
            site_class = shelter_class or ("short_term" if indoor else
                                           "medium_term" if effective >= FIXED_SITE_AREA_M2
                                           else "emergency")
            osm_id, tags = areas["osm_id"].iloc[i], areas["tags"].iloc[i]
            rows.append({
                "id": "osm-" + osm_id.replace("/", "-"),
                "name": adopted.get(i) or tags.get("name") or f"{label} ({osm_id})",
                "kind": label, "indoor": indoor, "effective_area_m2": area,
                "shelter_class": site_class,
                "capacity_people": standards.capacity_people(area, site_class),
                "source": f"osm:{osm_id}", "footprint_share": share,
                "usable_area_m2": usable.area, "shares_ground": bool(inner),
                "geometry": _single(lonlat.iloc[i]),
            })
    log.info("%d candidate shelter sites from %d OSM areas", len(rows), len(areas))
    frame = pd.DataFrame(rows, columns=["id", *COLUMNS]).set_index("id")
    return gpd.GeoDataFrame(frame, geometry=[row["geometry"] for row in rows], crs="EPSG:4326")


def osm_candidate_sites(osm_path: str | Path, *, standards: ShelterStandards,
                        shelter_class: str | None = None,
                        min_effective_area_m2: float = MIN_EFFECTIVE_AREA_M2,
                        cache_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """:func:`shelter_sites` of an OSM extract, from every source in :data:`SITE_SOURCES`,
    areas measured in the UTM zone at the extract's centre. With ``cache_dir``, kept there
    (``sites/<key>.gpkg``; reading an extract's features takes seconds, the cached sites
    milliseconds) for the same extract, options, standards and code."""
    _check_options(standards, shelter_class=shelter_class,
                   min_effective_area_m2=min_effective_area_m2)
    if cache_dir is None:
        return _read_sites(osm_path, standards=standards, shelter_class=shelter_class,
                           min_effective_area_m2=min_effective_area_m2)
    target = _cache_path(osm_path, cache_dir, standards=standards, shelter_class=shelter_class,
                         min_effective_area_m2=min_effective_area_m2)
    if target.exists():
        try:
            return _load_sites(target)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:  # damaged: read again
            log.warning("candidate sites cache %s is unreadable (%s); reading the extract",
                        target, type(exc).__name__)
    sites = _read_sites(osm_path, standards=standards, shelter_class=shelter_class,
                        min_effective_area_m2=min_effective_area_m2)
    try:
        write_atomically(target, lambda partial: sites.reset_index().to_file(
            partial, driver="GPKG", layer="sites", engine="pyogrio"), field="cache")
    except SourceError as exc:  # a read-only cache only costs a re-read next time
        log.warning("candidate sites not cached: %s", exc)
    return sites


def _cache_path(osm_path: str | Path, cache_dir: str | Path, *, standards: ShelterStandards,
                shelter_class: str | None, min_effective_area_m2: float) -> Path:
    path = Path(osm_path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from exc
    per_capita = {key: c.per_capita_area_m2 for key, c in standards.classes.items()}
    key = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, shelter_class,
                      min_effective_area_m2, per_capita, _code_digest()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return Path(cache_dir) / "sites" / f"{path.name.split('.')[0]}-{digest}.gpkg"


@functools.cache
def _code_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _load_sites(target: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(target, engine="pyogrio").set_index("id")
    for column in ("indoor", "shares_ground"):
        frame[column] = frame[column].astype(bool)
    return frame[[*COLUMNS, "geometry"]]


def _read_sites(osm_path: str | Path, *, standards: ShelterStandards, shelter_class: str | None,
                min_effective_area_m2: float) -> gpd.GeoDataFrame:
    features = read_features(osm_path, keys=SITE_KEYS)
    if len(features) == 0:
        metric = "EPSG:32632"  # any projected CRS: there is nothing to measure
    else:
        west, south, east, north = features.total_bounds
        metric = utm_crs((west + east) / 2, (south + north) / 2)
    return shelter_sites(features, metric_crs=metric, standards=standards,
                         min_effective_area_m2=min_effective_area_m2, shelter_class=shelter_class)


def site_points(sites: gpd.GeoDataFrame, *, metric_crs: str) -> gpd.GeoSeries:
    """A point inside each site's footprint (EPSG:4326, indexed like ``sites``): the one the
    nesting rule of :func:`shelter_sites` tested, taken in the same ``metric_crs``."""
    check_projected(metric_crs, field="metric_crs")
    projected = sites.geometry.to_crs(metric_crs)
    points = shapely.point_on_surface(projected.to_numpy())
    return gpd.GeoSeries(points, index=sites.index, crs=metric_crs).to_crs("EPSG:4326")


def _check_options(standards: ShelterStandards, *, shelter_class: str | None,
                   min_effective_area_m2: float, metric_crs: str | None = None) -> None:
    """Every bad option at once, each naming its argument."""
    problems = []
    if shelter_class is not None and shelter_class not in standards.classes:
        problems.append(("shelter_class", f"{shelter_class!r} is not one of "
                                          f"{', '.join(standards.classes)}"))
    if not (is_finite_number(min_effective_area_m2) and min_effective_area_m2 > 0):
        problems.append(("min_effective_area_m2", f"expected a finite, positive number of m², "
                                                  f"got {min_effective_area_m2!r}"))
    if metric_crs is not None:
        try:
            check_projected(metric_crs, field="metric_crs")
        except ValidationError as exc:
            problems.append(("metric_crs", str(exc).removeprefix("metric_crs: ")))
    if problems:
        raise ValidationError("; ".join(f"{field}: {problem}" for field, problem in problems),
                              problems=tuple(problems))


def _not_nested(candidates: np.ndarray, ids: np.ndarray, names: np.ndarray,
                taken: list) -> tuple[np.ndarray, dict[int, str]]:
    """``ids`` of the candidates whose centre lies neither in a site already taken (a pitch
    inside a stadium) nor in a larger candidate (a pitch inside a bigger pitch), and the names
    unnamed holders adopt from named features nested in them. Spatial-index queries, not a
    test per pair."""
    centres = shapely.point_on_surface(candidates)
    drop = set()
    if taken:
        drop |= set(shapely.STRtree(taken).query(centres, predicate="within")[0].tolist())
    point, holder = shapely.STRtree(candidates).query(centres, predicate="within")
    area = shapely.area(candidates)
    nested = (point != holder) & ((area[holder] > area[point])
                                  | ((area[holder] == area[point]) & (holder < point)))
    drop |= set(point[nested].tolist())
    adopted = {int(ids[h]): names[p] for p, h in zip(point[nested], holder[nested], strict=True)
               if names[p] and not names[h]}
    return np.array([i for n, i in enumerate(ids) if n not in drop], dtype=int), adopted


def _single(geometry):
    """A one-part MultiPolygon as a Polygon."""
    if geometry.geom_type == "MultiPolygon" and len(geometry.geoms) == 1:
        return geometry.geoms[0]
    return geometry
