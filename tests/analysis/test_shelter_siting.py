"""Shelter siting on the real Liechtenstein walk network: unsafe candidates never chosen, kept
shelters always open, the network model equal to a brute force over its own travel times, and a
before/after table that agrees with the model."""

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis.barriers import hazard_zones
from geo.analysis.shelter_siting import site_shelters
from geo.errors import ValidationError
from geo.routing.matrix import cost_matrix
from tests.analysis_inputs import points_along_roads

VADUZ_BOX = (9.49, 47.11, 9.55, 47.17)


def points(net, n, seed, **columns):
    rng = np.random.default_rng(seed)
    lon, lat = points_along_roads(net, n * 40, rng)
    inside = ((lon > VADUZ_BOX[0]) & (lon < VADUZ_BOX[2]) & (lat > VADUZ_BOX[1])
              & (lat < VADUZ_BOX[3]))
    lon, lat = lon[inside][:n], lat[inside][:n]
    return gpd.GeoDataFrame(columns, index=[f"{seed}-{i}" for i in range(n)],
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


@pytest.fixture(scope="module")
def demand(li_walk):
    frame = points(li_walk, 120, 1)
    frame["population"] = np.random.default_rng(2).integers(1, 60, len(frame)).astype(float)
    return frame


@pytest.fixture(scope="module")
def candidates(li_walk):
    return points(li_walk, 9, 3, capacity_people=[400.0] * 9, name=[f"site {i}" for i in
                                                                     range(9)])


@pytest.fixture(scope="module")
def existing(li_walk):
    return points(li_walk, 3, 4, capacity_people=[300.0, 250.0, 500.0], status=["open"] * 3,
                  name=["A", "B", "C"])


def brute_mclp(costs: np.ndarray, weights, p, cutoff, fixed_cols=()):
    """Best coverage over every choice of p of the non-fixed columns."""
    free = [j for j in range(costs.shape[1]) if j not in fixed_cols]
    best = 0.0
    for chosen in itertools.combinations(free, p):
        cols = [*fixed_cols, *chosen]
        best = max(best, weights[(costs[:, cols] <= cutoff).any(axis=1)].sum())
    return best


def test_mclp_on_the_network_equals_brute_force_over_its_travel_times(li_walk, demand,
                                                                        candidates):
    result = site_shelters(li_walk, demand, candidates, problem="mclp", p=2, cutoff_s=420.0)
    costs = cost_matrix(li_walk, demand, candidates, cutoff_s=None,
                        direction="from").to_dense()
    weights = demand["population"].to_numpy()
    assert result.solution.status == "optimal"
    assert result.solution.objective == pytest.approx(brute_mclp(costs, weights, 2, 420.0))
    assert len(result.solution.sites) == 2 and result.sites["new"].all()


def test_kept_shelters_stay_open_and_count(li_walk, demand, candidates, existing):
    result = site_shelters(li_walk, demand, candidates, problem="mclp", p=2, cutoff_s=420.0,
                           existing=existing, keep_existing=True)
    assert set(result.solution.kept) == set(existing.index)
    assert set(result.sites.index) == {*existing.index, *result.solution.sites}
    both = pd.concat([existing, candidates])
    costs = cost_matrix(li_walk, demand, both, cutoff_s=None, direction="from").to_dense()
    weights = demand["population"].to_numpy()
    assert result.solution.objective == pytest.approx(
        brute_mclp(costs, weights, 2, 420.0, fixed_cols=(0, 1, 2)))
    assert list(result.sites.loc[list(existing.index), "new"]) == [False] * 3


def test_before_after_agrees_with_the_model(li_walk, demand, candidates, existing):
    result = site_shelters(li_walk, demand, candidates, problem="mclp", p=2, cutoff_s=420.0,
                           existing=existing, keep_existing=True)
    table = result.comparison.set_index(["scenario", "break"])
    # after: covered within the cutoff = the model's coverage (a multi-source search against
    # the cost matrix's per-pair searches)
    assert table.loc[("after", 420.0), "covered"] == pytest.approx(
        result.solution.covered_demand)
    assert table.loc[("after", 420.0), "sites"] == 5 and table.loc[("before", 420.0),
                                                                    "sites"] == 3
    for b in (210.0, 420.0, 630.0):  # sites were only added
        assert table.loc[("after", b), "covered"] >= table.loc[("before", b), "covered"]
    assert table.loc[("after", 420.0), "mean_time_s"] <= table.loc[("before", 420.0),
                                                                   "mean_time_s"]
    # before: today's shelters, nearest-site times checked against the cost matrix
    costs = cost_matrix(li_walk, demand, existing, cutoff_s=None, direction="from").to_dense()
    nearest = costs.min(axis=1)
    weights = demand["population"].to_numpy()
    assert table.loc[("before", 420.0), "covered"] == pytest.approx(
        weights[nearest <= 420.0].sum())
    assert table.loc[("before", 420.0), "worst_time_s"] == pytest.approx(nearest.max(),
                                                                         rel=1e-6)
    assert table.loc[("before", 420.0), "mean_time_s"] == pytest.approx(
        np.average(nearest, weights=weights), rel=1e-6)
    # people over capacity with everyone at their nearest shelter
    load = pd.Series(weights).groupby(costs.argmin(axis=1)).sum()
    over = sum(max(0.0, load.get(j, 0.0) - c) for j, c in
               enumerate(existing["capacity_people"]))
    assert table.loc[("before", 420.0), "over_capacity"] == pytest.approx(over)


def test_unsafe_candidates_are_excluded_with_the_reason(li_walk, demand, candidates):
    metric = candidates.to_crs(li_walk.crs)
    inside, near = metric.geometry.iloc[0], metric.geometry.iloc[1]
    hazards = gpd.GeoDataFrame(
        {"type": ["flood_zone", "chemical_plant"], "active": [True, False]},
        index=["H-flood", "H-chem"],
        geometry=[inside.buffer(50.0), shapely.Point(near.x + 300.0, near.y)],
        crs=li_walk.crs).to_crs("EPSG:4326")
    zones = hazard_zones(hazards, crs=li_walk.crs, active_only=False)
    result = site_shelters(li_walk, demand, candidates, problem="pmedian", p=3, zones=zones)
    excluded = result.excluded.set_index("candidate")
    assert excluded.loc[candidates.index[0], "hazard"] == "H-flood"
    assert "inside the zone of hazard H-flood" in excluded.loc[candidates.index[0], "reason"]
    # the inactive chemical plant still keeps shelters at its 1,000 m safety distance
    assert excluded.loc[candidates.index[1], "hazard"] == "H-chem"
    assert "closer than its safety distance 1000 m" in excluded.loc[candidates.index[1],
                                                                    "reason"]
    source = hazards.to_crs(li_walk.crs).geometry.iloc[1]
    too_close = {i for i, g in metric.geometry.items() if g.distance(source) < 1000.0}
    assert set(excluded.index) >= too_close | {candidates.index[0]}
    assert not set(result.solution.sites) & set(excluded.index)


def test_capacitated_loads_stay_within_capacity(li_walk, demand, candidates):
    small = candidates.assign(capacity_people=1100.0)  # 4 × 1,100 for ~3,800 people
    result = site_shelters(li_walk, demand, small, problem="pmedian", p=4, capacitated=True)
    assert result.solution.status == "optimal"
    assert (result.sites["load"] <= result.sites["capacity_people"] + 1e-6).all()
    assert result.solution.covered_demand == pytest.approx(demand["population"].sum())
    # without capacities the same sites would overload one: the constraint did work
    free = site_shelters(li_walk, demand, small, problem="pmedian", p=4)
    assert (free.sites["load"] > free.sites["capacity_people"]).any()
    assert result.solution.objective >= free.solution.objective


def test_a_capacitated_model_needs_capacities(li_walk, demand, candidates):
    with pytest.raises(ValidationError, match="candidates.capacity_people: missing for"):
        site_shelters(li_walk, demand, candidates.assign(capacity_people=np.nan),
                      problem="mclp", p=2, cutoff_s=420.0, capacitated=True)


def test_candidates_that_are_kept_shelters_are_not_candidates_twice(li_walk, demand,
                                                                     existing):
    # an OSM candidate on the same spot as a kept shelter (its footprint around the shelter)
    footprints = existing.to_crs(li_walk.crs).buffer(20.0).to_crs("EPSG:4326")
    twins = gpd.GeoDataFrame({"capacity_people": [100.0] * 3}, index=["t0", "t1", "t2"],
                             geometry=footprints.to_numpy(), crs="EPSG:4326")
    with pytest.raises(ValidationError, match="candidates: none left to choose from"):
        site_shelters(li_walk, demand, twins, problem="mclp", p=1, cutoff_s=420.0,
                      existing=existing, keep_existing=True)
