"""Road networks from OpenStreetMap: reading, mode filters, simplification, the disk cache and the
immutable :class:`RoadNetwork` model. Each name is imported on first use (:mod:`geo.core.lazy`)."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.network.build import DEFAULT_OSM, build_network, build_network_online, check_mode
    from geo.network.model import ARRAY_FIELDS, NetworkSettings, RoadNetwork

__all__ = ["ARRAY_FIELDS", "DEFAULT_OSM", "NetworkSettings", "RoadNetwork", "build_network",
           "build_network_online", "check_mode"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo.network.build": ["DEFAULT_OSM", "build_network", "build_network_online", "check_mode"],
    "geo.network.model": ["ARRAY_FIELDS", "NetworkSettings", "RoadNetwork"],
})
