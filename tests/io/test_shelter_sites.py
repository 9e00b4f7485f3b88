"""Candidate shelter sites from the real Liechtenstein and Monaco extracts, each checked against
the OSM object it names (tags looked up again from read_features, with this file's own table of
what each kind is), and a hand-built extract whose areas are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo.core.standards import load_standards
from geo.errors import ValidationError
from geo.io.osm_features import read_features
from geo.io.shelter_sites import (
    COLUMNS,
    FIXED_SITE_AREA_M2,
    SITE_KEYS,
    osm_candidate_sites,
    shelter_sites,
    site_points,
)
from tests.conftest import LIECHTENSTEIN, MONACO

UTM32N = "EPSG:32632"  # both extracts lie in UTM zone 32N
EXTRACTS = {"liechtenstein": LIECHTENSTEIN, "monaco": MONACO}

# What each kind is, in priority order: (tag, values) pairs any of which makes a feature one.
KINDS = {
    "sports hall": [("building", {"sports_hall", "gymnasium"})],  # or a sports centre building
    "school": [("building", {"school", "university", "college", "kindergarten"})],
    "public building": [("building", {"public", "civic", "government"}),
                        ("amenity", {"townhall", "community_centre"})],
    "school grounds": [("amenity", {"school", "college", "university", "kindergarten"})],
    "stadium": [("leisure", {"stadium"})],
    "sports pitch": [("leisure", {"pitch"})],
    "park": [("leisure", {"park"})],
    "square": [("place", {"square"})],  # or a pedestrian area
    "recreation ground": [("landuse", {"recreation_ground"})],
    "village green": [("landuse", {"village_green"}), ("leisure", {"common"})],
    "open car park": [],  # amenity=parking in the open and public: see _is
}
PRIORITY = {kind: n for n, kind in enumerate(KINDS)}
SHARES = {"sports hall": 0.7, "school": 0.7, "public building": 0.6, "school grounds": 0.5,
          "stadium": 0.6, "sports pitch": 0.9, "park": 0.6, "square": 0.7,
          "recreation ground": 0.6, "village green": 0.6, "open car park": 0.8}


def _is(kind: str, tags: dict) -> bool:
    if kind == "sports hall" and tags.get("leisure") == "sports_centre" and "building" in tags:
        return True
    if kind == "square" and tags.get("highway") == "pedestrian" and tags.get("area") == "yes":
        return True
    if kind == "open car park":
        return (tags.get("amenity") == "parking"
                and tags.get("parking") in (None, "surface")
                and tags.get("access") in (None, "yes", "public", "customers", "permissive"))
    return any(tags.get(key) in values for key, values in KINDS[kind])


@pytest.fixture(scope="module")
def standards():
    return load_standards()


@pytest.fixture(scope="module", params=list(EXTRACTS))
def extract(request, standards):
    """(sites, the extract's features by osm_id) for each real extract."""
    path = EXTRACTS[request.param]
    features = read_features(path, keys=SITE_KEYS).set_index("osm_id")
    return osm_candidate_sites(path, standards=standards), features


def test_sites_have_the_columns_and_enough_effective_area(extract, standards):
    sites, _ = extract
    assert list(sites.columns) == [*COLUMNS, "geometry"] and sites.index.name == "id"
    assert sites.crs == "EPSG:4326" and sites.index.is_unique and len(sites) > 10
    assert (sites["effective_area_m2"] >= 200).all()
    per_capita = sites["shelter_class"].map(lambda c: standards.get(c).per_capita_area_m2)
    assert (sites["capacity_people"] == np.floor(sites["effective_area_m2"] / per_capita)).all()
    assert (sites["footprint_share"] == sites["kind"].map(SHARES)).all()
    assert np.allclose(sites["effective_area_m2"],
                       sites["usable_area_m2"] * sites["footprint_share"], atol=0.05)
    footprint = sites.to_crs(UTM32N).area
    assert (sites["usable_area_m2"] <= footprint + 0.01).all()
    assert (sites.loc[sites["indoor"], "usable_area_m2"] == footprint[sites["indoor"]]).all()


def test_default_classes_follow_indoor_and_size(extract):
    sites, _ = extract
    expected = np.where(sites["indoor"], "short_term",
                        np.where(sites["effective_area_m2"] >= FIXED_SITE_AREA_M2,
                                 "medium_term", "emergency"))
    assert (sites["shelter_class"] == expected).all()


def test_each_site_is_an_osm_area_of_its_kind(extract):
    sites, features = extract
    osm_ids = sites["source"].str.removeprefix("osm:")
    assert (sites.index == "osm-" + osm_ids.str.replace("/", "-")).all()
    objects = features.loc[osm_ids]
    assert (objects["kind"] == "area").all()
    assert (sites["indoor"] == sites["kind"].isin(["sports hall", "school", "public building"])
            ).all()
    for kind, tags in zip(sites["kind"], objects["tags"], strict=True):
        assert _is(kind, tags), (kind, tags)
        # A feature of several kinds is a site of the first in priority order.
        assert kind == next(k for k in KINDS if _is(k, tags)), (kind, tags)
    geometries = objects.geometry.to_numpy()
    single = [g.geoms[0] if g.geom_type == "MultiPolygon" and len(g.geoms) == 1 else g
              for g in geometries]
    assert shapely.equals(sites.geometry.to_numpy(), np.array(single, dtype=object)).all()


def test_named_sites_carry_their_osm_name(extract):
    sites, features = extract
    tags = features.loc[sites["source"].str.removeprefix("osm:"), "tags"].to_numpy()
    osm_names = np.array([t.get("name") for t in tags], dtype=object)
    named = osm_names != None  # noqa: E711 (elementwise)
    assert named.sum() > 5
    assert (sites["name"].to_numpy()[named] == osm_names[named]).all()
    # The unnamed ones say what and which object they are, or adopt the name of a candidate of
    # their kind nested in them.
    projected = features.to_crs(UTM32N)
    for site, osm_id in zip(sites[~named].itertuples(), sites["source"][~named], strict=True):
        fallback = f"{site.kind} ({osm_id.removeprefix('osm:')})"
        if site.name != fallback:
            inside = projected[shapely.within(
                shapely.point_on_surface(projected.geometry.to_numpy()),
                projected.loc[osm_id.removeprefix("osm:")].geometry)]
            assert site.name in {t.get("name") for t in inside["tags"] if _is(site.kind, t)}


def test_no_ground_is_counted_twice(extract):
    """A site's centre lies in another site only if it was taken first (a hall on school
    grounds, a pitch in a park), and the holder's usable area leaves it out."""
    sites, _ = extract
    projected = sites.to_crs(UTM32N).geometry.to_numpy()
    point, holder = shapely.STRtree(projected).query(shapely.point_on_surface(projected),
                                                     predicate="within")
    nested = point != holder
    point, holder = point[nested], holder[nested]
    priority = sites["kind"].map(PRIORITY).to_numpy()
    assert (priority[point] < priority[holder]).all()
    assert not sites["indoor"].to_numpy()[holder].any()
    assert sites["shares_ground"].to_numpy()[holder].all()
    overlap = shapely.area(shapely.intersection(projected[holder], projected[point]))
    room = shapely.area(projected[holder]) - overlap
    assert (sites["usable_area_m2"].to_numpy()[holder] <= room + 0.01).all()


def test_site_points_are_the_points_the_nesting_rule_tested(extract):
    sites, _ = extract
    points = site_points(sites, metric_crs=UTM32N)
    assert points.crs == "EPSG:4326" and points.index.equals(sites.index)
    assert shapely.within(points.to_numpy(), sites.geometry.to_numpy()).all()
    expected = shapely.point_on_surface(sites.to_crs(UTM32N).geometry.to_numpy())
    assert shapely.equals_exact(points.to_crs(UTM32N).to_numpy(), expected, tolerance=1e-3).all()


def test_liechtenstein_and_monaco_sites():
    li = osm_candidate_sites(LIECHTENSTEIN, standards=load_standards())
    assert {"Rheinparkstadion", "Mehrzweckhalle", "Rathaus Vaduz"} <= set(li["name"])
    assert {"recreation ground", "village green", "open car park"} <= set(li["kind"])
    monaco = osm_candidate_sites(MONACO, standards=load_standards())
    squares = monaco[monaco["kind"] == "square"]
    assert {"Place du Palais", "Place d'Armes"} <= set(squares["name"])
    assert (squares["shelter_class"] == "emergency").all()


def test_a_given_class_applies_to_every_site(standards):
    default = osm_candidate_sites(MONACO, standards=standards)
    sites = osm_candidate_sites(MONACO, standards=standards, shelter_class="long_term")
    assert sites.index.equals(default.index) and (sites["shelter_class"] == "long_term").all()
    per_capita = standards.get("long_term").per_capita_area_m2
    assert (sites["capacity_people"] == np.floor(sites["effective_area_m2"] / per_capita)).all()


def test_a_larger_minimum_keeps_the_larger_sites(standards):
    default = osm_candidate_sites(MONACO, standards=standards)
    large = osm_candidate_sites(MONACO, standards=standards, min_effective_area_m2=5000)
    assert 0 < len(large) < len(default) and (large["effective_area_m2"] >= 5000).all()
    assert set(large.index) <= set(default.index)


def test_bad_options_are_named_together(standards, tmp_path):
    with pytest.raises(ValidationError, match="shelter_class: 'bunker' is not one of emergency"
                       ) as caught:
        osm_candidate_sites(tmp_path / "missing.osm", standards=standards, shelter_class="bunker",
                            min_effective_area_m2=-1)  # refused before the file is read
    assert [field for field, _ in caught.value.field_problems] == ["shelter_class",
                                                                   "min_effective_area_m2"]
    features = read_features(MONACO)
    with pytest.raises(ValidationError, match="metric_crs: EPSG:4326 is not a projected CRS"):
        shelter_sites(features, metric_crs="EPSG:4326", standards=standards)
    with pytest.raises(ValidationError, match="min_effective_area_m2: expected a finite"):
        shelter_sites(features, metric_crs=UTM32N, standards=standards,
                      min_effective_area_m2=math.nan)


# A hand-built extract near Vaduz: positions in UTM 32N metres, written as lon/lat -------------

def _osm(tmp_path, ways: dict[str, tuple[list[tuple[float, float]], dict[str, str]]],
         nodes: dict[tuple[float, float], dict[str, str]] | None = None):
    """An .osm file with one closed way per entry (corners in metres from 540000 E,
    5220000 N) and tagged nodes."""
    to_lonlat = Transformer.from_crs(UTM32N, "EPSG:4326", always_xy=True)
    lines, refs = [], {}

    def node(x, y, tags=None):
        lon, lat = to_lonlat.transform(540_000 + x, 5_220_000 + y)
        refs[x, y] = ref = len(refs) + 1
        body = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
        lines.append(f'<node id="{ref}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{body}'
                     f'</node>')
        return ref

    for (x, y), tags in (nodes or {}).items():
        node(x, y, tags)
    for n, (corners, tags) in enumerate(ways.values(), start=1):
        ids = [node(x, y) for x, y in corners]
        body = "".join(f'<nd ref="{i}"/>' for i in [*ids, ids[0]])
        body += "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<way id="{n}" version="1">{body}</way>')
    path = tmp_path / "tiny.osm"
    path.write_text("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
                    + "\n".join(lines) + "\n</osm>\n", encoding="utf-8")
    return path


def _box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def test_known_areas_of_a_park_with_a_pitch_and_a_square(tmp_path, standards):
    path = _osm(tmp_path, {
        "park": (_box(0, 0, 200, 200), {"leisure": "park", "name": "Stadtpark"}),
        "pitch": (_box(20, 20, 120, 70), {"leisure": "pitch"}),
        "square": (_box(300, 0, 350, 50), {"highway": "pedestrian", "area": "yes"}),
        "lawn": (_box(400, 0, 500, 100), {"landuse": "grass"}),  # not a candidate
        "hall": (_box(600, 0, 610, 10), {"building": "sports_hall"}),  # 70 m² < 200
    })
    sites = osm_candidate_sites(path, standards=standards)
    assert list(sites.index) == ["osm-way-2", "osm-way-1", "osm-way-3"]  # priority order
    assert list(sites["kind"]) == ["sports pitch", "park", "square"]
    assert list(sites["name"]) == ["sports pitch (way/2)", "Stadtpark", "square (way/3)"]
    assert sites["effective_area_m2"].tolist() == pytest.approx(
        [0.9 * 5000, 0.6 * (40_000 - 5000), 0.7 * 2500], rel=2e-4)  # 1e-7° corners
    assert list(sites["shelter_class"]) == ["emergency", "medium_term", "emergency"]
    assert list(sites["shares_ground"]) == [False, True, False]


def test_an_extract_without_sites_gives_an_empty_frame(tmp_path, standards):
    path = _osm(tmp_path, {"house": (_box(0, 0, 20, 10), {"building": "house"})},
                nodes={(50, 50): {"amenity": "bench"}, (60, 60): {"place": "square"}})
    sites = osm_candidate_sites(path, standards=standards)
    assert len(sites) == 0 and list(sites.columns) == [*COLUMNS, "geometry"]
    assert sites.index.name == "id" and sites.crs == "EPSG:4326"
    nothing = _osm(tmp_path, {})
    assert len(osm_candidate_sites(nothing, standards=standards, shelter_class="emergency")) == 0


def test_only_open_public_car_parks_are_sites(tmp_path, standards):
    path = _osm(tmp_path, {
        "open": (_box(0, 0, 50, 40), {"amenity": "parking"}),
        "surface": (_box(100, 0, 150, 40), {"amenity": "parking", "parking": "surface",
                                            "access": "customers"}),
        "garage": (_box(200, 0, 250, 40), {"amenity": "parking", "parking": "multi-storey"}),
        "underground": (_box(300, 0, 350, 40), {"amenity": "parking",
                                                "parking": "underground"}),
        "private": (_box(400, 0, 450, 40), {"amenity": "parking", "access": "private"}),
    })
    sites = osm_candidate_sites(path, standards=standards)
    assert list(sites.index) == ["osm-way-1", "osm-way-2"]
    assert set(sites["kind"]) == {"open car park"} and not sites["indoor"].any()
    assert sites["effective_area_m2"].tolist() == pytest.approx([0.8 * 2000] * 2, rel=2e-4)


def test_cached_sites_equal_the_sites_read_from_the_extract(tmp_path, standards):
    fresh = osm_candidate_sites(MONACO, standards=standards)
    first = osm_candidate_sites(MONACO, standards=standards, cache_dir=tmp_path)
    cached = list((tmp_path / "sites").glob("monaco-*.gpkg"))
    assert len(cached) == 1
    again = osm_candidate_sites(MONACO, standards=standards, cache_dir=tmp_path)
    for frame in (first, again):
        pd.testing.assert_frame_equal(frame.drop(columns="geometry"),
                                      fresh.drop(columns="geometry"), check_dtype=False)
        assert shapely.equals_exact(frame.geometry.to_numpy(), fresh.geometry.to_numpy(),
                                    tolerance=1e-9).all()
    # another class is another entry; a damaged entry is read again, not trusted
    osm_candidate_sites(MONACO, standards=standards, cache_dir=tmp_path, shelter_class="long_term")
    assert len(list((tmp_path / "sites").glob("*.gpkg"))) == 2
    cached[0].write_bytes(b"not a geopackage")
    repaired = osm_candidate_sites(MONACO, standards=standards, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(repaired.drop(columns="geometry"),
                                  fresh.drop(columns="geometry"), check_dtype=False)
