"""Service-area polygons follow the reached network."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analysis.coverage import coverage
from geo.analysis.service_areas import reached_stretches, service_areas, stretch_lines
from geo.errors import ValidationError
from geo.routing.search import cost_to_points, search_from_points
from geo.routing.snapping import snap_points
from tests.analysis_inputs import points_along_roads
from tests.conftest import EXTRACTS
from tests.reference import OsmGraph, reached_roads

# Central Vaduz, Schaan, Triesen
FACILITIES = (np.array([9.5209, 9.5100, 9.5280]), np.array([47.1410, 47.1650, 47.1070]))
BREAKS = [300.0, 600.0, 900.0]


@pytest.fixture(scope="module")
def disks(li_walk):
    return service_areas(li_walk, FACILITIES, breaks=BREAKS, direction="to",
                         overlap="overlap").areas


@pytest.mark.parametrize("direction", ["to", "from"])
def test_nodes_reached_within_a_break_lie_inside_and_far_ones_outside(li_drive, direction):
    breaks = [120.0, 240.0, 360.0]
    result = service_areas(li_drive, FACILITIES, breaks=breaks, direction=direction,
                           overlap="overlap")
    assert result.unreachable.empty
    areas = result.areas
    projected = areas.to_crs(li_drive.crs)
    nodes = shapely.points(np.asarray(li_drive.node_xy))
    for i in range(3):
        one = snap_points(li_drive, FACILITIES[0][[i]], FACILITIES[1][[i]])
        search = search_from_points(li_drive, one, reverse=direction == "to")
        for b in breaks:
            mine = (projected["facility"] == i) & (projected["to_break"] == b)
            polygon = projected[mine].geometry.iloc[0]
            inside = shapely.contains(shapely.buffer(polygon, 0.01), nodes)
            assert inside[search.cost <= b].all()
            # Nodes reached only well beyond the break are outside, unless a reached road
            # passes within the band's half-width (60 m when driving).
            beyond = search.cost > 1.5 * b
            stretches = reached_stretches(li_drive, search, b)
            reached = shapely.union_all(stretch_lines(li_drive, stretches))
            near_reached = shapely.distance(nodes, reached) <= 60.0 + 0.01
            assert beyond.sum() > 100
            assert not (inside & beyond & ~near_reached).any()
            assert (~inside[beyond]).mean() > 0.9


def test_breaks_nest_and_holes_are_kept(disks, li_walk):
    projected = disks.to_crs(li_walk.crs)
    for i in range(3):
        polys = projected[projected["facility"] == i].sort_values("to_break").geometry.to_list()
        for small, large in zip(polys[:-1], polys[1:]):
            assert shapely.difference(small, large).area < 1.0  # m², numerical dust only
            assert large.area > small.area
    largest = projected[projected["to_break"] == 900].geometry
    assert any(len(p.interiors) > 0 for g in largest for p in getattr(g, "geoms", [g]))


def test_rings_do_not_overlap(li_walk):
    rings = service_areas(li_walk, FACILITIES, breaks=BREAKS, shape="rings",
                          overlap="overlap").areas
    rings = rings.to_crs(li_walk.crs)
    for i in range(3):
        mine = rings[rings["facility"] == i].sort_values("to_break")
        assert mine["from_break"].tolist() == [0.0, 300.0, 600.0]
        geoms = mine.geometry.to_list()
        for a in range(3):
            for b in range(a + 1, 3):
                assert shapely.intersection(geoms[a], geoms[b]).area < 1.0


def test_split_areas_do_not_overlap_and_cover_the_dissolved_area(li_walk):
    split = service_areas(li_walk, FACILITIES, breaks=[600.0], overlap="split").areas
    split = split.to_crs(li_walk.crs)
    dissolved = service_areas(li_walk, FACILITIES, breaks=[600.0], overlap="dissolve").areas
    dissolved = dissolved.to_crs(li_walk.crs)
    assert len(dissolved) == 1 and dissolved["facility"].isna().all()
    geoms = split.geometry.to_list()
    assert sorted(split["facility"]) == [0, 1, 2]
    for a in range(len(geoms)):
        for b in range(a + 1, len(geoms)):
            assert shapely.intersection(geoms[a], geoms[b]).area < 1.0
    assert shapely.union_all(geoms).area == pytest.approx(dissolved.geometry.iloc[0].area, rel=1e-3)


def test_split_areas_of_a_facility_whose_start_cost_uses_up_a_break(li_drive):
    # A team whose turnout equals the 5-minute break reaches only its own point by then: its
    # stretch of road has no length (it once broke the split with a GEOS error).
    facilities = ([9.4994045, 9.5209], [47.0662361, 47.1410])
    result = service_areas(li_drive, facilities, breaks=[300.0, 600.0], overlap="split",
                           extra_cost=[300.0, 0.0], direction="from")
    rows = list(zip(result.rows["facility"], result.rows["to_break"], result.rows["area_m2"]))
    assert (1, 300.0) in [(f, b) for f, b, _ in rows]  # the other team has its 5-minute area
    assert (0, 600.0) in [(f, b) for f, b, _ in rows]  # and this one its 10-minute area
    assert all(area > 0 for _, _, area in rows)


@pytest.fixture(scope="module")
def people(li_walk):
    lon, lat = points_along_roads(li_walk, 500, np.random.default_rng(5))
    far = [9.6314], [47.2731]  # 5 km from any path: off the network
    return gpd.GeoDataFrame(
        {"population": np.r_[np.random.default_rng(6).integers(1, 50, 500), 25].astype(float)},
        geometry=gpd.points_from_xy(np.r_[lon, far[0]], np.r_[lat, far[1]]), crs="EPSG:4326")


def test_each_area_counts_the_people_it_reaches_by_network_time(li_walk, people):
    """The population of an area is the demand reached within the break along the roads (as
    coverage counts it), not whatever lies inside the band drawn around the roads."""
    areas = service_areas(li_walk, FACILITIES, breaks=[300.0, 600.0], overlap="overlap",
                          population=people).areas
    targets = snap_points(li_walk, people.geometry.x, people.geometry.y)
    weights = people["population"].to_numpy()
    for i in range(3):
        one = snap_points(li_walk, FACILITIES[0][[i]], FACILITIES[1][[i]])
        cost, _ = cost_to_points(li_walk, search_from_points(li_walk, one, reverse=True), targets)
        for b in (300.0, 600.0):
            row = areas[(areas["facility"] == i) & (areas["to_break"] == b)].iloc[0]
            assert row["population"] == weights[cost <= b].sum()
    assert areas["population"].sum() > 0


def test_dissolved_areas_count_the_same_people_as_coverage(li_walk, people):
    facilities = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*FACILITIES), crs="EPSG:4326")
    breaks = [300.0, 600.0, 900.0]
    areas = service_areas(li_walk, facilities, breaks=breaks, overlap="dissolve",
                          population=people).areas
    covered = coverage(li_walk, facilities, people, breaks=breaks).summary["covered"]
    np.testing.assert_allclose(areas.sort_values("to_break")["population"], covered)
    split = service_areas(li_walk, facilities, breaks=breaks, overlap="split",
                          population=people).areas
    np.testing.assert_allclose(split.groupby("to_break")["population"].sum(), covered)
    rings = service_areas(li_walk, facilities, breaks=breaks, overlap="dissolve",
                          shape="rings", population=people).areas
    assert rings["population"].sum() == pytest.approx(covered.iloc[-1])


def test_facilities_off_the_network_are_listed_with_the_reason(li_walk):
    lon, lat = np.r_[FACILITIES[0], 9.6314], np.r_[FACILITIES[1], 47.2731]  # 5 km from a path
    result = service_areas(li_walk, (lon, lat), breaks=[300.0], overlap="overlap")
    assert sorted(result.areas["facility"]) == [0, 1, 2]
    assert result.unreachable["facility"].tolist() == [3]
    assert result.unreachable["reason"].tolist() == ["off_network"]
    assert result.unreachable["snap_m"].iloc[0] > 500
    assert result.to_dict()["unreachable_facilities"][0]["reason"] == "off_network"


def test_turnout_time_shrinks_the_area(li_drive):
    plain = service_areas(li_drive, FACILITIES, breaks=[300.0], direction="from",
                          overlap="overlap").areas
    late = service_areas(li_drive, FACILITIES, breaks=[300.0], direction="from",
                         extra_cost=[120.0, 120.0, 120.0], overlap="overlap").areas
    assert (late["area_m2"].to_numpy() < plain["area_m2"].to_numpy()).all()


@pytest.mark.parametrize("mode, direction, oneway", [("walk", "to", False),
                                                      ("drive", "from", True),
                                                      ("drive", "to", True)])
def test_facility_own_road_is_covered_before_any_junction(networks, mode, direction, oneway):
    """With a break too small to reach either end of the facility's road, the area is the band
    around the stretch of that road reached from the facility: both ways on foot, only ahead
    going out along a one-way road and only behind coming in."""
    net = networks("liechtenstein", mode)
    kind = (net.geom_edges[:, 1] < 0) == oneway
    lengths = shapely.length(net.geometries)
    g = int(np.flatnonzero(kind)[np.argmax(lengths[kind])])  # the longest such road
    road, middle = net.geometries[g], lengths[g] / 2
    reach_m = 200.0
    assert middle > reach_m + 100  # no junction reached
    if mode == "walk":  # on foot time is length at one speed, so give the break in seconds
        edge = net.geom_edges[g, 0]
        speed_mps = net.edge_length_m[edge] / net.edge_travel_time_s[edge]
        kwargs = {"breaks": [reach_m / speed_mps], "weight": "travel_time_s"}
        low, high = middle - reach_m, middle + reach_m
    else:  # metres: exact along the road whatever its speeds
        kwargs = {"breaks": [reach_m], "weight": "length_m"}
        low, high = (middle, middle + reach_m) if direction == "from" else (middle - reach_m,
                                                                             middle)
    at = shapely.line_interpolate_point(road, middle)
    lon, lat = net.to_lonlat.transform(at.x, at.y)
    area = service_areas(net, (np.array([lon]), np.array([lat])), direction=direction,
                         **kwargs).areas.to_crs(net.crs).geometry.iloc[0]
    along = np.arange(0.0, lengths[g], 5.0)
    points = shapely.line_interpolate_point(road, along)
    reached = shapely.ops.substring(road, low, high)
    band_m = 40.0 if mode == "walk" else 60.0
    inside = shapely.contains(area, points)
    assert inside[(along > low + 1) & (along < high - 1)].all()
    far = shapely.distance(points, reached) > band_m + 5
    assert far.sum() > 20 and not inside[far].any()


def test_metre_breaks(li_walk):
    areas = service_areas(li_walk, FACILITIES, breaks=[500.0, 1000.0], weight="length_m",
                          overlap="overlap").areas
    assert len(areas) == 6 and (areas["area_m2"] > 0).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"breaks": [300], "form": "blob"}, "form"),
    ({"breaks": [300], "buffer_m": 0}, "buffer_m"),
    ({"breaks": [300], "form": "filled", "fill_m": -1}, "fill_m"),
    ({"breaks": [300], "form": "filled", "fill_m": "wide"}, "fill_m"),
    ({"breaks": [-5]}, "breaks"),
    ({"breaks": []}, "breaks"),
    ({"breaks": [300], "overlap": "merge"}, "overlap"),
    ({"breaks": [300], "shape": "donut"}, "shape"),
    ({"breaks": [300], "direction": "sideways"}, "direction"),
    ({"breaks": [300], "extra_cost": [1, 2]}, "extra_cost"),
])
def test_bad_arguments(li_walk, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        service_areas(li_walk, FACILITIES, **kwargs)


def test_blocking_hazard_keeps_the_cut_off_valley_out_of_the_area(li_drive):
    import geopandas as gpd

    from geo.analysis.barriers import hazard_zones, road_barriers

    vaduz = (np.array([9.5209]), np.array([47.1410]))
    malbun = shapely.Point(li_drive.to_xy.transform(9.6095, 47.1015))
    free = service_areas(li_drive, vaduz, breaks=[1800.0], direction="from").areas
    free = free.to_crs(li_drive.crs)
    assert free.geometry.iloc[0].contains(malbun)
    landslide = gpd.GeoDataFrame({"type": ["landslide"], "radius_m": [60.0]},
                                 geometry=[shapely.Point(9.5762202, 47.1126565)], crs="EPSG:4326")
    barriers = road_barriers(li_drive, hazard_zones(landslide, crs=li_drive.crs))
    cut = service_areas(li_drive, vaduz, breaks=[1800.0], direction="from",
                        **barriers.as_kwargs()).areas.to_crs(li_drive.crs)
    assert not cut.geometry.iloc[0].contains(malbun)
    assert cut["area_m2"].iloc[0] < free["area_m2"].iloc[0]


@pytest.fixture(scope="module")
def osm_graphs():
    built: dict = {}

    def get(net):
        if net.mode not in built:
            built[net.mode] = OsmGraph(EXTRACTS["liechtenstein"], net.mode, net.to_xy)
        return built[net.mode]
    return get


@pytest.mark.parametrize("mode, direction, budget_s", [("walk", "from", 600.0),
                                                       ("drive", "to", 240.0)])
def test_band_is_the_land_near_the_roads_networkx_reaches(networks, osm_graphs, mode, direction,
                                                          budget_s):
    """Against the unsimplified OSM graph (networkx): land nearer than the band's half-width to
    a road reached within the break is inside, land farther is outside; the outline is exact at
    the grid's points and interpolated between them (half a cell of slack either way)."""
    net = networks("liechtenstein", mode)
    lon, lat = np.array([9.5209]), np.array([47.1410])
    area = service_areas(net, (lon, lat), breaks=[budget_s], direction=direction)
    polygon = shapely.transform(area.polygons[0], lambda xy: np.column_stack(
        net.to_xy.transform(xy[:, 0], xy[:, 1])))
    reference = reached_roads(osm_graphs(net), tuple(net.to_xy.transform(lon[0], lat[0])),
                              budget_s, reverse=direction == "to")
    half_width_m = 40.0 if mode == "walk" else 60.0
    slack_m = half_width_m / 4  # half a grid cell
    x0, y0, x1, y1 = shapely.bounds(shapely.buffer(reference, half_width_m + 200))
    rng = np.random.default_rng(3)
    points = shapely.points(rng.uniform(x0, x1, 20_000), rng.uniform(y0, y1, 20_000))
    distance = shapely.distance(points, reference)
    inside = shapely.contains(polygon, points)
    assert inside[distance < half_width_m - slack_m].all()
    assert not inside[distance > half_width_m + slack_m].any()
    exact = shapely.buffer(reference, half_width_m, quad_segs=16)
    assert polygon.area == pytest.approx(exact.area, rel=0.02)


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_filled_and_band_areas_both_nest_and_filled_holds_the_band(networks, mode):
    net = networks("liechtenstein", mode)
    breaks = [180.0, 300.0, 600.0]
    kwargs = {"breaks": breaks, "direction": "from" if mode == "drive" else "to"}
    band = service_areas(net, FACILITIES, **kwargs).areas.to_crs(net.crs).geometry.to_list()
    filled = service_areas(net, FACILITIES, form="filled", **kwargs).areas.to_crs(
        net.crs).geometry.to_list()
    for shapes in (band, filled):
        for small, large in zip(shapes[:-1], shapes[1:]):
            assert shapely.difference(small, large).area < 1.0  # m², numerical dust only
            assert large.area > small.area
    for b, f in zip(band, filled):
        assert shapely.difference(b, f).area < 1.0
        assert f.area > b.area


def test_filled_closes_the_holes_too_narrow_for_its_reach(li_walk):
    """Holes of the band that a disk of radius fill_m cannot enter are land between reached
    roads: the filled form covers them; wide ones stay open."""
    fill_m = 40.0
    kwargs = {"breaks": [900.0], "overlap": "dissolve"}
    band = service_areas(li_walk, FACILITIES, **kwargs).areas.to_crs(li_walk.crs).geometry[0]
    filled = service_areas(li_walk, FACILITIES, form="filled", fill_m=fill_m,
                           **kwargs).areas.to_crs(li_walk.crs).geometry[0]
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(band)
             for ring in part.interiors]
    radius = np.array([shapely.length(shapely.maximum_inscribed_circle(h)) for h in holes])
    narrow = [h for h, r in zip(holes, radius) if r < fill_m - 15.0]
    wide = [h for h, r in zip(holes, radius) if r > 2 * fill_m]
    assert len(narrow) > 10 and wide
    for hole in narrow:
        assert shapely.difference(hole, filled).area < 0.01 * hole.area + 1.0
    for hole in wide:
        assert shapely.difference(hole, filled).area > 0.1 * hole.area


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_outlines_are_valid_polygons(networks, mode):
    net = networks("liechtenstein", mode)
    lon, lat = points_along_roads(net, 15, np.random.default_rng(11))
    for form in ("band", "filled"):
        result = service_areas(net, (lon, lat), breaks=[120.0, 300.0, 600.0], form=form,
                               overlap="overlap", shape="rings")
        assert shapely.is_valid(result.polygons).all()
        assert len(result.polygons) == 45


def test_a_road_blocked_midway_is_covered_from_both_ends_up_to_the_block(li_walk):
    """A road reached from both ends but blocked in between: each side is drawn up to the block
    (where the two ways' times would meet on an open road does not matter)."""
    from geo.routing.costs import RoadEffects

    net = li_walk
    two_way = net.geom_edges[:, 1] >= 0
    lengths = shapely.length(net.geometries)
    checked = 0
    for g in np.flatnonzero(two_way & (lengths > 150.0))[:100]:
        road = net.geometries[g]
        at = shapely.line_interpolate_point(road, 0.05, normalized=True)
        lon, lat = net.to_lonlat.transform(at.x, at.y)
        block = RoadEffects([g], [0.30], [0.32], [np.inf])
        budget_s = 1800.0
        search = search_from_points(net, snap_points(net, [lon], [lat]), effects=block,
                                    cutoff=budget_s)
        head = net.edge_head[net.geom_edges[g, 0]]
        if not search.cost[head] < budget_s / 3:
            continue  # the far end is not reached round the block with time to spare
        area = service_areas(net, ([lon], [lat]), breaks=[budget_s], effects=block,
                             direction="from").areas.to_crs(net.crs).geometry.iloc[0]
        beyond = shapely.line_interpolate_point(road, np.linspace(0.34, 0.95, 40),
                                                normalized=True)
        assert shapely.contains(area, beyond).all()
        checked += 1
        if checked == 3:
            break
    assert checked >= 1


def test_no_facility_on_the_network_gives_no_area_rather_than_an_empty_one(li_walk):
    result = service_areas(li_walk, ([9.6314], [47.2731]), breaks=[300.0, 600.0])  # 5 km off
    assert result.areas.empty and len(result.polygons) == 0
    assert result.unreachable["reason"].tolist() == ["off_network"]


@pytest.mark.parametrize("reverse", [False, True])
def test_a_uniform_cost_factor_reaches_what_the_plain_costs_reach_with_that_share_of_the_budget(
        li_drive, reverse):
    # Every edge twice as slow: within B, exactly the roads reached within B/2 at plain costs
    # (partly reached edges included: the budget left on them counts at the edge's factor).
    net, budget_s = li_drive, 240.0
    facility = snap_points(net, FACILITIES[0][:1], FACILITIES[1][:1])
    slow = search_from_points(net, facility, reverse=reverse, cutoff=budget_s,
                              cost_scale=np.full(net.n_edges, 2.0))
    plain = search_from_points(net, facility, reverse=reverse, cutoff=budget_s / 2)
    a, b = reached_stretches(net, slow, budget_s), reached_stretches(net, plain, budget_s / 2)
    partial = (a.end - a.start > 0) & (a.end - a.start < 1)
    assert partial.sum() > 5
    assert np.array_equal(a.geom, b.geom)
    np.testing.assert_allclose(a.start, b.start, atol=1e-9)
    np.testing.assert_allclose(a.end, b.end, atol=1e-9)


def test_closed_edges_are_not_reached_even_in_part(li_drive):
    net, budget_s = li_drive, 240.0
    facility = snap_points(net, FACILITIES[0][:1], FACILITIES[1][:1])
    open_search = search_from_points(net, facility, cutoff=budget_s)
    reached = reached_stretches(net, open_search, budget_s)
    # Close both ways of every road reached only in part: nothing of them may be reached.
    partly = reached.geom[(reached.end - reached.start) < 1]
    closed = np.isin(np.asarray(net.edge_geom), partly)
    search = search_from_points(net, facility, cutoff=budget_s, blocked=closed)
    stretches = reached_stretches(net, search, budget_s)
    on_closed = np.isin(stretches.geom, partly) & (stretches.geom != facility.geom[0])
    assert on_closed.any()  # their ends are reached: the stretches are there, empty
    assert (stretches.end[on_closed] - stretches.start[on_closed] < 1e-12).all()


@pytest.mark.parametrize("form", ["band", "filled"])
def test_a_start_cost_beyond_the_first_break_leaves_that_break_empty(li_walk, form):
    # A team whose turnout is longer than the first break reaches nothing within it.
    result = service_areas(li_walk, FACILITIES, breaks=[300.0, 600.0, 900.0], form=form,
                           extra_cost=[400.0, 400.0, 400.0], direction="from")
    areas = dict(zip(result.rows["to_break"], result.rows["area_m2"]))
    assert areas[300.0] == 0.0
    assert 0.0 < areas[600.0] < areas[900.0]
