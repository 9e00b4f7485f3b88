"""The one vocabulary of statuses, types and reasons, shared by the registry (which checks records
against it), the analyses (which filter and explain with it) and the CLI and web (which show it).

It lives in ``core`` because every layer needs the same words and none may import a higher layer.
"""

from __future__ import annotations

SHELTER_STATUSES = ("open", "closed", "full", "unsafe")
SHELTER_OPEN = "open"
TEAM_TYPES = ("fire", "medical", "search_rescue", "hazmat", "water_rescue", "police", "volunteer",
              "comprehensive")
TEAM_STATUSES = ("available", "assigned", "en_route", "on_scene", "returning", "off_duty")
TEAM_AVAILABLE = "available"
TEAM_BUSY = ("assigned", "en_route", "on_scene", "returning")
HAZARD_TYPES = ("chemical_plant", "fuel_station", "gas_storage", "industrial", "flood_zone",
                "landslide", "dam", "fire", "other")
INCIDENT_TYPES = ("fire", "flood", "earthquake", "landslide", "hazmat", "traffic", "medical",
                  "rescue", "other")
INCIDENT_STATUSES = ("open", "dispatched", "closed")

# Why a point (a team, a facility, a demand point) cannot be reached.
OFF_NETWORK = "off_network"  # farther than the snap limit from any routable road
ISLAND = "island"  # its nearest road is cut off from the routable network
CUT_OFF = "cut_off_by_hazard"  # on the network, but every way is blocked by hazards or barriers
UNREACHABLE_REASONS = (OFF_NETWORK, ISLAND, CUT_OFF)
