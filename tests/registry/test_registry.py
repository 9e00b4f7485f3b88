"""The Registry API against a real SQLite file and a real PostgreSQL + PostGIS database:
records, inventory, teams, audit, spatial index."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.errors import ConflictError, NotFoundError, RecordsRejectedError, ValidationError
from geo.registry.registry import Registry

VADUZ = (9.5209, 47.1410)
ROOT = Path(__file__).resolve().parents[2]  # so the other process imports this checkout's geo


@pytest.fixture
def reg(registry_url):
    with Registry(registry_url) as registry:
        yield registry


def _team(team_id, lon=VADUZ[0], lat=VADUZ[1], **fields):
    return {"id": team_id, "type": "fire", "headcount": 6, "turnout_s": 90,
            "geometry": shapely.Point(lon, lat), **fields}


def test_shelter_capacity_is_derived_from_its_class(reg):
    shelter_id = reg.add("shelters", {"name": "Gymnasium 体育馆", "shelter_class": "short_term",
                                      "effective_area_m2": 1234.0,
                                      "geometry": shapely.Point(*VADUZ)})
    shelter = reg.get("shelters", shelter_id)
    assert shelter["capacity_people"] == 617  # 1234 m² / 2.0 m² per person
    assert shelter["name"] == "Gymnasium 体育馆"
    assert shelter["status"] == "open" and shelter["occupancy"] == 0
    updated = reg.update("shelters", shelter_id, {"shelter_class": "long_term"})
    assert updated["capacity_people"] == 274  # 1234 / 4.5
    given = reg.add("shelters", {"shelter_class": "emergency", "capacity_people": 80,
                                 "geometry": shapely.Point(*VADUZ).buffer(0.0005)})
    assert reg.get("shelters", given)["capacity_people"] == 80
    # Without an area, a new class keeps the given capacity.
    assert reg.update("shelters", given, {"shelter_class": "central"})["capacity_people"] == 80
    with pytest.raises(ValidationError, match="occupancy: 81 exceeds capacity_people 80"):
        reg.update("shelters", given, {"occupancy": 81})


def test_bad_records_name_every_field_and_write_nothing(reg):
    with pytest.raises(ValidationError) as caught:
        reg.add("shelters", {"shelter_class": "palace", "capacity_people": -5, "status": "gone",
                             "colour": "red", "geometry": shapely.Point(*VADUZ)})
    message = str(caught.value)
    for expected in ("shelter_class: 'palace' is not one of", "capacity_people: -5 is negative",
                     "status: 'gone' is not one of open (开放), closed (关闭), full (已满), "
                     "unsafe (不安全)",
                     "colour: unknown field"):
        assert expected in message
    with pytest.raises(ValidationError, match="headcount: -1 is negative"):
        reg.add("teams", _team("T1", headcount=-1))
    with pytest.raises(ValidationError, match="type: required field is missing"):
        reg.add("hazards", {"geometry": shapely.Point(*VADUZ)})
    assert reg.counts() == {"shelters": 0, "depots": 0, "teams": 0, "hazards": 0,
                            "incidents": 0, "population": 0, "inventory": 0}


def test_batch_with_one_bad_row_imports_nothing(reg):
    rows = [_team(f"T{i}") for i in range(5)] + [_team("T2")]
    rows[3]["status"] = "asleep"
    with pytest.raises(RecordsRejectedError) as caught:
        reg.add_many("teams", rows)
    problems = {(p.row, p.field) for p in caught.value.problems}
    assert problems == {(4, "status"), (6, "id")}
    assert "duplicate id 'T2' (also row 3)" in str(caught.value.problems)
    assert reg.counts()["teams"] == 0


def test_update_and_delete_are_audited_with_old_and_new_values(reg):
    reg.add("hazards", {"id": "H1", "type": "fuel_station", "radius_m": 100,
                        "geometry": shapely.Point(*VADUZ)}, actor="planner-a")
    reg.update("hazards", "H1", {"radius_m": 150, "active": False}, actor="planner-b")
    reg.delete("hazards", "H1", actor="planner-c")
    log = reg.audit_log(layer="hazards", record_id="H1")
    assert list(log["action"]) == ["delete", "update", "insert"]
    assert list(log["actor"]) == ["planner-c", "planner-b", "planner-a"]
    update = log.iloc[1]
    assert update["old"]["radius_m"] == 100 and update["old"]["active"] is True
    assert update["new"]["radius_m"] == 150 and update["new"]["active"] is False
    with pytest.raises(NotFoundError):
        reg.get("hazards", "H1")


def _entries(reg, layer, record_id):
    """(action, actor, old, new) of a record's audit entries, oldest first."""
    log = reg.audit_log(layer=layer, record_id=record_id).iloc[::-1]
    return list(zip(log["action"], log["actor"], log["old"], log["new"], strict=True))


def test_team_status_changes_and_assignments_are_audited(reg):
    reg.add_many("teams", [_team("T1"), _team("T2")])
    reg.add("incidents", {"id": "I1", "type": "fire", "geometry": shapely.Point(*VADUZ)})
    reg.set_team_status("T1", "off_duty", expected=["en_route", "available"], actor="chief")
    with pytest.raises(ConflictError):
        reg.set_team_status("T1", "assigned", expected="available", actor="late")
    assignment = reg.assign_team("I1", "T2", actor="dispatcher-a")
    reg.release_team("T2", actor="dispatcher-b")
    # The entry holds the status the team really had, not the ones that were allowed; the
    # refused change left none.
    assert _entries(reg, "teams", "T1")[1:] == [
        ("status", "chief", {"status": "available"}, {"status": "off_duty"})]
    assert [e for e in _entries(reg, "teams", "T2") if e[0] == "status"] == [
        ("status", "dispatcher-a", {"status": "available"}, {"status": "assigned"}),
        ("status", "dispatcher-b", {"status": "assigned"}, {"status": "available"})]
    assert _entries(reg, "incidents", "I1")[1:] == [
        ("assign", "dispatcher-a", None, {"team": "T2", "assignment": assignment})]


def test_stock_changes_are_audited(reg):
    reg.add("depots", {"id": "D1", "geometry": shapely.Point(*VADUZ)})
    reg.set_stock("D1", "water", 500, actor="planner")
    reg.set_stock("D1", "water", 450, actor="planner-b")
    reg.adjust_stock("D1", "water", -120, actor="dispatcher")
    with pytest.raises(ConflictError):
        reg.adjust_stock("D1", "water", -1000, actor="greedy")
    reg.add_many("inventory", [{"depot": "D1", "item": "water", "quantity": 80}],
                 actor="importer")
    assert _entries(reg, "inventory", "D1/water") == [
        ("insert", "planner", None, {"quantity": 500.0, "unit": "L"}),
        ("update", "planner-b", {"quantity": 500.0}, {"quantity": 450.0, "unit": "L"}),
        ("update", "dispatcher", {"quantity": 450.0}, {"quantity": 330.0}),
        ("update", "importer", {"quantity": 330.0}, {"quantity": 80.0, "unit": "L"})]


def test_inventory_never_goes_negative(reg):
    reg.add("depots", {"id": "D1", "name": "Werkhof", "geometry": shapely.Point(*VADUZ)})
    reg.set_stock("D1", "water", 500)
    assert reg.adjust_stock("D1", "water", -120) == 380
    with pytest.raises(ConflictError, match="holds 380 water, cannot take 400") as caught:
        reg.adjust_stock("D1", "water", -400)
    assert caught.value.current == 380
    assert reg.stock("D1") == {"water": 380}
    with pytest.raises(ValidationError, match="quantity: -1 is negative"):
        reg.set_stock("D1", "water", -1)
    with pytest.raises(ValidationError, match="'snowshoes' is not in the catalogue"):
        reg.set_stock("D1", "snowshoes", 10)
    reg.add_catalogue_item("snowshoes", name_en="snowshoes", name_zh="雪鞋", unit="pair")
    reg.set_stock("D1", "snowshoes", 10)
    inventory = reg.layer("inventory")
    assert inventory.loc["D1/snowshoes", "unit"] == "pair"
    assert inventory.loc["D1/water", "quantity"] == 380
    assert inventory.crs.to_epsg() == 4326


def test_layers_are_geodataframes_the_analyses_can_use(reg):
    reg.add_many("teams", [_team("T1"), _team("T2", type="medical", status="off_duty")])
    teams = reg.layer("teams")
    assert teams.crs.to_epsg() == 4326
    assert list(teams.index) == ["T1", "T2"]
    assert {"type", "status", "headcount", "turnout_s", "name"} <= set(teams.columns)
    assert teams.loc["T2", "status"] == "off_duty"
    assert teams.loc["T1", "geometry"].equals(shapely.Point(*VADUZ))
    assert (teams["home_lon"] == VADUZ[0]).all()


def test_status_change_is_conditional(reg):
    reg.add("teams", _team("T1"))
    reg.set_team_status("T1", "en_route", expected="available")
    with pytest.raises(ConflictError, match="team T1 is en_route, not available") as caught:
        reg.set_team_status("T1", "assigned", expected="available")
    assert caught.value.current == "en_route"
    with pytest.raises(ValidationError, match="'sleeping' is not one of"):
        reg.set_team_status("T1", "sleeping", expected="en_route")
    with pytest.raises(NotFoundError):
        reg.set_team_status("T9", "assigned", expected="available")
    with pytest.raises(ValidationError, match="set_team_status"):
        reg.update("teams", "T1", {"status": "available"})


@pytest.mark.parametrize("shared", [False, True], ids=["registry-per-thread", "shared-registry"])
def test_concurrent_assignments_of_one_team_never_both_succeed(registry_url, shared):
    path = registry_url
    with Registry(path) as setup:
        setup.add_many("teams", [_team(f"T{i}") for i in range(5)])
        setup.add("incidents", {"id": "I1", "type": "fire", "geometry": shapely.Point(*VADUZ)})
    # Eight dispatchers: each with its own engine (like separate processes), or all sharing
    # one Registry and its connection pool (like threads of one web server).
    one = Registry(path)
    dispatchers = [one] * 8 if shared else [Registry(path) for _ in range(8)]
    for team in [f"T{i}" for i in range(5)]:
        barrier = threading.Barrier(len(dispatchers))
        outcomes = []

        def assign(registry, team=team, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                outcomes.append(("won", registry.assign_team("I1", team, actor=str(id(registry)))))
            except ConflictError as exc:
                outcomes.append(("lost", exc.current))

        threads = [threading.Thread(target=assign, args=(r,)) for r in dispatchers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(kind for kind, _ in outcomes) == ["lost"] * 7 + ["won"]
        assert {value for kind, value in outcomes if kind == "lost"} == {"assigned"}
    incidents = dispatchers[0].layer("incidents")
    assert incidents.loc["I1", "assigned_teams"] == [f"T{i}" for i in range(5)]
    assert incidents.loc["I1", "status"] == "dispatched"
    for registry in {*dispatchers, one}:
        registry.close()


def test_release_makes_a_team_available_again(reg):
    reg.add("teams", _team("T1"))
    reg.add("incidents", {"id": "I1", "type": "flood", "geometry": shapely.Point(*VADUZ)})
    reg.assign_team("I1", "T1")
    reg.release_team("T1")
    assert reg.get("teams", "T1")["status"] == "available"
    assert reg.layer("incidents").loc["I1", "assigned_teams"] == []
    reg.assign_team("I1", "T1")
    reg.release_team("T1")
    reg.update("incidents", "I1", {"status": "closed"})
    with pytest.raises(ConflictError, match="incident I1 is closed"):
        reg.assign_team("I1", "T1")
    assert reg.get("teams", "T1")["status"] == "available"  # the failed assignment rolled back


def test_spatial_index_follows_inserts_moves_and_deletes(reg):
    reg.add_many("teams", [_team("T1"), _team("T2", lon=9.60, lat=47.20)])
    assert list(reg.nearby("teams", *VADUZ, radius_m=50).index) == ["T1"]
    # SQLite: an rtree of this process's; PostgreSQL: PostGIS's GiST index, kept by the server.
    index = None if reg.postgis else reg._indexes["teams"]
    reg.add("teams", _team("T3", lon=VADUZ[0] + 0.0004))  # about 30 m east
    reg.move_team("T2", VADUZ[0], VADUZ[1] + 0.0009)  # about 100 m north
    reg.delete("teams", "T1")
    assert reg._indexes.get("teams") is index  # kept in step, not rebuilt
    near = reg.nearby("teams", *VADUZ, radius_m=150)
    assert list(near.index) == ["T3", "T2"]
    assert near["T3"] == pytest.approx(30.3, abs=0.5)
    assert near["T2"] == pytest.approx(100.1, abs=0.5)
    assert list(reg.nearest("teams", *VADUZ, k=1).index) == ["T3"]


def _in_another_process(url: str, *statements: str) -> None:
    """Run registry writes in a separate Python process, as a second server worker would."""
    script = "\n".join(["import shapely", "from geo.registry.registry import Registry",
                        f"with Registry({url!r}) as reg:",
                        *(f"    {line}" for line in statements)])
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)


def _add_team(team_id: str, lon: float, lat: float) -> str:
    return (f"reg.add('teams', {{'id': {team_id!r}, 'type': 'fire', 'headcount': 6, "
            f"'geometry': shapely.Point({lon}, {lat})}})")


def test_index_notices_writes_by_another_process(reg):
    reg.add("teams", _team("T1"))
    assert list(reg.nearby("teams", *VADUZ, radius_m=10).index) == ["T1"]
    # A query after the other process wrote: the index is rebuilt.
    _in_another_process(reg.url, _add_team("T2", *VADUZ))
    assert sorted(reg.nearby("teams", *VADUZ, radius_m=10).index) == ["T1", "T2"]
    # A write of ours after theirs: the index is rebuilt, not merely given our own write.
    _in_another_process(reg.url, _add_team("T3", *VADUZ), "reg.delete('teams', 'T1')",
                        "reg.move_team('T2', 9.60, 47.20)")
    reg.add("teams", _team("T4"))
    assert sorted(reg.nearby("teams", *VADUZ, radius_m=10).index) == ["T3", "T4"]
    assert list(reg.nearest("teams", 9.60, 47.20, k=1).index) == ["T2"]


def test_incident_needs_are_checked(reg):
    with pytest.raises(ValidationError, match="'cannons' is not one of"):
        reg.add("incidents", {"type": "fire", "needs": {"teams": {"cannons": 1}},
                              "geometry": shapely.Point(*VADUZ)})
    incident = reg.add("incidents", {"type": "fire", "severity": 3,
                                     "needs": {"teams": {"fire": 2}, "supplies": {"water": 200}},
                                     "geometry": shapely.Point(*VADUZ)})
    assert reg.get("incidents", incident)["needs"] == {"teams": {"fire": 2},
                                                       "supplies": {"water": 200}}


def test_records_may_name_types_statuses_and_items_in_chinese(reg):
    needs = {"teams": {"水上救援": 2, "Fire": 1}, "supplies": {"沙袋": 500}}
    incident = reg.add("incidents", {"type": "洪涝", "status": "待处置", "needs": needs,
                                     "geometry": shapely.Point(*VADUZ)})
    record = reg.get("incidents", incident)
    assert (record["type"], record["status"]) == ("flood", "open")
    assert record["needs"] == {"teams": {"water_rescue": 2, "fire": 1},
                               "supplies": {"sandbags": 500}}
    assert needs["teams"] == {"水上救援": 2, "Fire": 1}  # the caller's own mapping is kept
    reg.add("teams", _team("T1", type="消防", status="待命"))
    assert reg.get("teams", "T1")["type"] == "fire"
    assert reg.get("teams", "T1")["status"] == "available"


def test_region_refuses_points_outside_and_spots_swapped_coordinates(reg):
    reg.set_region([9.47, 47.04, 9.64, 47.28])
    with pytest.raises(ValidationError, match="latitude and longitude look swapped"):
        reg.add("teams", _team("T1", lon=VADUZ[1], lat=VADUZ[0]))
    with pytest.raises(ValidationError, match="outside the registry's region"):
        reg.add("teams", _team("T1", lon=8.54, lat=47.37))
    reg.add("teams", _team("T1"))


def test_transaction_groups_writes_all_or_nothing(reg):
    with pytest.raises(ValidationError), reg.transaction():
        reg.add("depots", {"id": "D1", "geometry": shapely.Point(*VADUZ)})
        reg.add_many("inventory", [{"depot": "D1", "item": "water", "quantity": 10}])
        assert reg.stock("D1") == {"water": 10}  # the transaction sees its own writes
        reg.add("teams", _team("T1", headcount=-3))
    assert reg.counts()["depots"] == 0 and reg.counts()["inventory"] == 0
    with reg.transaction():
        reg.add("teams", _team("T1"))
        reg.add("teams", _team("T2"))
    assert sorted(reg.nearby("teams", *VADUZ, radius_m=1).index) == ["T1", "T2"]


def test_nearest_ranks_in_metres_not_degrees(reg, rng):
    # At 47°N a degree of longitude is about 0.68 of a degree of latitude: rank in metres.
    lon = VADUZ[0] + rng.uniform(-0.05, 0.05, 300)
    lat = VADUZ[1] + rng.uniform(-0.05, 0.05, 300)
    reg.add_many("population", [{"id": f"P{i}", "population": 1,
                                 "geometry": shapely.Point(x, y)}
                                for i, (x, y) in enumerate(zip(lon, lat, strict=True))])
    geod = Geod(ellps="WGS84")
    exact = geod.inv(np.full(300, VADUZ[0]), np.full(300, VADUZ[1]), lon, lat)[2]
    expected = [f"P{i}" for i in np.argsort(exact)[:10]]
    nearest = reg.nearest("population", *VADUZ, k=10)
    assert list(nearest.index) == expected
    assert nearest.to_numpy() == pytest.approx(np.sort(exact)[:10], abs=0.01)


def test_audit_values_show_geometry_as_wkt_and_times_as_iso(reg):
    reg.add("incidents", {"id": "I1", "type": "fire", "reported_at": "2024-05-06T07:08:09",
                          "geometry": shapely.Point(*VADUZ)})
    reg.update("incidents", "I1", {"geometry": shapely.Point(VADUZ[0], 47.15)})
    update, insert = reg.audit_log(layer="incidents", record_id="I1").to_dict("records")
    assert insert["new"]["geometry"] == "POINT (9.5209 47.141)"
    assert insert["new"]["reported_at"] == "2024-05-06T07:08:09"
    assert datetime.fromisoformat(insert["new"]["created_at"]).year >= 2024
    assert update["old"]["geometry"] == "POINT (9.5209 47.141)"
    assert update["new"]["geometry"] == "POINT (9.5209 47.15)"


def test_a_registry_of_real_records_is_not_a_demo(reg):
    reg.add("teams", _team("T1"))
    assert reg.demo is None


def test_extent_is_the_region_when_set(reg):
    reg.add("teams", _team("T1"))
    reg.set_region([9.47, 47.04, 9.64, 47.28])
    assert reg.extent() == (9.47, 47.04, 9.64, 47.28)


def test_extent_without_a_region_is_the_union_of_the_feature_bounds(reg):
    assert reg.extent() is None
    geometries = [shapely.Point(*VADUZ), shapely.Point(9.60, 47.20).buffer(0.01),
                  shapely.LineString([(9.49, 47.05), (9.55, 47.10)])]
    reg.add("teams", _team("T1"))
    reg.add("shelters", {"shelter_class": "emergency", "capacity_people": 10,
                         "geometry": geometries[1]})
    reg.add("hazards", {"type": "flood_zone", "geometry": geometries[2]})
    assert reg.extent() == pytest.approx(tuple(shapely.total_bounds(geometries)))
    reg.clear("shelters")
    assert reg.extent() == pytest.approx(tuple(shapely.total_bounds(geometries[::2])))


def test_revision_grows_with_each_write_of_its_layer_only(reg):
    assert reg.revision("teams") == reg.revision("shelters") == 0
    writes = [lambda: reg.add("teams", _team("T1")),
              lambda: reg.update("teams", "T1", {"headcount": 7}),
              lambda: reg.move_team("T1", VADUZ[0], 47.15),
              lambda: reg.set_team_status("T1", "en_route", expected="available"),
              lambda: reg.delete("teams", "T1")]
    seen = [reg.revision("teams")]
    for write in writes:
        write()
        seen.append(reg.revision("teams"))
    assert seen == sorted(set(seen))  # strictly increasing
    assert reg.revision("shelters") == 0
    reg.add("shelters", {"shelter_class": "emergency", "capacity_people": 10,
                         "geometry": shapely.Point(*VADUZ)})
    assert reg.revision("shelters") == 1 and reg.revision("teams") == seen[-1]
    with pytest.raises(ValidationError, match="'roads' is not one of"):
        reg.revision("roads")


def test_revision_follows_what_a_layer_shows(reg):
    reg.add("depots", {"id": "D1", "geometry": shapely.Point(*VADUZ)})
    reg.add("teams", _team("T1"))
    reg.add("incidents", {"id": "I1", "type": "fire", "geometry": shapely.Point(*VADUZ)})
    before = reg.revision("inventory")
    reg.set_stock("D1", "water", 10)
    reg.adjust_stock("D1", "water", -1)
    reg.add_many("inventory", [{"depot": "D1", "item": "food", "quantity": 5}])
    assert reg.revision("inventory") == before + 3
    reg.update("depots", "D1", {"name": "Werkhof"})  # shown as depot_name in the inventory
    assert reg.revision("inventory") == before + 4
    incidents = reg.revision("incidents")
    reg.assign_team("I1", "T1")  # the incident's assigned_teams and status change
    assert reg.revision("incidents") > incidents
