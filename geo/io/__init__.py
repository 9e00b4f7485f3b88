"""Files in and out: vector files read in one CRS policy (:mod:`geo.io.vector`), the one GeoJSON
writer (:mod:`geo.io.geojson`), registry layer exports, OSM features and the candidate shelter
sites among them (:mod:`geo.io.shelter_sites`), and the Chinese web-map coordinate systems GCJ-02
and BD-09. Nothing here knows the registry: it calls this package. Each name is imported on first
use (:mod:`geo.core.lazy`)."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.io.crs import resolve_crs
    from geo.io.geojson import geojson_collection, write_geojson
    from geo.io.layer_files import export_layer
    from geo.io.shelter_sites import osm_candidate_sites, shelter_sites, site_points
    from geo.io.vector import read_rows, read_vector

__all__ = ["export_layer", "geojson_collection", "osm_candidate_sites", "read_rows", "read_vector",
           "resolve_crs", "shelter_sites", "site_points", "write_geojson"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo.io.crs": ["resolve_crs"],
    "geo.io.geojson": ["geojson_collection", "write_geojson"],
    "geo.io.layer_files": ["export_layer"],
    "geo.io.shelter_sites": ["osm_candidate_sites", "shelter_sites", "site_points"],
    "geo.io.vector": ["read_rows", "read_vector"],
})
