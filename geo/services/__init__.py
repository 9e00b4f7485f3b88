"""The application layer the command line and the web call: a :class:`Context` opened once per
process, and one function per analysis holding every decision about defaults; the offline
basemap (tiles, place names, bounds) drawn from the same OSM extract. Each name is imported on
first use (:mod:`geo.core.lazy`): a command pays only for the analysis it runs."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.services.analyses import coverage, exposure, service_areas
    from geo.services.basemap import basemap_bounds, basemap_places, basemap_tile
    from geo.services.common import FACILITY_DEFAULTS
    from geo.services.context import Context, NetworkSource, open_registry
    from geo.services.dispatch import dispatch
    from geo.services.evacuation import evacuate
    from geo.services.network import road_network, route
    from geo.services.siting import site, site_matrix

__all__ = ["FACILITY_DEFAULTS", "Context", "NetworkSource", "basemap_bounds", "basemap_places",
           "basemap_tile", "coverage", "dispatch", "evacuate", "exposure", "open_registry",
           "road_network", "route", "service_areas", "site", "site_matrix"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo.services.analyses": ["coverage", "exposure", "service_areas"],
    "geo.services.basemap": ["basemap_bounds", "basemap_places", "basemap_tile"],
    "geo.services.common": ["FACILITY_DEFAULTS"],
    "geo.services.context": ["Context", "NetworkSource", "open_registry"],
    "geo.services.dispatch": ["dispatch"],
    "geo.services.evacuation": ["evacuate"],
    "geo.services.network": ["road_network", "route"],
    "geo.services.siting": ["site", "site_matrix"],
})
