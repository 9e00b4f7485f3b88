"""The map page in Chromium: it loads with no console error and no request outside the service,
every layer is drawn as the API gives it, the basemap comes from the app, signing in and out,
the first sign-in's password change, and the language switch (remembered)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PASSWORD, screenshot, wait_for_map

LAYERS = ("shelters", "depots", "teams", "hazards", "incidents", "population")


def _api_count(service, layer: str) -> int:
    answer = service.session("viewer").get(f"{service.url}/collections/{layer}/items",
                                           params={"limit": 1})
    answer.raise_for_status()
    return answer.json()["numberMatched"]


def test_the_map_loads_with_no_error_and_no_request_outside_the_service(open_map):
    page = open_map("viewer")
    page.wait_for_timeout(1500)  # tiles, place names, a first poll
    assert page.errors == []
    assert page.outside == []
    assert page.evaluate("Geo.session.role") == "viewer"
    screenshot(page, "map-viewer")


def test_every_layer_is_drawn_as_the_api_gives_it(open_map, service):
    page = open_map("viewer")
    for layer in LAYERS:
        shown = page.evaluate(f"Geo.layers['{layer}'].features.length")
        assert shown == _api_count(service, layer), layer
    # Drawn, not only fetched: a marker per team, a zone per hazard, heat for population,
    # shelters as circles inside clusters.
    teams = page.locator(".team-icon")
    assert teams.count() == _api_count(service, "teams")
    assert page.evaluate("Geo.layers.hazards.group.getLayers().length") == \
        _api_count(service, "hazards")
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    clustered = page.evaluate("Geo.layers.shelters.group.getLayers().length")
    assert clustered == _api_count(service, "shelters")
    assert page.locator(".marker-cluster").count() > 0
    assert page.locator("#legend").is_visible()


def test_a_team_popup_shows_its_fields_in_words(open_map, service):
    page = open_map("viewer")
    team = service.session("viewer").get(f"{service.url}/collections/teams/items",
                                         params={"limit": 1}).json()["features"][0]
    page.evaluate(f"Geo.map.setView(Geo.anchor(Geo.layers.teams.byId.get('{team['id']}')), 18,"
                  " {animate: false})")
    page.locator(f".team-icon[data-team='{team['id']}']").click()
    popup = page.locator(".leaflet-popup-content .popup")
    popup.wait_for()
    assert popup.locator(".popup-name").inner_text() == team["properties"]["name"]
    assert "headcount" in popup.inner_text()
    popup.get_by_role("button", name="Details").click()
    record = page.locator("#tab-record")
    assert record.is_visible()
    assert record.locator("td[data-field=headcount]").inner_text() == \
        str(team["properties"]["headcount"])


def test_the_basemap_is_drawn_by_the_service(open_map, service):
    page = open_map("viewer")
    page.wait_for_function("document.querySelectorAll('img.leaflet-tile-loaded').length > 0")
    sources = page.eval_on_selector_all("img.leaflet-tile-loaded", "els => els.map(e => e.src)")
    assert sources and all(s.startswith(service.url + "/ui/tiles/") for s in sources)
    sizes = page.eval_on_selector_all("img.leaflet-tile-loaded",
                                      "els => els.map(e => e.naturalWidth)")
    assert set(sizes) == {256}
    labels = page.locator(".place-label").all_inner_texts()
    assert "Vaduz" in labels


def test_a_wrong_password_is_said_next_to_the_field_and_signs_nobody_in(new_page, service):
    page = new_page()
    page.goto(service.url + "/login")
    page.fill("#login-form input[name=name]", service.users["viewer"])
    page.fill("#login-form input[name=password]", "not the password")
    page.click("#login-form button[type=submit]")
    message = page.locator("#login-form [data-error-for=password]")
    message.wait_for(state="visible")
    assert "wrong user name or password" in message.inner_text().lower()
    page.goto(service.url + "/")
    assert "/login" in page.url


def test_sign_out_returns_to_the_sign_in_page(open_map, service):
    page = open_map("dispatcher")
    page.click("#logout")
    page.wait_for_url("**/login**")
    page.goto(service.url + "/")
    assert "/login" in page.url  # the session is gone


def test_a_first_sign_in_with_a_one_time_password_asks_for_a_new_one(new_page, service):
    one_time = "one-time password 1"
    with service.registry() as registry:
        registry.add_user("newcomer", "planner", one_time, must_change_password=True)
    page = new_page()
    page.goto(service.url + "/login")
    page.fill("#login-form input[name=name]", "newcomer")
    page.fill("#login-form input[name=password]", one_time)
    page.click("#login-form button[type=submit]")
    form = page.locator("#password-form")
    form.wait_for(state="visible")
    form.locator("input[name=current]").fill(one_time)
    form.locator("input[name=new]").fill("short")
    form.locator("button[type=submit]").click()
    too_short = form.locator("[data-error-for=new]")
    too_short.wait_for(state="visible")
    assert too_short.inner_text()  # the server's message, next to the field
    form.locator("input[name=new]").fill(PASSWORD + " new")
    form.locator("button[type=submit]").click()
    wait_for_map(page)
    assert page.evaluate("Geo.session.user") == "newcomer"
    # The refused short password is a logged 422; nothing else went wrong.
    assert [e for e in page.errors if not e.startswith("Failed to load resource")] == []


def test_the_language_switches_and_is_remembered(open_map, service):
    page = open_map("dispatcher")
    assert page.locator("#panel .tabs [data-tab=dispatch]").inner_text() == "Dispatch"
    page.click("#topbar .languages [data-lang=zh]")
    wait_for_map(page)
    assert page.locator("#panel .tabs [data-tab=dispatch]").inner_text() == "调度"
    legend = page.locator("#legend").inner_text()
    assert "可用" in legend and "避难场所" in legend  # vocabulary and labels
    page.goto(service.url + "/")  # no ?lang: the cookie remembers
    wait_for_map(page)
    assert page.locator("#panel .tabs [data-tab=incidents]").inner_text() == "事件"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    # The server's problems, said in Chinese with the value kept (the page's own patterns).
    assert page.evaluate("Geo.translateProblem('-5 is negative (must be ≥ 0)')") == \
        "-5 为负数（须 ≥ 0）"
    screenshot(page, "map-zh")
    page.goto(service.url + "/?lang=en")
    wait_for_map(page)
    assert page.locator("#panel .tabs [data-tab=dispatch]").inner_text() == "Dispatch"
    assert page.errors == []


@pytest.mark.parametrize("role", ["viewer", "dispatcher", "planner"])
def test_roles_see_who_they_are(open_map, role):
    page = open_map(role)
    assert f"{role}-user" in page.locator("#user-box").inner_text()
