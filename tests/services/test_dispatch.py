"""Dispatch input as dispatchers type it: team types and items in any case or in Chinese, several
types at once, and unknown names refused with the closest known one."""

import pytest

from geo import services
from geo.errors import ValidationError

ALL = ("shelters", "teams", "depots", "population", "hazards")
VADUZ = (9.5209, 47.1410)


def _teams(result) -> list[tuple[object, str, float]]:
    return [(o.id, o.details["type"], o.eta_s) for o in result.teams.options]


@pytest.fixture
def ctx(make_context, li_drive):
    return make_context(li_drive, ALL)


@pytest.mark.parametrize("typed", [["Fire"], ["FIRE"], ["消防"], ["fire", "Fire", "消防"]])
def test_team_types_in_any_case_or_in_chinese(ctx, typed):
    expected = _teams(services.dispatch(ctx, at=VADUZ, k=3, team_types=["fire"], shelters_k=0))
    assert len(expected) == 3 and {kind for _, kind, _ in expected} == {"fire"}
    sent = services.dispatch(ctx, at=VADUZ, k=3, team_types=typed, shelters_k=0)
    assert _teams(sent) == expected and sent.teams.note == ""


def test_several_types_give_the_k_nearest_of_each(ctx):
    fire = _teams(services.dispatch(ctx, at=VADUZ, k=2, team_types=["fire"], shelters_k=0))
    medical = _teams(services.dispatch(ctx, at=VADUZ, k=2, team_types=["medical"], shelters_k=0))
    both = services.dispatch(ctx, at=VADUZ, k=2, team_types=["fire", "医疗"], shelters_k=0)
    assert _teams(both) == sorted(fire + medical, key=lambda team: team[2])
    assert both.teams.eligible == 8  # 4 available of each type
    more = services.dispatch(ctx, at=VADUZ, k=5, team_types=["fire", "medical", "hazmat"],
                             shelters_k=0)
    assert len(more.teams.options) == 8
    assert more.teams.note == ("only 4 available team(s) of type fire can reach the incident "
                               "(asked for 5); only 4 available team(s) of type medical can reach "
                               "the incident (asked for 5); no available team of type hazmat")


@pytest.mark.parametrize("typed", ["Water", "饮用水", "drinking water", "WATER"])
def test_items_by_name_in_any_case_or_language(ctx, typed):
    sent = services.dispatch(ctx, at=VADUZ, k=1, items={typed: 500}, shelters_k=0)
    assert sent.supplies["shortfall"] == {}  # three depots hold 200 each
    assert sum(a["quantity"] for a in sent.supplies["allocation"]) == 500
    assert {a["item"] for a in sent.supplies["allocation"]} == {"water"}


@pytest.mark.parametrize("team_types, items, message", [
    (["fire", "medic"], None,
     r"team_types: 'medic' is not a known team type \(did you mean medical \(医疗\)\?\); "
     r"allowed: fire \(消防\), medical \(医疗\), search_rescue \(搜救\)"),
    ([], {"Wasser": 10},
     r"items: 'Wasser' is not a known catalogue item \(did you mean water \(饮用水\)\?\); "
     r"allowed: .*tents \(帐篷\)"),
    ([], {"water": 10, "饮用水": 20},
     r"items: 'water' is asked for twice \(as 'water' and '饮用水'\)"),
])
def test_unknown_or_repeated_names_are_refused(ctx, team_types, items, message):
    with pytest.raises(ValidationError, match=message):
        services.dispatch(ctx, at=VADUZ, team_types=team_types, items=items)


def test_an_incident_beside_a_cut_off_road_gets_teams_supplies_and_shelters(ctx):
    # Beside a one-way service road in Vaduz joined to no other road (OSM way 272650018); the
    # nearest connected road, Sandweg, is 55 m away.
    sent = services.dispatch(ctx, at=(9.523598, 47.110566), k=3, items={"water": 100})
    assert len(sent.teams.options) == 3 and sent.teams.incident_status == "ok"
    assert sent.teams.incident_snap_m == pytest.approx(54.6, abs=0.1)
    assert "routed from the nearest connected road, 55 m away" in sent.to_dict()["note"]
    assert sent.supplies["shortfall"] == {} and len(sent.shelters) == 3
