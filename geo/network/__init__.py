"""Road networks from OpenStreetMap: reading, mode filters, simplification, the disk cache and the
immutable :class:`RoadNetwork` model."""

from geo.network.build import DEFAULT_OSM, build_network, build_network_online, check_mode
from geo.network.model import ARRAY_FIELDS, NetworkSettings, RoadNetwork

__all__ = ["ARRAY_FIELDS", "DEFAULT_OSM", "NetworkSettings", "RoadNetwork", "build_network",
           "build_network_online", "check_mode"]
