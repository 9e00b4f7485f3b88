"""What a CRS given as text means, and moving geometries between it and WGS84 lon/lat.

A CRS is anything pyproj reads (an EPSG code, WKT, a PROJ string) or one of the Chinese web-map
systems GCJ-02 and BD-09, which no CRS database knows and :mod:`geo.io.cn_coords` converts.
Which CRS a file's coordinates are in is decided by the policy of :mod:`geo.io.vector`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.errors import ValidationError
from geo.io import cn_coords

WGS84 = "EPSG:4326"

Crs = str | CRS  # "GCJ-02" / "BD-09", or a pyproj CRS


def resolve_crs(text: str | None, *, field: str = "crs") -> Crs | None:
    """``"GCJ-02"`` / ``"BD-09"``, a pyproj CRS (EPSG code, WKT, PROJ string), or None."""
    if text is None or str(text).strip() == "":
        return None
    chinese = cn_coords.chinese_crs(text)
    if chinese:
        return chinese
    value = str(text).strip()
    try:
        return CRS.from_user_input(f"EPSG:{value}" if value.isdigit() else value)
    except CRSError:
        raise ValidationError(f"{field}: unknown CRS {text!r} (give an EPSG code such as "
                              f"EPSG:4326, or GCJ-02 / BD-09)") from None


def is_wgs84(crs: Crs | None) -> bool:
    """Geographic WGS84, in either axis order (EPSG:4326, OGC:CRS84)."""
    return isinstance(crs, CRS) and crs.equals(CRS.from_epsg(4326), ignore_axis_order=True)


def same_crs(a: Crs, b: Crs) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.equals(b, ignore_axis_order=True)


def crs_name(crs: Crs) -> str:
    """A short name for messages: the authority code where there is one."""
    if isinstance(crs, str):
        return crs
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.name


def geometries_to_wgs84(geometries: np.ndarray, crs: Crs | None) -> np.ndarray:
    """An array of shapely geometries from ``crs`` (default WGS84) to WGS84 lon/lat."""
    return _reproject(geometries, crs, to_wgs84=True)


def geometries_from_wgs84(geometries: np.ndarray, crs: Crs | None) -> np.ndarray:
    """An array of WGS84 geometries to ``crs`` (default: left in WGS84)."""
    return _reproject(geometries, crs, to_wgs84=False)


def _reproject(geometries: np.ndarray, crs: Crs | None, *, to_wgs84: bool) -> np.ndarray:
    if crs is None or is_wgs84(crs):
        return geometries
    convert: Callable[..., tuple]
    if isinstance(crs, str):
        convert = (cn_coords.TO_WGS84 if to_wgs84 else cn_coords.FROM_WGS84)[crs]
    else:
        source, target = (crs, WGS84) if to_wgs84 else (WGS84, crs)
        convert = Transformer.from_crs(source, target, always_xy=True).transform
    return shapely.transform(geometries, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1])))
