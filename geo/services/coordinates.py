"""Coordinates typed by a user, as WGS84: the GCJ-02 and BD-09 offset coordinates that Chinese
web maps show are converted (:mod:`geo.io.cn_coords`); WGS84 is returned as given."""

from __future__ import annotations

import math

from geo.errors import ValidationError
from geo.io.cn_coords import TO_WGS84, chinese_crs

WGS84_NAMES = frozenset({"WGS84", "WGS-84", "WGS_84", "EPSG:4326", "4326", "CRS84"})
CRS_CHOICES = ("wgs84", "gcj02", "bd09")


def to_wgs84(lon: float, lat: float, crs: str = "wgs84") -> tuple[float, float]:
    """(lon, lat) in WGS84 of a point given in ``crs`` (WGS84, GCJ-02 or BD-09, any common
    spelling). Outside mainland China GCJ-02 is WGS84 (the map providers apply no shift)."""
    for name, what, value, bound in (("lon", "longitude", lon, 180.0),
                                     ("lat", "latitude", lat, 90.0)):
        if not math.isfinite(value) or abs(value) > bound:
            raise ValidationError(f"{name}: {value!r} is not a {what} "
                                  f"(between -{bound:g} and {bound:g})")
    text = str(crs).strip().upper()
    if text in WGS84_NAMES:
        return float(lon), float(lat)
    chinese = chinese_crs(text)
    if chinese is None:
        raise ValidationError(f"crs: {crs!r} is not one of {', '.join(CRS_CHOICES)}")
    out_lon, out_lat = TO_WGS84[chinese](lon, lat)
    return float(out_lon), float(out_lat)
