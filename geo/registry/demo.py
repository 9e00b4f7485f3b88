"""The demo registry, built from the real OSM features of an extract (Liechtenstein by default).

Real from OpenStreetMap: where shelters, team bases, depots and hazards are, their names and
footprints, the Rhine, and the buildings the population proxy is spread over (the total is the
user's, Liechtenstein's published one, or estimated from their floor area, and the registry
says which: :attr:`~geo.registry.Registry.population_source`). Invented, and
marked ``demo`` in each record's notes: effective-area shares, shelter classes for open sites,
facilities, the teams themselves (type, headcount, equipment, status, turnout time), depot
inventories, and the width of the flood band. Areas are measured in the extract's UTM zone.
The registry itself is marked as a demo (:attr:`~geo.registry.Registry.demo`), so that every
output built from it can say so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.crs import utm_crs
from geo.core.hazard_rules import load_hazard_rules
from geo.core.resources import LIECHTENSTEIN_OSM, data_path
from geo.core.standards import ShelterStandards
from geo.core.vocabulary import (
    SHELTER_OPEN,
    TEAM_ASSIGNED,
    TEAM_AVAILABLE,
    TEAM_EN_ROUTE,
    TEAM_OFF_DUTY,
    TEAM_RETURNING,
)
from geo.errors import ValidationError
from geo.io.osm_features import read_features, tag
from geo.io.shelter_sites import MIN_EFFECTIVE_AREA_M2, SITE_SOURCES, shelter_sites
from geo.registry.population import (
    DEFAULT_LEVELS,
    LIECHTENSTEIN_POPULATION,
    LIECHTENSTEIN_SOURCE,
    M2_PER_PERSON,
    population_from_buildings,
    population_total,
    residential_buildings,
)
from geo.registry.registry import Registry
from geo.registry.schema import DEFAULT_CATALOGUE

log = logging.getLogger(__name__)

DEMO_OSM = data_path(LIECHTENSTEIN_OSM)
DEMO_ACTOR = "demo"
WITHOUT_TAKEN = " without the part already counted for another shelter"
FLOOD_BAND_M = 250.0
RIVER_NAME = "Rhein"
DEMO_LAYERS = ("shelters", "depots", "teams", "hazards", "population")

# The demo's shelters come from the site sources it was first built with, so that its registry
# stays the same; squares and open spaces are siting candidates only.
DEMO_SOURCE_LABELS = ("sports hall", "school", "public building", "school grounds", "stadium",
                      "sports pitch", "park")
SHELTER_SOURCES = tuple(source for source in SITE_SOURCES if source.label in DEMO_SOURCE_LABELS)
# Teams per kind of base: (type, headcount range, turnout range in s, equipment). Demo values;
# Liechtenstein's fire brigades are volunteer (Freiwillige Feuerwehr), hence minutes to turn out.
TEAM_KINDS = {
    "fire": ((6, 10), (240, 420), ["pump", "ladder", "breathing apparatus"]),
    "comprehensive": ((8, 14), (300, 480), ["rescue tools", "pump", "lighting"]),
    "water_rescue": ((4, 8), (300, 600), ["boat", "life jackets", "pumps"]),
    "hazmat": ((4, 6), (420, 600), ["protective suits", "gas detectors"]),
    "search_rescue": ((6, 12), (300, 600), ["search cameras", "shoring"]),
    "medical": ((2, 3), (60, 120), ["ambulance", "defibrillator"]),
    "police": ((2, 4), (60, 120), ["patrol car", "barriers"]),
    "volunteer": ((10, 20), (900, 1800), ["radios", "first aid"]),
}
SECOND_FIRE_TEAMS = ("comprehensive", "water_rescue", "hazmat", "search_rescue")
STATUSES = (TEAM_AVAILABLE, TEAM_ASSIGNED, TEAM_EN_ROUTE, TEAM_RETURNING, TEAM_OFF_DUTY)
STATUS_WEIGHTS = (0.7, 0.1, 0.05, 0.05, 0.1)
DEMO_NOTE = "demo values: type, headcount, equipment, status and turnout time are invented"
REGISTRY_NOTE = ("demo registry: positions, names and footprints are real OpenStreetMap features; "
                 "team attributes, depot inventories, shelter classes and effective areas, the "
                 "flood band and the spread of the population are invented demo values")


def build_demo(registry: Registry, *, osm_path: str | Path = DEMO_OSM,
               total_population: float | None = None,
               default_levels: float = DEFAULT_LEVELS, m2_per_person: float = M2_PER_PERSON,
               seed: int = 0, replace: bool = False, actor: str = DEMO_ACTOR) -> dict[str, int]:
    """Fill ``registry`` with the demo layers of ``osm_path``; returns the layer counts.

    The population is ``total_population`` if given; else, for the embedded Liechtenstein
    extract, its published total; else estimated from residential floor area at
    ``m2_per_person``. Which one it is goes into the registry (``population_source``, and the
    demo note every output shows). The registry must be empty unless ``replace`` (which clears
    the demo layers first)."""
    _check_population_options(total_population, default_levels, m2_per_person)
    counts = registry.counts()
    if any(counts.values()) and not replace:
        raise ValidationError("registry: not empty; build the demo into a new database, or "
                              "replace its layers (--replace)")
    features = read_features(osm_path)
    if len(features) == 0:
        raise ValidationError(f"{osm_path}: no OSM features to build a demo from")
    homes = residential_buildings(features, metric_crs=metric_crs(features))
    official = ((LIECHTENSTEIN_POPULATION, LIECHTENSTEIN_SOURCE)
                if Path(osm_path).resolve() == DEMO_OSM.resolve() else None)
    total = population_total(homes, given=total_population, official=official,
                             default_levels=default_levels, m2_per_person=m2_per_person)
    layers = demo_layers(features, standards=registry.standards, total_population=total.people,
                         default_levels=default_levels, seed=seed, homes=homes)
    with registry.transaction():  # all layers or none
        if replace:
            for name in ("inventory", *DEMO_LAYERS, "incidents"):
                registry.clear(name, actor=actor)
        west, south, east, north = features.total_bounds
        registry.set_region([west, south, east, north], actor=actor)
        registry.mark_demo(Path(osm_path).name, note=f"{REGISTRY_NOTE}; population: {total.note}",
                           actor=actor)
        registry.set_population_source(**total.to_dict(), actor=actor)
        for name in DEMO_LAYERS:
            registry.add_many(name, _records(layers[name]), actor=actor)
        registry.add_many("inventory", layers["inventory"].to_dict("records"), actor=actor)
    log.info("built the demo registry from %s; population: %s", osm_path, total.note)
    return registry.counts()


def _check_population_options(total_population: float | None, default_levels: float,
                              m2_per_person: float) -> None:
    """Every bad population option at once, before the extract is read."""
    problems = []
    if total_population is not None and not (np.isfinite(total_population)
                                             and total_population >= 0):
        problems.append(f"population: expected a non-negative number of people, got "
                        f"{total_population!r}")
    if not (np.isfinite(default_levels) and default_levels > 0):
        problems.append(f"default_levels: expected a positive number, got {default_levels!r}")
    if not (np.isfinite(m2_per_person) and m2_per_person > 0):
        problems.append(f"m2_per_person: expected a positive number, got {m2_per_person!r}")
    if problems:
        raise ValidationError("; ".join(problems))


def demo_layers(features: gpd.GeoDataFrame, *, standards: ShelterStandards,
                total_population: float | None = None,
                default_levels: float = DEFAULT_LEVELS, seed: int = 0,
                homes: gpd.GeoDataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The demo layers (GeoDataFrames in EPSG:4326; ``inventory`` a DataFrame) from OSM
    features read by :func:`geo.osm_features.read_features`. The population spreads
    ``total_population`` (default: estimated, see :func:`population_total`) over ``homes``
    (default: the :func:`residential_buildings` of the features)."""
    rng = np.random.default_rng(seed)
    metric = metric_crs(features)
    shelters = demo_shelters(features, standards=standards, metric_crs=metric)
    bases = team_bases(features)
    depots = demo_depots(features, metric_crs=metric)
    if homes is None:
        homes = residential_buildings(features, metric_crs=metric)
    if total_population is None:
        total_population = population_total(homes, default_levels=default_levels).people
    return {
        "shelters": shelters,
        "teams": demo_teams(bases, rng=rng),
        "depots": depots,
        "inventory": demo_inventory(depots, rng=rng),
        "hazards": demo_hazards(features, metric_crs=metric),
        "population": population_from_buildings(homes, total_population=total_population,
                                                default_levels=default_levels),
    }


def metric_crs(features: gpd.GeoDataFrame) -> str:
    """The UTM zone at the centre of the features (EPSG:32632 for Liechtenstein)."""
    west, south, east, north = features.total_bounds
    return utm_crs((west + east) / 2, (south + north) / 2)


def _name(tags: Mapping, label: str, osm_id: str) -> str:
    return tags.get("name") or f"{label} ({osm_id})"


def _single(geometry):
    """A one-part MultiPolygon as a Polygon."""
    if geometry.geom_type == "MultiPolygon" and len(geometry.geoms) == 1:
        return geometry.geoms[0]
    return geometry


def demo_shelters(features: gpd.GeoDataFrame, *, standards: ShelterStandards,
                  metric_crs: str) -> gpd.GeoDataFrame:
    """Shelters on the :func:`~geo.io.shelter_sites.shelter_sites` of real schools, sports halls,
    public buildings, stadiums, pitches and parks (:data:`SHELTER_SOURCES`), with demo status,
    facilities and notes."""
    sites = shelter_sites(features, metric_crs=metric_crs, standards=standards,
                          min_effective_area_m2=MIN_EFFECTIVE_AREA_M2, sources=SHELTER_SOURCES)
    rows = [{
        "id": "S-" + site.source.removeprefix("osm:").replace("/", "-"),
        "name": site.name, "shelter_class": site.shelter_class,
        "effective_area_m2": site.effective_area_m2, "capacity_people": site.capacity_people,
        "status": SHELTER_OPEN,
        "facilities": ["water", "power", "toilets"] if site.indoor else ["water"],
        "source": site.source,
        "notes": f"demo: {site.kind}; effective area = {site.footprint_share:.0%} of the OSM "
                 f"footprint ({site.usable_area_m2:.0f} m²"
                 f"{WITHOUT_TAKEN if site.shares_ground else ''}); class and facilities are "
                 f"demo assumptions",
        "geometry": site.geometry,
    } for site in sites.itertuples()]
    return _frame(rows)


def team_bases(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Real fire stations, police stations, hospitals and clinics, and town halls (for a
    volunteer team), as points: ``base_kind``, ``name``, ``osm_id``."""
    amenity = tag(features, "amenity")
    kinds = {"fire_station": "fire", "police": "police", "hospital": "medical",
             "clinic": "medical", "townhall": "volunteer"}
    chosen = features[amenity.isin(list(kinds)).to_numpy()].copy()
    chosen["base_kind"] = tag(chosen, "amenity").map(kinds)
    chosen["name"] = [_name(t, k.replace("_", " ") + " base", o) for t, k, o in
                      zip(chosen["tags"], chosen["base_kind"], chosen["osm_id"], strict=True)]
    chosen = chosen.set_geometry(chosen.geometry.representative_point())
    # One volunteer base is enough: a municipal town hall (Rathaus) if there is one.
    halls = chosen[chosen["base_kind"] == "volunteer"]
    municipal = halls["name"].str.contains("Rathaus|Gemeinde", regex=True)
    volunteer = halls.assign(rank=~municipal).sort_values(["rank", "osm_id"]).head(1)
    volunteer = volunteer.drop(columns="rank")
    return pd.concat([chosen[chosen["base_kind"] != "volunteer"], volunteer]).sort_values(
        ["base_kind", "osm_id"]).reset_index(drop=True)


def demo_teams(bases: gpd.GeoDataFrame, *, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Teams at the real bases; every attribute but the position and base name is invented."""
    rows = []
    fire_seen = 0
    for base in bases.itertuples():
        types = [base.base_kind] * (2 if base.base_kind == "medical" else 1)
        if base.base_kind == "fire":
            types.append(SECOND_FIRE_TEAMS[fire_seen % len(SECOND_FIRE_TEAMS)])
            fire_seen += 1
        for n, team_type in enumerate(types, start=1):
            (low_h, high_h), (low_t, high_t), equipment = TEAM_KINDS[team_type]
            first_fire_team = team_type == "fire" and fire_seen == 1
            status = (TEAM_AVAILABLE if first_fire_team
                      else str(rng.choice(STATUSES, p=STATUS_WEIGHTS)))
            rows.append({
                "id": f"T-{base.osm_id.replace('/', '-')}-{n}",
                "name": f"{base.name} · {team_type.replace('_', ' ')} {n}",
                "type": team_type, "headcount": int(rng.integers(low_h, high_h + 1)),
                "equipment": list(equipment), "home_base": base.name, "status": status,
                "turnout_s": float(30 * round(rng.uniform(low_t, high_t) / 30)),
                "source": f"osm:{base.osm_id}", "notes": DEMO_NOTE, "geometry": base.geometry,
            })
    return _frame(rows)


def demo_depots(features: gpd.GeoDataFrame, *, metric_crs: str,
                industrial: int = 2) -> gpd.GeoDataFrame:
    """Depots at real warehouses, town halls and the ``industrial`` largest industrial
    buildings (footprints)."""
    areas = features[features["kind"] == "area"]
    building, amenity = tag(areas, "building"), tag(areas, "amenity")
    size = areas.geometry.to_crs(metric_crs).area
    warehouses = areas[(building == "warehouse").to_numpy()]
    townhalls = areas[(amenity == "townhall").to_numpy()]
    largest = size[(building == "industrial").to_numpy()].sort_values(ascending=False)
    chosen = pd.concat([warehouses, townhalls, areas.loc[largest.index[:industrial]]])
    rows = [{
        "id": "D-" + row.osm_id.replace("/", "-"),
        "name": _name(row.tags, f"{row.tags.get('building') or 'public'} building depot",
                      row.osm_id),
        "source": f"osm:{row.osm_id}",
        "notes": "demo: a real building used as a depot; its inventory is invented",
        "geometry": _single(row.geometry),
    } for row in chosen.itertuples()]
    return _frame(rows)


def demo_inventory(depots: gpd.GeoDataFrame, *, rng: np.random.Generator) -> pd.DataFrame:
    """Invented stock: each depot holds a seeded selection of catalogue items."""
    scale = {"water": 5000, "food": 2000, "tents": 100, "blankets": 800, "medical_kits": 200,
             "generators": 10, "sandbags": 5000, "life_jackets": 100, "pumps": 10,
             "folding_beds": 300}
    rows = []
    for depot in depots["id"] if len(depots) else []:
        for item in DEFAULT_CATALOGUE:
            if rng.random() < 0.6:
                quantity = float(round(scale[item] * rng.uniform(0.2, 1.0)))
                rows.append({"depot": depot, "item": item, "quantity": quantity,
                             "unit": DEFAULT_CATALOGUE[item][2]})
    return pd.DataFrame(rows, columns=["depot", "item", "quantity", "unit"])


def demo_hazards(features: gpd.GeoDataFrame, *, metric_crs: str) -> gpd.GeoDataFrame:
    """Real fuel stations (point + radius), industrial land (polygons) and a flood band along the
    Rhine. All inactive: they are risk sources on the plan, not events blocking roads now."""
    rules = load_hazard_rules()
    fuel = features[(tag(features, "amenity") == "fuel").to_numpy()]
    industrial = features[((tag(features, "landuse") == "industrial")
                           & (features["kind"] == "area")).to_numpy()]
    rows = [{"id": "H-" + row.osm_id.replace("/", "-"),
             "name": _name(row.tags, "fuel station", row.osm_id), "type": "fuel_station",
             "risk_level": 2, "radius_m": float(rules.for_type("fuel_station")["impact_radius_m"]),
             "active": False, "source": f"osm:{row.osm_id}",
             "geometry": row.geometry.representative_point()} for row in fuel.itertuples()]
    rows += [{"id": "H-" + row.osm_id.replace("/", "-"),
              "name": _name(row.tags, "industrial area", row.osm_id), "type": "industrial",
              "risk_level": 2, "radius_m": None, "active": False, "source": f"osm:{row.osm_id}",
              "geometry": _single(row.geometry)} for row in industrial.itertuples()]
    flood = flood_zone(features, metric_crs=metric_crs)
    if flood is not None:
        rows.append({"id": "H-flood-rhine", "name": "Rhein flood band (demo)",
                     "type": "flood_zone", "risk_level": 3, "radius_m": None, "active": False,
                     "source": "osm:waterway=river name=Rhein + waterway=riverbank",
                     "notes": f"demo: a {FLOOD_BAND_M:g} m band around the Rhine and its banks "
                              f"as mapped in OSM; not an official flood hazard map",
                     "geometry": flood})
    return _frame(rows)


def flood_zone(features: gpd.GeoDataFrame, *, metric_crs: str,
               band_m: float = FLOOD_BAND_M, river: str = RIVER_NAME):
    """The river's lines and the riverbank areas touching them, buffered by ``band_m``; in
    EPSG:4326 (None if the extract has no such river)."""
    waterway = tag(features, "waterway")
    names = tag(features, "name")
    lines = features[((waterway == "river") & (names == river)).to_numpy()]
    if len(lines) == 0:
        return None
    lines_m = lines.geometry.to_crs(metric_crs).union_all()
    banks = features[(waterway == "riverbank").to_numpy()].geometry.to_crs(metric_crs)
    near = banks[banks.distance(lines_m) <= band_m]
    water = shapely.union_all([lines_m, *near.to_numpy()])
    zone = water.buffer(band_m).simplify(5.0)
    return _single(gpd.GeoSeries([zone], crs=metric_crs).to_crs("EPSG:4326").iloc[0])


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """Rows with a ``geometry`` (EPSG:4326) as a GeoDataFrame, also when there are none."""
    geometry = gpd.GeoSeries([row.pop("geometry") for row in rows], crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geometry)


def _records(frame: pd.DataFrame) -> list[dict]:
    records = frame.to_dict("records")
    for record in records:
        for key, value in list(record.items()):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                del record[key]
    return records
