"""The planner's work in Chromium against the live service: records added by clicking the map,
edited, moved and deleted (the server's message next to the field; nothing written when it
refuses), file imports with the row report, coverage (the chart's numbers are the API's),
a barrier drawn with the mouse changing coverage (the drawing cursor kept under the
pointer), exposure of a hazard, and what a viewer does not get.

Every check of the registry goes through the API with an independent client (``requests``),
never through the page's own state. Shelters are clustered on the map, so a record is opened
with ``Geo.showRecord`` (what a popup's Details button calls) rather than by hunting its marker.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.browser.conftest import draw_clicks, move_drawing_cursor, screenshot

SHOW = "([layer, id]) => Geo.showRecord(layer, Geo.layers[layer].byId.get(id))"


def api(service, role="planner"):
    return service.session(role)


def get_item(service, layer, item_id):
    return api(service).get(f"{service.url}/collections/{layer}/items/{item_id}")


def all_features(service, layer):
    answer = api(service).get(f"{service.url}/collections/{layer}/items", params={"limit": 5000})
    answer.raise_for_status()
    return answer.json()["features"]


def run_job(service, path, body):
    accepted = api(service).post(f"{service.url}{path}", json=body)
    assert accepted.status_code == 202, accepted.text
    href = accepted.json()["href"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = api(service).get(service.url + href).json()
        if job["status"] == "done":
            return job["result"]
        assert job["status"] in ("queued", "running"), job
        time.sleep(0.3)
    raise AssertionError("the job did not finish")


def page_errors(page):
    """Script errors (HTTP refusals the tests provoke on purpose are logged by Chromium as
    'Failed to load resource' and are not errors of the page)."""
    return [e for e in page.errors if not e.startswith("Failed to load resource")]


def planning(page):
    page.click("#panel .tabs [data-tab=plan]")
    return page.locator("#tab-plan")


def map_point(page, dx=0, dy=0):
    """A point of the map's container (screen pixels) near its centre, and its lon/lat."""
    box = page.locator(".folium-map").bounding_box()
    x, y = box["width"] / 2 + dx, box["height"] / 2 + dy
    latlng = page.evaluate("([x, y]) => { const p = Geo.map.containerPointToLatLng([x, y]);"
                           " return [p.lng, p.lat]; }", [x, y])
    return (box["x"] + x, box["y"] + y), latlng


def reload_layer(page, layer):
    page.evaluate("(layer) => Geo.loadLayer(layer)", layer)


def open_record(page, layer, item_id):
    reload_layer(page, layer)
    page.evaluate(SHOW, [layer, item_id])
    page.locator("#tab-record .record-name").wait_for()


def add_via_api(service, layer, properties, lonlat=(9.5209, 47.1660)):
    answer = api(service).post(f"{service.url}/collections/{layer}/items", json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": list(lonlat)},
        "properties": properties})
    assert answer.status_code == 201, answer.text
    return answer.json()


# ---- records ----------------------------------------------------------------------------


def test_a_planner_adds_a_shelter_by_clicking_the_map_and_filling_the_form(open_map, service):
    page = open_map("planner")
    planning(page).locator("#plan-add-shelters").click()
    (x, y), (lon, lat) = map_point(page, dx=-60, dy=40)
    page.mouse.click(x, y)
    form = page.locator("#plan-form-holder form.record-form[data-layer=shelters]")
    form.wait_for()
    name = f"Test shelter {uuid.uuid4().hex[:6]}"
    form.locator("[name=name]").fill(name)
    form.locator("[name=capacity_people]").fill("250")
    form.locator("[name=facilities]").fill("water, toilets")
    # The class is required: the server's message is shown under it and nothing is written.
    form.locator("button[type=submit]").click()
    error = form.locator("[data-error-for=shelter_class]")
    error.wait_for(state="visible")
    # The server's problem, the field named in the page's words.
    assert "shelter class" in error.inner_text()
    assert "required field is missing" in error.inner_text()
    assert not [f for f in all_features(service, "shelters") if f["properties"]["name"] == name]

    form.locator("[name=shelter_class]").select_option("short_term")
    form.locator("button[type=submit]").click()
    page.locator("#tab-record .record-name", has_text=name).wait_for()
    stored = [f for f in all_features(service, "shelters") if f["properties"]["name"] == name]
    assert len(stored) == 1
    shelter = stored[0]
    assert shelter["properties"]["shelter_class"] == "short_term"
    assert shelter["properties"]["capacity_people"] == 250
    assert shelter["properties"]["facilities"] == ["water", "toilets"]
    assert shelter["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    # Drawn on the map with the rest of the layer.
    assert page.evaluate("(id) => Geo.layers.shelters.byId.has(id)", shelter["id"])
    assert page_errors(page) == []


def test_a_planner_draws_a_hazard_zone_which_is_not_a_barrier(open_map, service):
    page = open_map("planner")
    planning(page).locator("#plan-draw-hazards").click()
    box = page.locator(".folium-map").bounding_box()
    x, y = box["width"] / 2, box["height"] / 2
    corners = [(x - 70, y - 50), (x + 70, y - 50), (x + 60, y + 60), (x - 60, y + 50)]
    lonlats = [page.evaluate("([x, y]) => { const p = Geo.map.containerPointToLatLng([x, y]);"
                             " return [p.lng, p.lat]; }", list(c)) for c in corners]
    draw_clicks(page, [(box["x"] + cx, box["y"] + cy) for cx, cy in corners],
                finish=(box["x"] + corners[0][0], box["y"] + corners[0][1]))
    form = page.locator("#plan-form-holder form.record-form[data-layer=hazards]")
    form.wait_for()
    name = f"Flooded meadow {uuid.uuid4().hex[:6]}"
    form.locator("[name=name]").fill(name)
    form.locator("[name=type]").select_option("flood_zone")
    form.locator("[name=risk_level]").fill("3")
    form.locator("button[type=submit]").click()
    page.locator("#tab-record .record-name", has_text=name).wait_for()
    hazard = next(f for f in all_features(service, "hazards") if f["properties"]["name"] == name)
    assert hazard["geometry"]["type"] == "Polygon"
    ring = hazard["geometry"]["coordinates"][0]
    assert len(ring) == 5
    for got, want in zip(ring[:4], lonlats):
        assert got == pytest.approx(want, abs=1e-5)
    assert (hazard["properties"]["type"], hazard["properties"]["risk_level"]) == ("flood_zone", 3)
    assert page.evaluate("Geo.barriers.features.length") == 0
    assert page_errors(page) == []


def test_an_edit_with_a_bad_value_shows_the_servers_message_and_changes_nothing(open_map,
                                                                                   service):
    shelter = add_via_api(service, "shelters", {"name": "Edit me", "shelter_class": "emergency",
                                                "capacity_people": 100})
    before = get_item(service, "shelters", shelter["id"])
    page = open_map("planner")
    open_record(page, "shelters", shelter["id"])
    page.locator("#tab-record .plan-edit").click()
    form = page.locator("#tab-record .plan-edit-box form")
    form.locator("[name=capacity_people]").fill("-5")
    form.locator("button[type=submit]").click()
    error = form.locator("[data-error-for=capacity_people]")
    error.wait_for(state="visible")
    assert "capacity (people)" in error.inner_text()
    assert "-5 is negative" in error.inner_text()
    assert form.locator("[name=capacity_people]").get_attribute("aria-invalid") == "true"
    after = get_item(service, "shelters", shelter["id"])
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.json()["properties"]["capacity_people"] == 100

    # A value the server takes is saved (only the changed field is sent).
    form.locator("[name=capacity_people]").fill("321")
    form.locator("[name=status]").select_option("full")
    form.locator("button[type=submit]").click()
    page.locator("#tab-record td[data-field=capacity_people]", has_text="321").wait_for()
    saved = get_item(service, "shelters", shelter["id"]).json()["properties"]
    assert (saved["capacity_people"], saved["status"], saved["name"]) == (321, "full", "Edit me")
    assert page_errors(page) == []


def test_an_edit_after_someone_elses_change_is_refused_and_the_record_reloaded(open_map,
                                                                              service):
    team = add_via_api(service, "teams", {"name": "Race team", "type": "fire", "headcount": 4})
    page = open_map("planner")
    open_record(page, "teams", team["id"])
    page.locator("#tab-record .plan-edit").click()
    form = page.locator("#tab-record .plan-edit-box form")
    form.locator("[name=headcount]").fill("6")
    # Meanwhile another planner changes the team.
    current = get_item(service, "teams", team["id"])
    changed = api(service).patch(f"{service.url}/collections/teams/items/{team['id']}",
                                 json={"properties": {"headcount": 9}},
                                 headers={"If-Match": current.headers["ETag"]})
    assert changed.status_code == 200
    form.locator("button[type=submit]").click()
    notice = page.locator("#tab-record .plan-edit-box .form-error", has_text="Someone else")
    notice.wait_for()
    # The form shows the other planner's value, and the registry kept it.
    reloaded = page.locator("#tab-record .plan-edit-box form [name=headcount]")
    assert reloaded.input_value() == "9"
    assert get_item(service, "teams", team["id"]).json()["properties"]["headcount"] == 9


def test_a_planner_moves_a_team_with_a_click(open_map, service):
    team = add_via_api(service, "teams", {"name": "Mover", "type": "medical", "headcount": 3})
    page = open_map("planner")
    open_record(page, "teams", team["id"])
    page.locator("#tab-record .plan-move").click()
    (x, y), (lon, lat) = map_point(page, dx=80, dy=-50)
    page.mouse.click(x, y)
    page.locator("#status", has_text="Moved").wait_for()
    moved = get_item(service, "teams", team["id"]).json()
    assert moved["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    assert moved["properties"]["name"] == "Mover"


def test_a_planner_deletes_a_depot_after_confirming(open_map, service):
    depot = add_via_api(service, "depots", {"name": "Old depot"})
    page = open_map("planner")
    open_record(page, "depots", depot["id"])
    page.locator("#tab-record .plan-delete").click()
    page.locator("#tab-record .plan-delete-confirm").click()
    page.locator("#tab-record", has_text="Deleted Old depot").wait_for()
    assert get_item(service, "depots", depot["id"]).status_code == 404
    assert not page.evaluate("(id) => Geo.layers.depots.byId.has(id)", depot["id"])


def test_an_area_record_offers_no_move(open_map, service):
    area = next(f for f in all_features(service, "shelters") if f["geometry"]["type"] != "Point")
    page = open_map("planner")
    open_record(page, "shelters", area["id"])
    assert page.locator("#tab-record .plan-move").is_disabled()
    assert "footprint" in page.locator("#tab-record .actions").inner_text()


# ---- import -------------------------------------------------------------------------------

GOOD_CSV = ("name,lon,lat,type,headcount\n"
            "Imported A,9.5201,47.1655,fire,5\n"
            "Imported B,9.5302,47.1701,medical,3\n")
BAD_CSV = ("name,lon,lat,type,headcount\n"
           "Bad A,9.5201,47.1655,fire,-5\n"
           "Bad B,9.5302,47.1701,dragon,3\n"
           "Bad C,9.5302,47.1701,police,4\n")


def import_file(page, layer, name, text):
    section = planning(page).locator("#plan-import")
    section.locator("[name=layer]").select_option(layer)
    section.locator("[name=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode()})
    section.locator("button[type=submit]").click()
    return section.locator("#plan-import-result")


def test_an_import_of_a_good_file_reports_the_count(open_map, service):
    before = len(all_features(service, "teams"))
    page = open_map("planner")
    result = import_file(page, "teams", "teams.csv", GOOD_CSV)
    result.locator(".import-ok").wait_for()
    assert result.locator(".import-ok").get_attribute("data-imported") == "2"
    assert "Imported 2 record(s)" in result.inner_text()
    teams = all_features(service, "teams")
    assert len(teams) == before + 2
    assert {"Imported A", "Imported B"} <= {t["properties"]["name"] for t in teams}
    assert page_errors(page) == []


def test_an_import_of_a_bad_file_shows_the_row_report_and_imports_nothing(open_map, service):
    before = len(all_features(service, "teams"))
    # What the API says about this file (it imports nothing either way).
    refused = api(service).post(f"{service.url}/api/layers/teams/import",
                                files={"file": ("bad.csv", BAD_CSV.encode(), "text/csv")})
    assert refused.status_code == 422
    problems = refused.json()["error"]["problems"]
    page = open_map("planner")
    result = import_file(page, "teams", "bad.csv", BAD_CSV)
    table = result.locator("table.row-report")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == len(problems) == 2
    shown = [[cell.inner_text() for cell in rows.nth(i).locator("td").all()]
             for i in range(rows.count())]
    assert [(r[0], r[2]) for r in shown] == [(p["row"], p["problem"]) for p in problems]
    assert "Nothing was imported" in result.inner_text()
    assert len(all_features(service, "teams")) == before


# ---- analyses -----------------------------------------------------------------------------


def run_coverage_in_page(page, breaks="5,10"):
    section = planning(page).locator("#plan-areas")
    section.locator("[name=layer]").select_option("shelters")
    section.locator("[name=breaks]").fill(breaks)
    section.locator("#plan-run-coverage").click()
    # Long work shows progress on the status line while the job runs.
    page.locator("#status progress").wait_for(state="attached")
    page.locator("#plan-coverage-result[data-stale=false] svg.coverage-chart").wait_for(
        timeout=120_000)


def chart_numbers(page):
    return page.eval_on_selector_all(
        "#plan-coverage-result .coverage-chart g.bar",
        "bars => bars.map(b => [Number(b.dataset.break), b.querySelector('.bar-percent')"
        ".textContent, b.querySelector('.bar-people').textContent])")


def test_coverage_draws_the_chart_with_the_apis_numbers_and_the_uncovered_points(open_map,
                                                                                  service):
    page = open_map("planner")
    seen = []
    page.on("request", lambda r: seen.append(r.url) if r.url.endswith("/api/coverage") else None)
    run_coverage_in_page(page)
    result = run_job(service, "/api/coverage", {"layer": "shelters", "breaks": [5, 10],
                                                "unit": "min"})
    shown = chart_numbers(page)
    assert [s[0] for s in shown] == [300, 600]
    assert [s[1] for s in shown] == [f"{row['percent_covered']:.1f}%" for row in
                                     result["summary"]]
    assert [s[2] for s in shown] == [f"{row['covered']:,.0f} of {row['total']:,.0f} people"
                                     for row in result["summary"]]
    cells = page.locator("#plan-coverage-result table.coverage-table td.percent").all()
    assert [c.inner_text() for c in cells] == [s[1] for s in shown]
    uncovered = len(result["features"]["features"])
    assert uncovered > 0
    assert page.evaluate("Geo.map.hasLayer(Geo.results.uncovered)")
    assert page.evaluate("Geo.results.uncovered.getLayers().length") == uncovered
    assert len(seen) == 1  # one job, progress polled on the status line
    page.locator("#plan-coverage-result").scroll_into_view_if_needed()
    screenshot(page, "planner-coverage")
    # Another planner adds a shelter: the result shown says it is out of date.
    note = page.locator("#plan-coverage-result .changed-note")
    assert note.is_hidden()
    add_via_api(service, "shelters", {"name": "New after coverage", "shelter_class": "emergency",
                                      "capacity_people": 50})
    note.wait_for(state="visible", timeout=15_000)
    assert page_errors(page) == []


def test_service_areas_are_drawn_by_break_with_a_legend(open_map, service):
    page = open_map("viewer")
    section = planning(page).locator("#plan-areas")
    section.locator("[name=layer]").select_option("teams")
    section.locator("[name=breaks]").fill("3,6")
    section.locator("#plan-run-areas").click()
    page.locator("#plan-areas-result .areas-legend").wait_for(timeout=120_000)
    result = run_job(service, "/api/service-areas", {"layer": "teams", "breaks": [3, 6],
                                                     "unit": "min"})
    legend = page.locator("#plan-areas-result .areas-legend > div")
    assert [legend.nth(i).get_attribute("data-break") for i in range(legend.count())] == \
        ["180", "360"]
    assert page.evaluate("Geo.results['service-areas'].getLayers().length") == \
        len(result["features"]["features"])
    colours = page.evaluate("[...new Set(Geo.results['service-areas'].getLayers()"
                            ".map(l => l.options.color))].length")
    assert colours == 2
    # The filled shape, chosen in the form, is the API's filled one (fewer holes than the band)
    band_rings = _rings(result["features"]["features"])
    section.locator("[name=form]").select_option("filled")
    section.locator("#plan-run-areas").click()
    page.wait_for_function("() => Geo.results['service-areas'] && Geo.results['service-areas']"
                           ".toGeoJSON().features.length === 2 && " + _JS_RINGS + " !== "
                           + str(band_rings), timeout=120_000)
    filled = run_job(service, "/api/service-areas", {"layer": "teams", "breaks": [3, 6],
                                                     "unit": "min", "form": "filled"})
    assert page.evaluate(_JS_RINGS) == _rings(filled["features"]["features"]) != band_rings


_JS_RINGS = ("Geo.results['service-areas'].toGeoJSON().features.reduce((n, f) => n + "
             "(f.geometry.type === 'Polygon' ? f.geometry.coordinates.length : "
             "f.geometry.coordinates.reduce((m, p) => m + p.length, 0)), 0)")


def _rings(features) -> int:
    return sum(len(f["geometry"]["coordinates"]) if f["geometry"]["type"] == "Polygon"
               else sum(len(p) for p in f["geometry"]["coordinates"]) for f in features)


def draw_polygon(page, corners):
    """Draw a barrier area with the mouse through Leaflet.draw's polygon tool: a click per
    corner, then a click on the first corner closes it."""
    box = page.locator(".folium-map").bounding_box()
    page.click(".leaflet-draw-draw-polygon")
    draw_clicks(page, [(box["x"] + x, box["y"] + y) for x, y in corners],
                finish=(box["x"] + corners[0][0], box["y"] + corners[0][1]))


def test_a_barrier_drawn_over_roads_reduces_coverage_and_clearing_it_restores_it(open_map,
                                                                                service):
    page = open_map("planner")
    run_coverage_in_page(page)
    before = chart_numbers(page)
    base = run_job(service, "/api/coverage", {"layer": "shelters", "breaks": [5, 10],
                                              "unit": "min"})
    # The shelter reaching most people within 5 minutes: a closed area around it.
    busiest = max((f for f in base["facilities"] if f["break"] == 300),
                  key=lambda f: f["assigned"])["facility"]
    centre = page.evaluate("(id) => { const c = Geo.anchor(Geo.layers.shelters.byId.get(id));"
                           " Geo.map.setView(c, 16, {animate: false});"
                           " const p = Geo.map.latLngToContainerPoint(c); return [p.x, p.y]; }",
                           busiest)
    # The dispatcher's script listens for "barriers" (it reruns its dispatch on it).
    page.evaluate("window.barrierEvents = []; Geo.on('barriers', (fc) =>"
                  " window.barrierEvents.push(fc.features.length))")
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json)
            if r.url.endswith("/api/coverage") and r.method == "POST" else None)
    d = 110
    x, y = centre
    draw_polygon(page, [(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d)])
    assert page.locator("#plan-barrier-count").get_attribute("data-count") == "1"
    assert page.evaluate("Geo.barriers.features[0].geometry.type") == "Polygon"
    # Once drawn, the uncovered population's points take the pointer again (their popups).
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'.leaflet-overlay-pane canvas')).pointerEvents") == "auto"
    # The coverage shown reruns by itself with the barrier.
    page.locator("#plan-coverage-result .run-inputs", has_text="barrier").wait_for(
        timeout=120_000)
    page.locator("#plan-coverage-result[data-stale=false]").wait_for()
    after = chart_numbers(page)
    assert sent and sent[-1]["barriers"]["features"][0]["geometry"]["type"] == "Polygon"
    barriers = page.evaluate("Geo.barriers")
    with_barrier = run_job(service, "/api/coverage", {"layer": "shelters", "breaks": [5, 10],
                                                      "unit": "min", "barriers": barriers})
    assert [a[1] for a in after] == [f"{row['percent_covered']:.1f}%"
                                     for row in with_barrier["summary"]]
    assert with_barrier["summary"][0]["covered"] < base["summary"][0]["covered"]
    assert float(after[0][1].rstrip("%")) < float(before[0][1].rstrip("%"))
    screenshot(page, "planner-barrier")

    page.locator("#plan-clear-barriers").click()
    assert page.evaluate("Geo.barriers.features.length") == 0
    page.locator("#plan-coverage-result .run-inputs").filter(has_not_text="barrier").wait_for(
        timeout=120_000)
    page.locator("#plan-coverage-result[data-stale=false]").wait_for()
    assert chart_numbers(page) == before
    assert page.evaluate("window.barrierEvents") == [1, 0]
    assert page_errors(page) == []


def test_a_closed_bridge_is_drawn_as_a_line_barrier(open_map):
    page = open_map("dispatcher")  # barriers are for everyone who runs analyses
    box = page.locator(".folium-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.click(".leaflet-draw-draw-polyline")
    # The last point again finishes the line.
    draw_clicks(page, [(x + dx, y + dx / 4) for dx in (-80, 0, 80)], finish=(x + 80, y + 20))
    assert page.evaluate("Geo.barriers.features.map(f => f.geometry.type)") == ["LineString"]
    assert page.evaluate("Geo.barriers.features[0].geometry.coordinates.length") == 3
    planning(page)
    assert page.locator("#plan-barrier-count").get_attribute("data-count") == "1"
    page.locator("#plan-clear-barriers").click()
    assert page.evaluate("Geo.barriers.features.length") == 0
    assert page_errors(page) == []


def test_the_drawing_cursor_stays_under_the_pointer_while_clusters_regroup(open_map):
    page = open_map("planner")
    page.click(".leaflet-draw-draw-polygon")
    # Zooming in splits the shelters' clusters, which then animate every marker icon for 0.3 s.
    page.evaluate("() => new Promise((started) => { const pane = Geo.map.getPane('mapPane');"
                  " new MutationObserver((changes, watch) => {"
                  "   if (pane.classList.contains('leaflet-cluster-anim')) {"
                  "     watch.disconnect(); started(); } })"
                  " .observe(pane, {attributes: true}); Geo.map.zoomIn(1); })")
    box = page.locator(".folium-map").bounding_box()
    move_drawing_cursor(page, box["x"] + box["width"] / 2 - 90, box["y"] + box["height"] / 2 + 70)
    page.keyboard.press("Escape")
    assert page_errors(page) == []


def test_exposure_of_a_hazard_shows_the_apis_numbers_and_its_zone(open_map, service):
    answer = api(service, "viewer").post(f"{service.url}/api/exposure", json={})
    assert answer.status_code == 200
    result = answer.json()
    entry = max(result["hazards"], key=lambda h: (h["shelters_count"], h["population"]))
    page = open_map("viewer")
    section = planning(page).locator("#plan-exposure")
    section.locator("[name=hazard]").select_option(entry["hazard"])
    section.locator("button[type=submit]").click()
    table = section.locator(f"table.exposure-table[data-hazard='{entry['hazard']}']")
    table.wait_for()

    def cell(key):
        return table.locator(f"tr[data-key={key}] td").first.inner_text()

    assert cell("population") == f"{entry['population']:,.0f}"
    assert cell("shelters") == str(entry["shelters_count"])
    assert cell("depots") == str(entry["depots_count"])
    assert cell("teams") == str(entry["teams_count"])
    unsafe = [u for u in result["unsafe_shelters"] if u["hazard"] == entry["hazard"]]
    assert section.locator("table.unsafe-table tbody tr").count() == len(unsafe)
    assert page.evaluate("Geo.map.hasLayer(Geo.results.exposure)")
    assert page.evaluate("Geo.results.exposure.getLayers().length") >= 1
    assert page_errors(page) == []


# ---- roles --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "dispatcher"])
def test_who_may_not_edit_sees_no_edit_or_import_controls(open_map, service, role):
    shelter = all_features(service, "shelters")[0]
    page = open_map(role)
    tab = planning(page)
    assert tab.locator("#plan-areas").is_visible()  # analyses are for everyone who reads
    assert tab.locator("#plan-exposure").is_visible()
    assert tab.locator("#plan-add-shelters").count() == 0
    assert tab.locator("#plan-import").count() == 0
    open_record(page, "shelters", shelter["id"])
    actions = page.locator("#tab-record .actions")
    assert actions.locator(".plan-edit, .plan-move, .plan-delete").count() == 0
    assert page_errors(page) == []


def test_a_planner_sees_the_edit_and_import_controls(open_map, service):
    page = open_map("planner")
    tab = planning(page)
    for layer in ("shelters", "depots", "teams", "hazards"):
        assert tab.locator(f"#plan-add-{layer}").is_visible()
    assert tab.locator("#plan-import").is_visible()
