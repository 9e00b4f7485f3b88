"""Foundations every layer uses: argument checks, CRS helpers, packaged data, reference tables
(hazard rules, shelter standards), JSON conversion and progress bars."""

from geo.core.crs import utm_crs
from geo.core.hazard_rules import HazardRules, load_hazard_rules
from geo.core.resources import data_path
from geo.core.standards import ShelterStandards, load_standards

__all__ = ["HazardRules", "ShelterStandards", "data_path", "load_hazard_rules", "load_standards",
           "utm_crs"]
