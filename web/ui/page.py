"""The map page: a folium map (Leaflet, the basemap drawn from the region's OSM extract, online
tiles selectable, the layer control) with every asset served by the app, and the panels and
scripts of the dispatcher's and planner's work around it.

folium builds the map's skeleton; the registry's layers are not baked into the page but fetched
from the API by the page's scripts (the UI is a client of the API, with no second path to the
data), so the page is the same for every user of a language and holds no registry data.
"""

from __future__ import annotations

import json

import folium
from flask import render_template, request, url_for

from geo import OSM_ATTRIBUTION
from web.ui import assets, i18n, problems

ONLINE_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
MAX_ZOOM = 19
OFFLINE_MAX_NATIVE_ZOOM = 18


def map_page(*, bounds: tuple[float, float, float, float]) -> str:
    """The whole HTML page of the map for this request's language; ``bounds``: the region
    (west, south, east, north) the map opens on."""
    _ = i18n.gettext
    west, south, east, north = bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12,
                      tiles=None, control_scale=True, max_zoom=MAX_ZOOM)
    fmap.fit_bounds([[south, west], [north, east]])
    _offline(fmap)
    root = request.script_root
    folium.TileLayer(tiles=root + "/ui/tiles/{z}/{x}/{y}.png", attr=OSM_ATTRIBUTION,
                     name=_("Offline map (drawn from the OSM extract)"), max_zoom=MAX_ZOOM,
                     max_native_zoom=OFFLINE_MAX_NATIVE_ZOOM).add_to(fmap)
    # Not shown until chosen: a base layer not on the map fetches nothing.
    folium.TileLayer(tiles=ONLINE_OSM, attr=OSM_ATTRIBUTION, name=_("OpenStreetMap (online)"),
                     max_zoom=MAX_ZOOM, show=False).add_to(fmap)
    control = folium.LayerControl(collapsed=True, position="topright").add_to(fmap)

    figure = fmap.get_root()
    # In the body: after Leaflet, which folium puts last in the head.
    figure.html.add_child(folium.Element(_head_links()), name="geo_assets")
    figure.html.add_child(folium.Element(render_template(
        "ui/panel.html", languages=i18n.LANGUAGES, lang=i18n.language())), name="geo_panel")
    boot = {"map": fmap.get_name(), "control": control.get_name(), "lang": i18n.language(),
            "bounds": [west, south, east, north], "root": root, "problems": problems.for_page()}
    # Once every script of the page ran (folium's layer control is declared after the map).
    figure.script.add_child(folium.Element(
        "document.addEventListener('DOMContentLoaded', () => Geo.start("
        f"{fmap.get_name()}, {control.get_name()}, {_script_json(boot)}, "
        f"{_script_json(i18n.script_messages(i18n.language()))}));"), name="geo_boot")
    html_lang = "zh-CN" if i18n.language() == "zh" else "en"
    return figure.render().replace("<html>", f'<html lang="{html_lang}">', 1)


def _offline(fmap: folium.Map) -> None:
    """Point folium's assets at the app's copies; drop the ones the page does not use."""
    for attr in ("default_js", "default_css"):
        local = []
        for name, _cdn in getattr(fmap, attr):
            if name not in assets.FOLIUM_ASSETS:
                raise RuntimeError(f"folium asset {name!r} has no local copy: add it to "
                                   "web/ui/assets.py")
            path = assets.FOLIUM_ASSETS[name]
            if path:
                local.append((name, url_for("ui.asset", path=path)))
        setattr(fmap, attr, local)


def _head_links() -> str:
    styles = [url_for("ui.asset", path=p) for p in assets.PLUGIN_STYLES]
    styles += [url_for("ui.static", filename=f) for f in STYLES]
    scripts = [url_for("ui.asset", path=p) for p in assets.PLUGIN_SCRIPTS]
    scripts += [url_for("ui.static", filename=f) for f in SCRIPTS]
    return "\n".join([*(f'<link rel="stylesheet" href="{s}">' for s in styles),
                      *(f'<script src="{s}"></script>' for s in scripts),
                      '<meta name="referrer" content="no-referrer">'])


# The page's own scripts, in load order: the core (API calls, translation, safe DOM building),
# the map's layers, then each kind of work.
SCRIPTS = ("geo.js", "layers.js", "dispatch.js", "planner.js")
STYLES = ("app.css", "dispatch.css", "planner.css")


def _script_json(value) -> str:
    """JSON safe inside a <script> element (no "</script>" or "<!--" can close it)."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))
