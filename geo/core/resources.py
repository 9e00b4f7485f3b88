"""Files shipped inside the package (``geo/data``): the embedded OSM extracts and the rule tables.

Found through :mod:`importlib.resources`, so they are where the installed package is, not where
a source checkout happens to put them.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

LIECHTENSTEIN_OSM = "liechtenstein.osm.pbf"
MONACO_OSM = "monaco.osm.gz"
HAZARD_RULES = "hazard_rules.yaml"
SHELTER_STANDARDS = "shelter_standards.yaml"


def data_path(name: str) -> Path:
    """The path of a packaged data file (``geo/data/<name>``)."""
    resource = files("geo.data").joinpath(name)
    # Packages installed as plain folders (ours) give a real path; as_file covers zipped ones.
    with as_file(resource) as path:
        return Path(path)
