"""GCJ-02 and BD-09, the offset coordinates of Chinese web maps, to and from WGS84.

GCJ-02 ("Mars coordinates", used by AutoNavi/Gaode, Tencent and Google Maps in China) shifts
WGS84 by a smooth, deliberately obscure function of position, computed on the Krasovsky 1940
ellipsoid; BD-09 (Baidu) applies a further polar shift to GCJ-02. The forward formulas are the
published ones; there is no closed-form inverse, so WGS84 is recovered by fixed-point iteration
(the shift changes slowly, so a few steps reach micrometres). Outside mainland China's rough
bounding box the GCJ-02 shift is not applied, as the map providers do.

All functions are vectorised: they take scalars or arrays of lon and lat in degrees.
"""

from __future__ import annotations

import numpy as np

KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
BD_FACTOR = np.pi * 3000.0 / 180.0
BD_OFFSET = (0.0065, 0.006)
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)  # lon/lat box in which GCJ-02 applies
TOLERANCE_DEG = 1e-10
MAX_ITERATIONS = 30

ALIASES = {"GCJ-02": "GCJ-02", "GCJ02": "GCJ-02", "GCJ_02": "GCJ-02", "MARS": "GCJ-02",
           "BD-09": "BD-09", "BD09": "BD-09", "BD_09": "BD-09", "BD09LL": "BD-09",
           "BAIDU": "BD-09"}


def chinese_crs(name: str) -> str | None:
    """``"GCJ-02"`` or ``"BD-09"`` if ``name`` means one of them, else None."""
    return ALIASES.get(str(name).strip().upper())


def in_china(lon, lat) -> np.ndarray:
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    west, south, east, north = CHINA_BOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _shift_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The published latitude shift polynomial (x, y: degrees from 105°E, 35°N)."""
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    value += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    value += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    value += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return value


def _shift_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The published longitude shift polynomial."""
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    value += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    value += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    value += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return value


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dlon, dlat) in degrees that GCJ-02 adds at a WGS84 position (0 outside China)."""
    x, y = lon - 105.0, lat - 35.0
    phi = np.radians(lat)
    w = 1.0 - KRASOVSKY_EE * np.sin(phi) ** 2
    # Metres-to-degrees on the Krasovsky ellipsoid: meridian and prime-vertical radii.
    meridian = KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (w * np.sqrt(w))
    prime_vertical = KRASOVSKY_A / np.sqrt(w)
    dlat = _shift_lat(x, y) * 180.0 / (meridian * np.pi)
    dlon = _shift_lon(x, y) * 180.0 / (prime_vertical * np.cos(phi) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = _arrays(lon, lat)
    radius = np.hypot(x, y) + 0.00002 * np.sin(y * BD_FACTOR)
    angle = np.arctan2(y, x) + 0.000003 * np.cos(x * BD_FACTOR)
    return radius * np.cos(angle) + BD_OFFSET[0], radius * np.sin(angle) + BD_OFFSET[1]


def _invert(forward, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """The point that ``forward`` maps to (lon, lat), by fixed-point iteration."""
    target_lon, target_lat = _arrays(lon, lat)
    guess_lon, guess_lat = target_lon.copy(), target_lat.copy()
    for _ in range(MAX_ITERATIONS):
        mapped_lon, mapped_lat = forward(guess_lon, guess_lat)
        error_lon, error_lat = mapped_lon - target_lon, mapped_lat - target_lat
        guess_lon, guess_lat = guess_lon - error_lon, guess_lat - error_lat
        worst = np.nanmax(np.abs(np.concatenate([np.ravel(error_lon), np.ravel(error_lat)])),
                          initial=0.0)
        if worst < TOLERANCE_DEG:
            break
    return guess_lon, guess_lat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


TO_WGS84 = {"GCJ-02": gcj02_to_wgs84, "BD-09": bd09_to_wgs84}
FROM_WGS84 = {"GCJ-02": wgs84_to_gcj02, "BD-09": wgs84_to_bd09}
