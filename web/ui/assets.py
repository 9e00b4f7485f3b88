"""The front-end libraries the map page loads, served by the app from ``node_modules`` (installed
by ``npm ci`` from ``package-lock.json`` at setup: pinned, no CDN, the page makes no request
outside the service), with their licences.

folium names the files it would load from CDNs; :data:`FOLIUM_ASSETS` maps each name to the
installed file, or to None for what this page does not use (folium's Bootstrap, jQuery and
Font Awesome serve its own popups and icons, which the page does not draw).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

NODE_MODULES = Path(__file__).parent / "node_modules"
# The installed packages whose dist folders the app serves, each with what it is for.
PACKAGES = {
    "leaflet": "the map",
    "leaflet.markercluster": "clustered markers where layers are dense",
    "leaflet.heat": "the population as a heat map",
    "leaflet-draw": "drawing barriers, zones and new records",
}
FOLIUM_ASSETS: dict[str, str | None] = {
    "leaflet": "leaflet/dist/leaflet.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "jquery": None, "bootstrap": None, "bootstrap_css": None, "glyphicons_css": None,
    "awesome_markers": None, "awesome_markers_css": None, "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}
# Loaded by the page itself, after Leaflet.
PLUGIN_SCRIPTS = ("leaflet.markercluster/dist/leaflet.markercluster.js",
                  "leaflet.heat/dist/leaflet-heat.js", "leaflet-draw/dist/leaflet.draw.js")
PLUGIN_STYLES = ("leaflet.markercluster/dist/MarkerCluster.css",
                 "leaflet.markercluster/dist/MarkerCluster.Default.css",
                 "leaflet-draw/dist/leaflet.draw.css")
LICENCE_FILES = ("LICENSE", "LICENSE.md", "MIT-LICENCE.txt", "LICENCE", "LICENSE.txt")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    licence: str
    purpose: str
    licence_text: str


def servable(path: str) -> bool:
    """Only files in a listed package's ``dist`` folder are served."""
    parts = Path(path).parts
    return len(parts) >= 3 and parts[0] in PACKAGES and parts[1] == "dist" and ".." not in parts


def missing() -> list[str]:
    """Files the page links that are not installed (setup not run)."""
    wanted = [p for p in FOLIUM_ASSETS.values() if p] + [*PLUGIN_SCRIPTS, *PLUGIN_STYLES]
    return [p for p in wanted if not (NODE_MODULES / p).is_file()]


def _declared_only(meta: dict) -> str:
    """A package that ships no licence file (leaflet-draw): its declared licence, its copyright
    line from the file served, and where the full text is."""
    repository = meta.get("repository", "")
    where = meta.get("homepage") or (repository.get("url", "") if isinstance(repository, dict)
                                     else repository)
    return (f"{meta['name']} {meta['version']} declares the {meta.get('license')} licence in its "
            "package.json and ships no licence file. Copyright: see the header of the served "
            f"file. Full text: {where}")


def packages() -> list[Package]:
    found = []
    for name, purpose in PACKAGES.items():
        folder = NODE_MODULES / name
        meta = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        text = next(((folder / f).read_text(encoding="utf-8") for f in LICENCE_FILES
                     if (folder / f).is_file()), "") or _declared_only(meta)
        # leaflet.heat's package.json names no licence; its LICENSE file is BSD 2-clause
        licence = meta.get("license") or ("BSD-2-Clause" if "BSD" in text or
                                          "Redistribution and use" in text else "see text")
        found.append(Package(name, meta["version"], licence, purpose, text))
    return found
