"""The application layer's siting decisions: the walking cutoff of the shelter class, demand and
candidates from the registry or the extract, capacities from the standards, hazards, and the
inputs it must refuse."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import services
from geo.errors import ValidationError
from geo.services.siting import _with_capacity
from tests.analysis_inputs import points_along_roads

ALL = ("shelters", "population", "hazards")


def test_defaults_walk_the_class_minutes_to_osm_candidates(make_context, li_walk):
    ctx = make_context(li_walk, ALL)
    said = []
    result = services.site(ctx, problem="mclp", p=2, keep_existing=True, progress=said.append)
    solution = result.solution
    assert solution.cutoff == 600.0  # emergency shelters: 10 minutes' walk
    assert solution.status == "optimal" and len(solution.sites) == 2
    assert set(solution.kept) == set(ctx.layer("shelters").index)
    assert all(site.startswith("osm-") for site in solution.sites)  # from the extract
    assert said and said[0].startswith("travel times from 600 demand points")
    payload = result.to_dict()
    for key in ("status", "objective", "gap", "sites", "before_after", "new_sites",
                "excluded_candidates"):
        assert key in payload
    assert {row["scenario"] for row in payload["before_after"]} == {"before", "after"}


def test_the_registry_hazards_exclude_candidates_unless_asked_not_to(make_context, li_walk):
    ctx = make_context(li_walk, ALL)
    hazard = ctx.layer("hazards")  # a fuel station: 30 m safety distance, 80 m zone
    near = hazard.to_crs(li_walk.crs).geometry.iloc[0]
    spots = [shapely.Point(near.x + dx, near.y) for dx in (10.0, 60.0, 2000.0, 3000.0)]
    candidates = gpd.GeoDataFrame({"capacity_people": [500.0] * 4}, index=list("abcd"),
                                  geometry=spots, crs=li_walk.crs).to_crs("EPSG:4326")
    result = services.site(ctx, problem="pmedian", p=1, candidates=candidates)
    reasons = result.excluded.set_index("candidate")["reason"]
    assert set(reasons.index) == {"a", "b"}  # within the 80 m zone of the active hazard
    assert "inside the zone of hazard H1" in reasons["a"]
    assert result.solution.sites[0] in {"c", "d"}
    ignored = services.site(ctx, problem="pmedian", p=1, candidates=candidates, hazards=False)
    assert len(ignored.excluded) == 0


def test_capacity_from_effective_area_and_class():
    from geo.core.standards import load_standards

    standards = load_standards()
    frame = gpd.GeoDataFrame({"effective_area_m2": [1000.0, 1000.0, 50.0],
                              "shelter_class": ["short_term", None, "emergency"],
                              "capacity_people": [np.nan, np.nan, 7.0]},
                             geometry=[shapely.Point(0, 0)] * 3, crs="EPSG:4326")
    own = _with_capacity(frame, standards, shelter_class=None)
    per_capita = {key: c.per_capita_area_m2 for key, c in standards.classes.items()}
    assert own["capacity_people"].tolist() == [
        np.floor(1000 / per_capita["short_term"]), np.floor(1000 / per_capita["emergency"]),
        7.0]  # a given capacity wins
    given = _with_capacity(frame, standards, shelter_class="long_term")
    assert given["capacity_people"].tolist()[:2] == [np.floor(1000 / per_capita["long_term"])] * 2


def test_a_registry_layer_as_candidates(make_context, li_walk):
    ctx = make_context(li_walk, ALL)
    result = services.site(ctx, problem="lscp", minutes=15, candidates="shelters",
                           hazards=False)
    assert set(result.solution.sites) <= set(ctx.layer("shelters").index)
    assert result.solution.cutoff == 900.0


@pytest.mark.parametrize("options, message", [
    ({"problem": "mclp", "p": 2, "minutes": 0}, "minutes: expected a positive number"),
    ({"problem": "mclp", "p": 2, "candidates": "teams"}, "candidates"),
    ({"problem": "mclp", "p": 2, "shelter_class": "bunker"}, "shelter_class: 'bunker'"),
    ({"problem": "median", "p": 2}, "problem"),
    ({"problem": "mclp", "p": 0}, "p: expected at least 1"),
    ({"problem": "mclp", "p": 2, "mode": "fly"}, "mode"),
    ({"problem": "mclp", "p": 2, "demand_column": "people"}, "demand_column"),
])
def test_bad_options_are_named(make_context, li_walk, options, message):
    ctx = make_context(li_walk, ALL)
    with pytest.raises(ValidationError, match=message):
        services.site(ctx, **options)


def test_no_population_or_no_people_is_an_error(make_context, li_walk):
    ctx = make_context(li_walk, ("shelters",))
    with pytest.raises(ValidationError, match="demand: the registry has no population"):
        services.site(ctx, problem="mclp", p=1)
    lon, lat = points_along_roads(li_walk, 5, np.random.default_rng(0))
    nobody = gpd.GeoDataFrame({"population": [0.0] * 5}, geometry=gpd.points_from_xy(lon, lat),
                              crs="EPSG:4326")
    with pytest.raises(ValidationError, match="demand.population: the total demand is zero"):
        services.site(ctx, problem="mclp", p=1, demand=nobody)


def test_demand_of_another_region_is_refused(make_context, li_walk):
    ctx = make_context(li_walk, ALL)
    monaco = gpd.GeoDataFrame({"population": [10.0]}, geometry=[shapely.Point(7.42, 43.73)],
                              crs="EPSG:4326")
    with pytest.raises(ValidationError, match="demand: the features cover"):
        services.site(ctx, problem="mclp", p=1, demand=monaco)


def test_an_empty_candidate_layer_is_an_error(make_context, li_walk):
    ctx = make_context(li_walk, ("population",))
    with pytest.raises(ValidationError, match="candidates: there are no candidate sites in "
                                              "the shelters layer"):
        services.site(ctx, problem="mclp", p=1, candidates="shelters")


def test_a_cost_matrix_from_another_tool():
    costs = pd.DataFrame([[1.0, np.inf, 5.0], [4.0, 2.0, np.inf], [9.0, 3.0, 1.0]],
                         index=["d1", "d2", "d3"], columns=["A", "B", "C"])
    result = services.site_matrix(problem="pmedian", costs=costs, weights=[1, 2, 3], p=1)
    # A: 1 + 8 + 27 = 36 (B and C leave a point unreachable: not a p-median answer over all)
    assert result.sites == ("A",) and result.objective == pytest.approx(36.0)
    covering = services.site_matrix(problem="mclp", costs=costs, weights=[1, 2, 3], p=1,
                                    cutoff=3)
    assert covering.sites == ("B",) and covering.objective == pytest.approx(5.0)
    with pytest.raises(ValidationError, match="weights: 2 weights for the 3 demand rows of "
                                              "cost_matrix"):
        services.site_matrix(problem="pmedian", costs=costs, weights=[1, 2], p=1)

