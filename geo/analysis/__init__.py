"""Analyses as pure functions of (network, layers, parameters): hazard barriers, exposure,
service areas, coverage, dispatch and evacuation. Each name is imported on first use
(:mod:`geo.core.lazy`): a dispatch does not load the evacuation's solver."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.analysis.barriers import Barriers, hazard_zones, road_barriers
    from geo.analysis.coverage import CoverageResult, coverage
    from geo.analysis.dispatch import depots_for_items, nearest_teams, shelters_with_room
    from geo.analysis.evacuation import EvacuationResult, evacuation
    from geo.analysis.exposure import exposure, unsafe_shelters
    from geo.analysis.service_areas import service_areas

__all__ = ["Barriers", "CoverageResult", "EvacuationResult", "coverage", "depots_for_items",
           "evacuation", "exposure", "hazard_zones", "nearest_teams", "road_barriers",
           "service_areas", "shelters_with_room", "unsafe_shelters"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo.analysis.barriers": ["Barriers", "hazard_zones", "road_barriers"],
    "geo.analysis.coverage": ["CoverageResult", "coverage"],
    "geo.analysis.dispatch": ["depots_for_items", "nearest_teams", "shelters_with_room"],
    "geo.analysis.evacuation": ["EvacuationResult", "evacuation"],
    "geo.analysis.exposure": ["exposure", "unsafe_shelters"],
    "geo.analysis.service_areas": ["service_areas"],
})
