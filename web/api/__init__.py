"""The REST API blueprint (``/api``): system, sessions and accounts, analyses and jobs, teams
and inventory, imports and exports. Every view parses, calls one function of the application
layer (:mod:`geo.services`) and serialises."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")

# The view modules add their routes to the blueprint when imported.
from web.api import (  # noqa: E402, F401
    analyses,
    coordinates,
    layers,
    planning,
    session,
    system,
    teams,
)
