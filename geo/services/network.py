"""Road networks and single routes for the command line and the web."""

from __future__ import annotations

from geo.errors import PointError
from geo.network.model import RoadNetwork
from geo.routing.paths import Route
from geo.routing.paths import route as route_on
from geo.routing.snapping import DEFAULT_MAX_SNAP_M
from geo.services.context import Context


def road_network(ctx: Context, mode: str) -> RoadNetwork:
    """The ``mode`` network of the context's source (built, or loaded from the cache)."""
    return ctx.network(mode)


def route(ctx: Context, *, mode: str, origin: tuple[float, float],
          destination: tuple[float, float], max_snap_m: float = DEFAULT_MAX_SNAP_M,
          fields: tuple[str, str] = ("origin", "destination")) -> Route:
    """The fastest route between two (lon, lat) points on the ``mode`` network; a point that
    cannot be used, or a destination that cannot be reached, is a :class:`PointError` naming
    the field."""
    found = route_on(ctx.network(mode), origin, destination, max_snap_m=max_snap_m,
                     fields=fields)
    if found is None:
        raise PointError(f"{fields[1]}: cannot be reached from {fields[0]} on the open roads")
    return found
