"""Foundations every layer uses: argument checks, CRS helpers, packaged data, reference tables
(hazard rules, shelter standards), JSON conversion and progress bars. Each name is imported on
first use (:mod:`geo.core.lazy`)."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.core.crs import utm_crs
    from geo.core.hazard_rules import HazardRules, load_hazard_rules
    from geo.core.resources import data_path
    from geo.core.standards import ShelterStandards, load_standards

__all__ = ["HazardRules", "ShelterStandards", "data_path", "load_hazard_rules", "load_standards",
           "utm_crs"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo.core.crs": ["utm_crs"],
    "geo.core.hazard_rules": ["HazardRules", "load_hazard_rules"],
    "geo.core.resources": ["data_path"],
    "geo.core.standards": ["ShelterStandards", "load_standards"],
})
