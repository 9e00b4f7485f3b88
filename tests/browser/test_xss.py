"""Names and notes typed by users stay text wherever the UI shows them: popups, the record panel,
the dispatcher's lists, the incidents list, and the exported files. The payloads would run
script if any of those parsed them as HTML; a run would open a dialog or set a global."""

from __future__ import annotations

import csv
import io
import json

import pytest

PAYLOADS = ('<img src=x onerror="window.pwned=1;alert(1)">',
            '<script>window.pwned=2;alert(2)</script>',
            '"><svg onload="window.pwned=3">')


def _point(service, layer):
    first = service.session("viewer").get(f"{service.url}/collections/{layer}/items",
                                          params={"limit": 1}).json()["features"][0]
    return first["geometry"]


@pytest.fixture(scope="module")
def hostile(service):
    """A team, a shelter and an incident whose names and notes are the payloads."""
    planner, dispatcher = service.session("planner"), service.session("dispatcher")
    made = {}
    team_at = _point(service, "teams")
    for i, payload in enumerate(PAYLOADS):
        lon, lat = team_at["coordinates"]
        answer = planner.post(f"{service.url}/collections/teams/items", json={
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + 0.002 * (i + 1),
                                                                             lat + 0.002]},
            "properties": {"name": payload, "notes": payload, "type": "fire",
                           "headcount": 5, "home_base": payload}})
        assert answer.status_code == 201, answer.text
        made.setdefault("teams", []).append(answer.json()["id"])
    shelter = planner.post(f"{service.url}/collections/shelters/items", json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [9.52, 47.14]},
        "properties": {"name": PAYLOADS[0], "notes": PAYLOADS[1], "shelter_class": "emergency",
                       "capacity_people": 100, "contact": PAYLOADS[2]}})
    assert shelter.status_code == 201, shelter.text
    made["shelter"] = shelter.json()["id"]
    incident = dispatcher.post(f"{service.url}/collections/incidents/items", json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [9.521, 47.141]},
        "properties": {"name": PAYLOADS[1], "notes": PAYLOADS[0], "type": "fire"}})
    assert incident.status_code == 201, incident.text
    made["incident"] = incident.json()["id"]
    return made


def _watch(page):
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))


def _inert(page):
    assert page.dialogs == []
    assert page.evaluate("window.pwned") is None
    # No element made from a payload: an <img src=x>, <svg onload> or injected <script>.
    assert page.locator("img[src=x], svg[onload], script:not([src]):not([nonce])").count() == 0


def test_names_in_popups_and_the_record_panel_stay_text(open_map, hostile):
    page = open_map("dispatcher")
    _watch(page)
    for team_id, payload in zip(hostile["teams"], PAYLOADS, strict=True):
        page.evaluate("Geo.map.closePopup()")
        # Close enough that no other marker covers it.
        page.evaluate(f"Geo.map.setView(Geo.anchor(Geo.layers.teams.byId.get('{team_id}')), 18,"
                      " {animate: false})")
        page.locator(f".team-icon[data-team='{team_id}']").click()
        popup = page.locator(".leaflet-popup-content .popup")
        popup.wait_for()
        assert popup.locator(".popup-name").inner_text() == payload
        popup.get_by_role("button", name="Details").click()
        record = page.locator("#tab-record")
        assert record.locator(".record-name").inner_text() == payload
        assert record.locator("td[data-field=notes]").inner_text() == payload
        assert record.locator("td[data-field=home_base]").inner_text() == payload
    _inert(page)


def test_names_in_the_incidents_list_stay_text(open_map, hostile):
    page = open_map("dispatcher")
    _watch(page)
    page.click("#panel .tabs [data-tab=incidents]")
    tab = page.locator("#tab-incidents")
    tab.get_by_text(PAYLOADS[1], exact=False).first.wait_for()
    _inert(page)


def test_exports_are_files_not_pages(service, hostile):
    viewer = service.session("viewer")
    for fmt in ("csv", "geojson"):
        answer = viewer.get(f"{service.url}/api/layers/teams/export", params={"format": fmt})
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].split(";")[0] in ("text/csv",
                                                                "application/geo+json")
        assert answer.headers.get("X-Content-Type-Options") == "nosniff"
        assert "attachment" in answer.headers.get("Content-Disposition", "")
        text = answer.content.decode("utf-8-sig")
        names = ([row["name"] for row in csv.DictReader(io.StringIO(text))] if fmt == "csv"
                 else [f["properties"]["name"] for f in json.loads(text)["features"]])
        assert set(PAYLOADS) <= set(names)  # kept as typed, as data
