"""The dispatcher's flow in Chromium against the real service: a map click dispatches at once and
shows the teams, ETAs and routes the API gives for that point (checked with ``requests``, an
independent client of the same service); the needs in the form re-run it; typed coordinates go
through the service's conversion (GCJ-02 is WGS84 in Liechtenstein, outside China; a Beijing
point copied from a Chinese map is converted); an assignment shows in a second dispatcher's
browser within seconds, and the second dispatcher trying the same team is told who has it;
release, close, and moving a team by dragging its marker, each checked through the API."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD, screenshot

TRIESEN = (9.5275, 47.1052)  # a street in Triesen, clear of markers at zoom 16
SCHAAN = (9.5090, 47.1690)  # a street in Schaan
# coordtransform's published pair (wandergis/coordtransform, README): WGS84 (116.404, 39.915)
# is GCJ-02 (116.41024449916938, 39.91640428150164).
BEIJING_GCJ02 = (116.41024449916938, 39.91640428150164)
BEIJING_WGS84 = (116.404, 39.915)
SEEN_WITHIN_MS = 10_000  # the page polls every 2 s
CONFLICT = re.compile(r"status of 409")  # the browser logs a 409 answer as a console error


def _done(page) -> int:
    return page.evaluate("Number(document.body.dataset.dispatchDone || 0)")


def _wait_dispatch(page, before: int) -> None:
    # Generous: a loaded CI machine runs the service, Chromium and the suite on two cores.
    page.wait_for_function(f"() => Number(document.body.dataset.dispatchDone || 0) > {before}",
                           timeout=90_000)


def click_map(page, lon: float, lat: float, zoom: int = 16) -> None:
    """Click the map at (lon, lat) as a user would, and wait for the dispatch answer drawn. The
    page is first brought up to date with the registry (what its 2 s poll would do), so that a
    marker another test added is on the map before the point is checked to be free of one."""
    page.evaluate("""async () => {
      const answer = await Geo.api("GET", "/api/revisions");
      for (const name of Geo.LAYERS) {
        if (answer.revisions[name] !== Geo.layers[name].revision) {
          Geo.layers[name].revision = answer.revisions[name];
          await Geo.loadLayer(name);
        }
      }
    }""")
    # The point, or the nearest pixel around it at least 22 px from every record's marker (an
    # incident an earlier test recorded there, say): a click on a marker opens its popup. Found
    # from the records rather than from what is on screen this instant, which a redraw changes.
    where = page.evaluate("""([lon, lat, zoom]) => {
      Geo.map.setView([lat, lon], zoom, {animate: false});
      const p = Geo.map.latLngToContainerPoint([lat, lon]);
      const marks = [];
      for (const name of ["shelters", "depots", "teams", "incidents"]) {
        for (const f of Geo.layers[name].features) {
          if (f.geometry) marks.push(Geo.map.latLngToContainerPoint(Geo.anchor(f)));
        }
      }
      if (Dispatch.at) marks.push(Geo.map.latLngToContainerPoint([Dispatch.at[1], Dispatch.at[0]]));
      const box = Geo.map.getContainer().getBoundingClientRect();
      for (const [dx, dy] of [[0, 0], [30, 0], [0, 30], [-30, 0], [0, -30], [30, 30],
                              [-30, -30], [60, 0], [0, 60], [-60, 0], [0, -60]]) {
        const q = L.point(p.x + dx, p.y + dy);
        if (marks.every((m) => m.distanceTo(q) >= 22)) {
          return {x: box.left + q.x, y: box.top + q.y, free: true};
        }
      }
      return {free: false};
    }""", [lon, lat, zoom])
    assert where["free"], "every pixel near the test point is under a marker: choose another"
    before = _done(page)
    clicks = page.evaluate("performance.getEntriesByName('dispatch-click').length")
    page.mouse.click(where["x"], where["y"])
    # The map took the click (else the wait below would only time out, saying less).
    try:
        page.wait_for_function(f"() => performance.getEntriesByName('dispatch-click').length > "
                               f"{clicks}", timeout=15_000)
    except Exception:
        info = page.evaluate("""([x, y]) => {const h = document.elementFromPoint(x, y);
          return {hit: h && h.outerHTML.slice(0, 200), center: Geo.map.getCenter(),
                  zoom: Geo.map.getZoom(), mode: Geo.clickMode && Geo.clickMode.name,
                  popup: Boolean(document.querySelector('.leaflet-popup'))};}""",
                             [where["x"], where["y"]])
        raise AssertionError(f"the click did not reach the map: {info}") from None
    _wait_dispatch(page, before)


def form_point(page) -> list[float]:
    return [float(page.input_value("#dispatch-lon")), float(page.input_value("#dispatch-lat"))]


def shown_teams(page) -> list[dict]:
    return page.eval_on_selector_all("#dispatch-results tr.team-row", """rows => rows.map(r => ({
      id: r.dataset.team, rank: r.querySelector('.rank').textContent,
      eta: r.querySelector('.eta').textContent, distance: r.querySelector('.distance').textContent,
      assign: Boolean(r.querySelector('button.assign'))}))""")


def api_dispatch(service, role: str, **body) -> dict:
    answer = service.session(role).post(service.url + "/api/dispatch", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def km(metres: float) -> str:
    return f"{metres / 1000:.2f} km"


def team_status(service, team_id: str) -> str:
    answer = service.session("viewer").get(f"{service.url}/collections/teams/items/{team_id}")
    return answer.json()["properties"]["status"]


def test_a_click_shows_the_teams_etas_and_routes_the_api_gives(open_map, service):
    page = open_map("dispatcher")
    click_map(page, *TRIESEN)
    at = form_point(page)
    assert at == pytest.approx(TRIESEN, abs=1e-4)  # where the click landed, to a pixel or two
    assert page.evaluate("Dispatch.at") == at

    expected = api_dispatch(service, "viewer", at=at, k=3, team_types=[], items={}, shelters=3)
    shown = shown_teams(page)
    assert [t["id"] for t in shown] == [t["id"] for t in expected["teams"]]
    assert len(shown) == 3
    assert [t["rank"] for t in shown] == ["1", "2", "3"]
    assert [t["eta"] for t in shown] == [minutes(t["eta_s"]) for t in expected["teams"]]
    assert [t["distance"] for t in shown] == [km(t["distance_m"]) for t in expected["teams"]]
    assert all(t["assign"] for t in shown)
    # A route per team on the map, drawn from the answer's own line.
    assert page.locator("path.route-team").count() == len(expected["teams"])
    drawn = page.evaluate("""Object.entries(Dispatch.routes).filter(([k]) => k.startsWith('team|'))
      .map(([k, g]) => [k.slice(5), g.getLayers()[0].getLatLngs().length])""")
    assert dict(drawn) == {
        t["id"]: len(t["route"]["coordinates"]) for t in expected["teams"]}
    assert page.evaluate("Boolean(Geo.results.routes && Geo.map.hasLayer(Geo.results.routes))")
    # Shelters with room, as the API lists them.
    shelters = page.eval_on_selector_all("#dispatch-results tr.shelter-row",
                                         "rows => rows.map(r => r.dataset.shelter)")
    assert shelters == [s["id"] for s in expected["shelters"]]
    # The benchmark's marks.
    marks = page.evaluate("['dispatch-click', 'teams-drawn'].map(n => "
                          "performance.getEntriesByName(n).length)")
    assert marks == [1, 1]
    # Hovering a team's row highlights its route.
    first = shown[0]["id"]
    page.hover(f"tr.team-row[data-team='{first}']")
    assert page.evaluate(f"Dispatch.routes['team|{first}'].getLayers()[0].options.weight") == 8
    screenshot(page, "dispatch-click")
    assert page.errors == []
    assert page.outside == []


def test_the_needs_in_the_form_rerun_the_dispatch(open_map, service):
    page = open_map("dispatcher")
    click_map(page, *SCHAAN)
    at = form_point(page)
    before = _done(page)
    page.select_option("#dispatch-needs select[name=need-type]", "fire")
    _wait_dispatch(page, before)
    rows = page.locator("#dispatch-needs .need-row")
    before = _done(page)
    rows.nth(0).locator("input").fill("1")
    _wait_dispatch(page, before)
    page.click("#dispatch-add-team")
    before = _done(page)
    rows.nth(1).locator("select").select_option("medical")
    _wait_dispatch(page, before)
    before = _done(page)
    rows.nth(1).locator("input").fill("2")
    _wait_dispatch(page, before)
    page.click("#dispatch-add-supply")
    page.select_option("#dispatch-supplies select", "water")
    before = _done(page)
    page.fill("#dispatch-supplies input", "5000")
    _wait_dispatch(page, before)
    page.wait_for_timeout(600)  # a debounced re-run, if typing started one more
    page.wait_for_function("() => !document.querySelector('#dispatch-results.loading')")

    # k = the largest count, team_types = those chosen.
    expected = api_dispatch(service, "viewer", at=at, k=2, team_types=["fire", "medical"],
                            items={"water": 5000}, shelters=3)
    shown = shown_teams(page)
    by_type = page.eval_on_selector_all("#dispatch-results table.teams",
                                        "ts => ts.map(t => t.dataset.type)")
    assert by_type == ["fire", "medical"]
    expected_order = [t["id"] for kind in ("fire", "medical")
                      for t in expected["teams"] if t["type"] == kind]
    assert [t["id"] for t in shown] == expected_order
    assert len(shown) == 4
    # The supplies split per depot, as the API allocates them.
    split = page.eval_on_selector_all("#dispatch-results tr.depot-row",
                                      "rows => rows.map(r => [r.dataset.depot, r.innerText])")
    allocation = expected["supplies"]["allocation"]
    assert [d for d, _ in split] == [d["id"] for d in expected["supplies"]["depots"]
                                     if any(a["depot"] == d["id"] for a in allocation)]
    for depot, text in split:
        for part in (a for a in allocation if a["depot"] == depot):
            assert f"drinking water: {part['quantity']:,.0f} L" in text
    assert sum(a["quantity"] for a in allocation) == 5000
    assert page.errors == []


def test_gcj02_coordinates_in_liechtenstein_are_wgs84(open_map, service):
    page = open_map("dispatcher")
    lon, lat = TRIESEN
    page.fill("#dispatch-lon", str(lon))
    page.fill("#dispatch-lat", str(lat))
    page.select_option("#dispatch-crs", "gcj02")
    before = _done(page)
    page.click("#dispatch-locate")
    _wait_dispatch(page, before)
    # Outside China GCJ-02 equals WGS84: the incident is exactly where typed.
    assert page.evaluate("Dispatch.at") == [lon, lat]
    assert page.evaluate("[Dispatch.marker.getLatLng().lng, Dispatch.marker.getLatLng().lat]") \
        == [lon, lat]
    expected = api_dispatch(service, "viewer", at=[lon, lat], k=3, shelters=3)
    assert [t["id"] for t in shown_teams(page)] == [t["id"] for t in expected["teams"]]
    # BD-09 has a shift of its own everywhere: the page takes the service's answer.
    page.select_option("#dispatch-crs", "bd09")
    before = _done(page)
    page.click("#dispatch-locate")
    _wait_dispatch(page, before)
    converted = service.session("viewer").get(service.url + "/api/coordinates", params={
        "lon": lon, "lat": lat, "crs": "bd09"}).json()
    assert page.evaluate("Dispatch.at") == pytest.approx([converted["lon"], converted["lat"]],
                                                         abs=1e-7)
    assert abs(converted["lon"] - lon) > 0.003
    assert page.errors == []


def test_a_point_copied_from_a_chinese_map_is_converted_and_an_unusable_one_said(open_map):
    page = open_map("dispatcher")
    page.fill("#dispatch-lon", repr(BEIJING_GCJ02[0]))
    page.fill("#dispatch-lat", repr(BEIJING_GCJ02[1]))
    page.select_option("#dispatch-crs", "gcj02")
    before = _done(page)
    page.click("#dispatch-locate")
    _wait_dispatch(page, before)
    assert page.evaluate("Dispatch.at") == pytest.approx(list(BEIJING_WGS84), abs=1e-7)
    assert "WGS84 116.404000, 39.915000" in page.inner_text("#dispatch-message")
    # Beijing is not on this registry's roads: the service says so, the page shows it.
    error = page.locator("#dispatch-form .form-error[data-error-for=at]")
    assert "outside the network's extent" in error.inner_text()
    assert page.locator("#dispatch-results tr.team-row").count() == 0
    # A latitude out of range is refused next to its field.
    page.fill("#dispatch-lat", "95")
    page.click("#dispatch-locate")
    lat_error = page.locator("#dispatch-form [data-error-for=lat]")
    lat_error.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-error-for=lat]').textContent !== ''")
    assert "lat" in lat_error.inner_text() and "90" in lat_error.inner_text()
    assert page.get_attribute("#dispatch-lat", "aria-invalid") == "true"
    # Only the refused requests, logged by the browser as failed loads.
    assert all(re.search(r"status of (400|422)", e) for e in page.errors), page.errors


def test_an_assignment_shows_in_a_second_browser_and_the_loser_is_told_who_has_the_team(
        open_map, service):
    with service.registry() as registry:
        registry.add_user("second-dispatcher", "dispatcher", PASSWORD)
    service.users["second-dispatcher"] = "second-dispatcher"
    first = open_map("dispatcher")
    second = open_map("second-dispatcher")
    for page in (first, second):
        click_map(page, *TRIESEN)
    team = shown_teams(first)[0]["id"]
    assert team in [t["id"] for t in shown_teams(second)]
    first.fill("#dispatch-name", "barn fire")
    first.click(f"#dispatch-results button.assign[data-team='{team}']")
    first.wait_for_selector("#dispatch-message.ok")
    incident = first.evaluate("Dispatch.incidentId")
    assert incident and incident in first.inner_text("#dispatch-message")
    # Stored: the incident with the form's fields, the team assigned to it.
    http = service.session("viewer")
    record = http.get(f"{service.url}/collections/incidents/items/{incident}").json()
    assert record["properties"]["name"] == "barn fire"
    assert record["properties"]["status"] == "dispatched"
    assert record["geometry"]["coordinates"] == first.evaluate("Dispatch.at")
    assert team_status(service, team) == "assigned"
    # The first dispatcher's map at once, the second's by its polling, without a reload.
    first.wait_for_selector(f".team-icon[data-team='{team}'][data-status=assigned]",
                            state="attached", timeout=5_000)
    second.wait_for_selector(f".team-icon[data-team='{team}'][data-status=assigned]",
                             state="attached", timeout=SEEN_WITHIN_MS)
    first.wait_for_function(  # re-ranked without the team
        f"() => !document.querySelector(\"tr.team-row[data-team='{team}']\")")
    # The second dispatcher still has the team listed (marked taken) and tries it.
    row = second.locator(f"tr.team-row[data-team='{team}']")
    assert "assigned" in row.inner_text()
    second.click(f"#dispatch-results button.assign[data-team='{team}']")
    second.wait_for_selector("#dispatch-message.conflict")
    told = second.inner_text("#dispatch-message")
    assert f"already assigned to incident {incident} by dispatcher-user at" in told
    assert re.search(r"\d\d:\d\d", told)
    screenshot(second, "dispatch-conflict")
    # And the list is refreshed: the team is gone from it, the next one offered.
    second.wait_for_function(f"() => !document.querySelector(\"tr.team-row[data-team='{team}']\")")
    assert team_status(service, team) == "assigned"
    assert first.errors == []
    assert [e for e in second.errors if not CONFLICT.search(e)] == []

    # Release from the Incidents tab: stored, and seen by the other browser.
    first.click("[data-tab=incidents]")
    item = first.locator(f"#tab-incidents li.incident[data-incident='{incident}']")
    assert "barn fire" in item.inner_text()
    assert "dispatched" in item.inner_text()
    item.locator(f"li[data-team='{team}'] button.release").click()
    second.wait_for_selector(f".team-icon[data-team='{team}'][data-status=available]",
                             state="attached", timeout=SEEN_WITHIN_MS)
    assert team_status(service, team) == "available"


def test_closing_an_incident_releases_its_teams_and_closes_it(open_map, service):
    page = open_map("dispatcher")
    click_map(page, *SCHAAN)
    team = shown_teams(page)[0]["id"]
    page.click(f"#dispatch-results button.assign[data-team='{team}']")
    page.wait_for_selector("#dispatch-message.ok")
    incident = page.evaluate("Dispatch.incidentId")
    page.click("[data-tab=incidents]")
    item = page.locator(f"#tab-incidents li.incident[data-incident='{incident}']")
    item.locator("button.close-incident").click()
    page.wait_for_function(f"""() => Geo.layers.incidents.byId.get('{incident}') &&
      Geo.layers.incidents.byId.get('{incident}').properties.status === 'closed'""")
    record = service.session("viewer").get(
        f"{service.url}/collections/incidents/items/{incident}").json()
    assert record["properties"]["status"] == "closed"
    assert team_status(service, team) == "available"
    # Closed incidents leave the list unless asked for.
    assert page.locator(f"li.incident[data-incident='{incident}']").count() == 0
    page.check("#incidents-closed")
    assert page.locator(f"li.incident[data-incident='{incident}']").count() == 1
    assert page.errors == []


def _team_marker_centre(page, team: str) -> tuple[float, float]:
    page.evaluate(f"Geo.map.setView(Geo.anchor(Geo.layers.teams.byId.get('{team}')), 17, "
                  "{animate: false})")
    box = page.locator(f".team-icon[data-team='{team}']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drag(page, x: float, y: float, dx: float, dy: float) -> None:
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()


def _dispatcher_map(open_map, service):
    """The dispatcher's map, a viewer's API session and the first available teams."""
    page = open_map("dispatcher")
    http = service.session("viewer")
    teams = http.get(f"{service.url}/collections/teams/items",
                     params={"status": "available", "limit": 5}).json()["features"]
    return page, http, teams


def _wait_until_moved(page, team: dict) -> None:
    """Until the map holds ``team`` (a feature as it was) somewhere else."""
    page.wait_for_function(f"""() => Geo.layers.teams.byId.get('{team["id"]}')
      .geometry.coordinates[0] !== {team['geometry']['coordinates'][0]}""", timeout=10_000)


def test_a_layer_refreshed_during_a_drag_does_not_drop_the_team(open_map, service):
    # The map refetches teams when they change (another user's edit, or this dispatcher's
    # previous move, polled every 2 s): if that lands while a team is dragged, the drag goes on.
    page, http, teams = _dispatcher_map(open_map, service)
    team = teams[2]["id"]
    x, y = _team_marker_centre(page, team)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 20, steps=5)
    page.evaluate("Geo.loadLayer('teams')")
    page.mouse.move(x + 70, y + 30, steps=5)
    page.mouse.up()
    _wait_until_moved(page, teams[2])
    stored = http.get(f"{service.url}/collections/teams/items/{team}").json()
    assert stored["geometry"]["coordinates"] != teams[2]["geometry"]["coordinates"]
    assert "moved" in page.inner_text("#status")
    assert page.errors == []


def test_dragging_a_team_moves_it_and_a_refused_move_snaps_back(open_map, service):
    page, http, teams = _dispatcher_map(open_map, service)
    team = teams[0]["id"]
    x, y = _team_marker_centre(page, team)
    dropped = page.evaluate("""([x, y]) => {
      const box = Geo.map.getContainer().getBoundingClientRect();
      const ll = Geo.map.containerPointToLatLng([x - box.left, y - box.top]);
      return [ll.lng, ll.lat];
    }""", [x + 80, y + 40])
    _drag(page, x, y, 80, 40)
    _wait_until_moved(page, teams[0])
    stored = http.get(f"{service.url}/collections/teams/items/{team}").json()
    # Where it was dropped (Leaflet's drag keeps the marker's offset to the pointer: a pixel).
    assert stored["geometry"]["coordinates"] == pytest.approx(dropped, abs=3e-5)
    assert stored["geometry"]["coordinates"] != teams[0]["geometry"]["coordinates"]
    assert "moved" in page.inner_text("#status")
    assert page.errors == []

    # A move the service refuses: the error is shown, the marker goes back where it is stored.
    other = teams[1]["id"]
    before = teams[1]["geometry"]["coordinates"]
    page.route("**/api/teams/*/position", lambda route: route.fulfill(
        status=409, content_type="application/json",
        body='{"error": {"code": "conflict", "message": "team: refused by the test", '
             '"field": null}}'))
    x, y = _team_marker_centre(page, other)
    _drag(page, x, y, 60, 0)
    page.wait_for_selector("#status.error")
    assert "refused by the test" in page.inner_text("#status")
    page.wait_for_function(f"""() => {{
      const m = Geo.layers.teams.group.getLayers().find(l => l.feature.id === '{other}');
      return m && Math.abs(m.getLatLng().lng - {before[0]}) < 1e-9;
    }}""")
    stored = http.get(f"{service.url}/collections/teams/items/{other}").json()
    assert stored["geometry"]["coordinates"] == before
    assert [e for e in page.errors if not CONFLICT.search(e)] == []


def test_the_team_record_changes_status_and_releases(open_map, service):
    page = open_map("dispatcher")
    http = service.session("viewer")
    team = http.get(f"{service.url}/collections/teams/items",
                    params={"status": "available", "limit": 1}).json()["features"][0]["id"]
    page.evaluate(f"Geo.showRecord('teams', Geo.layers.teams.byId.get('{team}'))")
    page.select_option("#tab-record select[name=team-status]", "en_route")
    page.click("#tab-record button.set-status")
    page.wait_for_selector("#tab-record button.release")  # the record redrawn: busy now
    assert team_status(service, team) == "en_route"
    page.click("#tab-record button.release")
    page.wait_for_function(f"() => Geo.layers.teams.byId.get('{team}').properties.status "
                           "=== 'available'")
    assert team_status(service, team) == "available"
    assert page.errors == []


def test_a_viewer_sees_the_teams_but_cannot_assign(open_map):
    page = open_map("viewer")
    click_map(page, *TRIESEN)
    shown = shown_teams(page)
    assert shown and not any(t["assign"] for t in shown)
    assert page.errors == []


def test_typed_names_in_the_dispatch_answer_stay_text(open_map, service):
    """A team named with markup: listed and shown on its route's tooltip as the text it is."""
    payload = '<img src=x onerror="window.pwned=1">'
    lon, lat = TRIESEN
    made = service.session("planner").post(f"{service.url}/collections/teams/items", json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + 0.003, lat]},
        "properties": {"name": payload, "type": "hazmat", "headcount": 4}})
    assert made.status_code == 201, made.text
    team = made.json()["id"]
    page = open_map("dispatcher")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.evaluate("() => Geo.loadLayer('teams')")
    click_map(page, *TRIESEN)
    before = _done(page)
    page.select_option("#dispatch-needs select[name=need-type]", "hazmat")
    _wait_dispatch(page, before)
    row = page.locator(f"tr.team-row[data-team='{team}']")
    assert row.locator("td.name > div").first.inner_text() == payload
    page.evaluate(f"""() => {{
      const route = Dispatch.routes['team|{team}'];
      route.openTooltip(route.getLayers()[0].getLatLngs()[0]);
    }}""")
    assert page.locator(".leaflet-tooltip").inner_text() == payload
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("() => window.pwned") is None
    assert dialogs == []
    assert page.errors == []
    # Leave the registry as the other tests found it.
    http = service.session("planner")
    tag = http.get(f"{service.url}/collections/teams/items/{team}").headers["ETag"]
    assert http.delete(f"{service.url}/collections/teams/items/{team}",
                       headers={"If-Match": tag}).status_code == 204


def test_barriers_drawn_by_the_planner_rerun_the_dispatch_and_cut_off_teams_are_said(
        open_map, service):
    page = open_map("dispatcher")
    click_map(page, *TRIESEN)
    lon, lat = at = form_point(page)
    d = 0.002  # a closed area of about 300 m × 450 m around the incident
    barriers = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d],
            [lon - d, lat - d]]]}}]}
    before = _done(page)
    with page.expect_request("**/api/dispatch") as sent:
        page.evaluate("(fc) => { Geo.barriers = fc; Geo.emit('barriers', fc); }", barriers)
    _wait_dispatch(page, before)
    assert sent.value.post_data_json["barriers"] == barriers
    expected = api_dispatch(service, "viewer", at=at, k=3, team_types=[], items={}, shelters=3,
                            barriers=barriers)
    assert expected["teams"] == [] and expected["unreachable_teams"]  # the premise
    assert page.locator("#dispatch-results tr.team-row").count() == 0
    assert page.locator("path.route-team").count() == 0
    results = page.inner_text("#dispatch-results")
    assert expected["note"] in results
    assert "No available team can reach the incident." in results
    unreachable = page.eval_on_selector_all("[data-testid=unreachable-teams] li",
                                            "items => items.map(i => i.dataset.team)")
    assert unreachable == [t["id"] for t in expected["unreachable_teams"]]
    assert "every way is blocked by hazards or barriers" in page.inner_text(
        "[data-testid=unreachable-teams]")
    # Barriers cleared: the teams are back.
    before = _done(page)
    page.evaluate("() => { Geo.barriers = {type: 'FeatureCollection', features: []};"
                  " Geo.emit('barriers', Geo.barriers); }")
    _wait_dispatch(page, before)
    assert page.locator("#dispatch-results tr.team-row").count() == 3
    assert page.errors == []


FOREST = (9.5444, 47.1594)  # in the forest above Schaan, about 1.5 km from a road


def test_an_incident_far_from_roads_is_said_once_with_its_distance(open_map, service):
    page = open_map("dispatcher")
    click_map(page, *FOREST, zoom=14)
    at = form_point(page)
    expected = api_dispatch(service, "viewer", at=at, k=3, team_types=[], items={}, shelters=3)
    assert expected["incident_status"] == "far" and expected["teams"] == []  # the premise
    results = page.inner_text("#dispatch-results")
    metres = round(expected["incident_snap_m"])
    assert f"No route can be given: the incident is {metres} m from the nearest road" in results
    assert results.count(f"{metres} m") == 1  # said once, not again by the server's note
    assert page.locator("#dispatch-results tr.team-row").count() == 0
