"""The application layer the command line and the web call: a :class:`Context` opened once per
process, and one function per analysis holding every decision about defaults; the offline
basemap (tiles, place names, bounds) drawn from the same OSM extract."""

from geo.services.analyses import FACILITY_DEFAULTS, coverage, dispatch, exposure, service_areas
from geo.services.basemap import basemap_bounds, basemap_places, basemap_tile
from geo.services.context import Context, NetworkSource, open_registry
from geo.services.evacuation import evacuate
from geo.services.network import road_network, route
from geo.services.siting import site, site_matrix

__all__ = ["FACILITY_DEFAULTS", "Context", "NetworkSource", "basemap_bounds", "basemap_places",
           "basemap_tile", "coverage", "dispatch", "evacuate", "exposure", "open_registry",
           "road_network", "route", "service_areas", "site", "site_matrix"]
