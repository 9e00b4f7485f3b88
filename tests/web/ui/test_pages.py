"""The UI's pages and files, through Flask's test client: the map for browsers at ``/`` (the OGC
landing page for JSON clients), sign-in, the language remembered, every asset served by the app
(none from elsewhere), scripts allowed only with the page's nonce, the basemap tiles."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD
from web.ui import assets

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def signed_in(client, registry):
    registry.add_user("mapper", "dispatcher", PASSWORD)
    token = client.get("/api/session").json["csrf_token"]
    answer = client.post("/api/session", json={"name": "mapper", "password": PASSWORD},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 200
    return client


def test_a_browser_signed_out_is_sent_to_sign_in(client):
    answer = client.get("/", headers=HTML)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    page = client.get("/login")
    assert page.status_code == 200 and 'id="login-form"' in page.text


def test_api_clients_still_get_the_ogc_landing_page_at_the_root(client):
    for headers, query in (({"Accept": "application/json"}, ""), ({}, ""), (HTML, "?f=json")):
        answer = client.get("/" + query, headers=headers)
        assert answer.status_code == 200 and answer.is_json, (headers, query)
        assert any(link["rel"] == "data" for link in answer.json["links"])


def test_the_map_page_loads_only_from_the_service(signed_in):
    answer = signed_in.get("/", headers=HTML)
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.text
    loaded = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', page)
    assert loaded, "the page links its assets"
    assert [url for url in loaded if not url.startswith("/")] == []
    for url in loaded:  # each served by the app
        served = signed_in.get(url)
        served.close()
        assert served.status_code == 200, url
    # folium's CDN addresses are gone; the online tiles are a template the user may choose.
    assert re.findall(r"https?://(?!tile\.openstreetmap\.org/\{z\}|www\.openstreetmap\.org/)"
                      r"[\w.-]+", page) == []


def test_only_the_pages_own_scripts_may_run(signed_in):
    answer = signed_in.get("/", headers=HTML)
    policy = answer.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([\w-]+)'", policy).group(1)
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    scripts = re.findall(r"<script([^>]*)>", answer.text)
    assert scripts and all(f'nonce="{nonce}"' in attrs for attrs in scripts)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    other = signed_in.get("/", headers=HTML).headers["Content-Security-Policy"]
    assert other != policy  # a nonce per page


def test_the_language_is_chosen_and_remembered(signed_in):
    chinese = signed_in.get("/?lang=zh", headers=HTML)
    assert '<html lang="zh-CN">' in chinese.text and "应急资源规划" in chinese.text
    assert "lang=zh" in chinese.headers["Set-Cookie"]
    again = signed_in.get("/", headers=HTML)  # no ?lang: the cookie
    assert "应急资源规划" in again.text
    english = signed_in.get("/login?lang=en")
    assert "Emergency resource planning" in english.text


def test_the_browsers_language_is_the_default(client):
    answer = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "应急资源规划" in answer.text
    assert "Emergency resource planning" in client.get(
        "/login", headers={"Accept-Language": "de-CH"}).text


def test_only_the_libraries_dist_files_are_served(client):
    served = client.get("/ui/assets/leaflet/dist/leaflet.js")
    served.close()
    assert served.status_code == 200
    for path in ("leaflet/package.json", "leaflet/dist/../package.json", "other/dist/x.js",
                 "leaflet/src/Leaflet.js"):
        assert client.get("/ui/assets/" + path).status_code == 404, path


def test_the_licences_page_names_every_library_and_its_licence(client):
    page = client.get("/ui/licences").text
    for package in assets.packages():
        assert package.name in page and package.licence in page
        assert package.licence_text.strip()
    assert {p.licence for p in assets.packages()} <= {"BSD-2-Clause", "MIT"}


def test_without_the_libraries_installed_the_page_says_how_to_install_them(signed_in, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(assets, "NODE_MODULES", tmp_path)  # an empty folder: setup not run
    answer = signed_in.get("/", headers=HTML)
    assert answer.status_code == 503 and "scripts/setup.sh" in answer.text


def test_basemap_tiles_are_pngs_and_bad_ones_are_refused(client):
    png = client.get("/ui/tiles/13/4312/2892.png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    bad = client.get("/ui/tiles/25/0/0.png")
    assert bad.status_code == 422 and bad.json["error"]["field"] == "z"
    places = client.get("/ui/places.json?lang=zh").json
    assert any(f["properties"]["name"] == "Vaduz" for f in places["features"])
