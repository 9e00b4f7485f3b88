"""Analyses as pure functions of (network, layers, parameters): hazard barriers, exposure,
service areas, coverage, dispatch and evacuation."""

from geo.analysis.barriers import Barriers, hazard_zones, road_barriers
from geo.analysis.coverage import CoverageResult, coverage
from geo.analysis.dispatch import depots_for_items, nearest_teams, shelters_with_room
from geo.analysis.evacuation import EvacuationResult, evacuation
from geo.analysis.exposure import exposure, unsafe_shelters
from geo.analysis.service_areas import service_areas

__all__ = ["Barriers", "CoverageResult", "EvacuationResult", "coverage", "depots_for_items",
           "evacuation", "exposure", "hazard_zones", "nearest_teams", "road_barriers",
           "service_areas", "shelters_with_room", "unsafe_shelters"]
