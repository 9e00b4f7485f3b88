"""The one vocabulary of statuses, types and reasons, shared by the registry (which checks records
against it), the analyses (which filter and explain with it) and the CLI and web (which show it).

It lives in ``core`` because every layer needs the same words and none may import a higher layer.
"""

from __future__ import annotations

# Each status has a name, and the tuple of a record's statuses is built from those names, so that
# code compares with a name (``status == TEAM_AVAILABLE``) and the two cannot drift apart.
SHELTER_OPEN, SHELTER_CLOSED, SHELTER_FULL, SHELTER_UNSAFE = "open", "closed", "full", "unsafe"
SHELTER_STATUSES = (SHELTER_OPEN, SHELTER_CLOSED, SHELTER_FULL, SHELTER_UNSAFE)
TEAM_TYPES = ("fire", "medical", "search_rescue", "hazmat", "water_rescue", "police", "volunteer",
              "comprehensive")
# Their English and Chinese names: geo.core.labels.
TEAM_AVAILABLE = "available"
TEAM_ASSIGNED = "assigned"
TEAM_EN_ROUTE = "en_route"
TEAM_ON_SCENE = "on_scene"
TEAM_RETURNING = "returning"
TEAM_OFF_DUTY = "off_duty"
TEAM_STATUSES = (TEAM_AVAILABLE, TEAM_ASSIGNED, TEAM_EN_ROUTE, TEAM_ON_SCENE, TEAM_RETURNING,
                 TEAM_OFF_DUTY)
TEAM_BUSY = (TEAM_ASSIGNED, TEAM_EN_ROUTE, TEAM_ON_SCENE, TEAM_RETURNING)
HAZARD_TYPES = ("chemical_plant", "fuel_station", "gas_storage", "industrial", "flood_zone",
                "landslide", "dam", "fire", "other")
INCIDENT_TYPES = ("fire", "flood", "earthquake", "landslide", "hazmat", "traffic", "medical",
                  "rescue", "other")
INCIDENT_OPEN, INCIDENT_DISPATCHED, INCIDENT_CLOSED = "open", "dispatched", "closed"
INCIDENT_STATUSES = (INCIDENT_OPEN, INCIDENT_DISPATCHED, INCIDENT_CLOSED)

# Why a point (a team, a facility, a demand point) cannot be reached.
OFF_NETWORK = "off_network"  # farther than the snap limit from any routable road
ISLAND = "island"  # its nearest road is cut off from the routable network
CUT_OFF = "cut_off_by_hazard"  # on the network, but every way is blocked by hazards or barriers
UNREACHABLE_REASONS = (OFF_NETWORK, ISLAND, CUT_OFF)
