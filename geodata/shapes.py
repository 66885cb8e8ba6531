"""Group geometry for reports and the map: diameter, centroid, convex hull as GeoJSON."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.polygon import orient

from geodata.distance import MAX_RELATIVE_GAP, geodesic_km_fast, haversine_km

_HULL_BUFFER_DEG = 0.002  # ~150-220 m: gives one or two distinct points a real polygon
_DECIMALS = 6
_MIN_AREA_DEG2 = 1e-7  # ~750 m2: thinner hulls (collinear points) are buffered


def _coordinates(
    lats: npt.ArrayLike, lons: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    if lat.ndim != 1 or lat.shape != lon.shape:
        raise ValueError("lats and lons must be 1-D arrays of the same length")
    if lat.size == 0:
        raise ValueError("a group needs at least one point")
    return lat, lon


def diameter_km(
    lats: npt.ArrayLike, lons: npt.ArrayLike, *, exact: bool = True
) -> tuple[float, int, int]:
    """Largest pairwise distance in a group, and the pair that attains it.

    Parameters
    ----------
    lats, lons
        Degrees of the group's members (a group is small: this is O(n²) haversine).
    exact
        If ``True`` (default) the distance is the WGS84 geodesic, as the verifier uses:
        every pair whose haversine is within 1 % of the haversine maximum is re-measured.
        If ``False`` it is the haversine.

    Returns
    -------
    tuple[float, int, int]
        ``(km, i, j)`` with ``i < j``; ``(0.0, 0, 0)`` for a single point.

    Raises
    ------
    ValueError
        If the inputs are empty or differ in length.
    """
    lat, lon = _coordinates(lats, lons)
    if lat.size == 1:
        return 0.0, 0, 0
    km = np.asarray(haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]))
    upper = np.triu(km, 1)
    i, j = np.unravel_index(int(np.argmax(upper)), upper.shape)
    best = (float(upper[i, j]), int(i), int(j))
    if not exact:
        return best
    threshold = best[0] * (1.0 - MAX_RELATIVE_GAP) / (1.0 + MAX_RELATIVE_GAP)
    candidates = np.argwhere(upper >= threshold)
    exact_best = (-1.0, 0, 0)
    for a, b in candidates:
        d = geodesic_km_fast(lat[a], lon[a], lat[b], lon[b])
        if d > exact_best[0]:
            exact_best = (d, int(a), int(b))
    return exact_best


def centroid(lats: npt.ArrayLike, lons: npt.ArrayLike) -> tuple[float, float]:
    """Spherical centroid of a group (mean of unit vectors, projected back to the sphere).

    Parameters
    ----------
    lats, lons
        Degrees of the group's members.

    Returns
    -------
    tuple[float, float]
        ``(lat, lon)`` in degrees.

    Raises
    ------
    ValueError
        If the inputs are empty or differ in length.
    """
    lat, lon = _coordinates(lats, lons)
    phi, lam = np.radians(lat), np.radians(lon)
    x = float(np.mean(np.cos(phi) * np.cos(lam)))
    y = float(np.mean(np.cos(phi) * np.sin(lam)))
    z = float(np.mean(np.sin(phi)))
    return float(np.degrees(np.arctan2(z, np.hypot(x, y)))), float(np.degrees(np.arctan2(y, x)))


def _rounded_hull(points: npt.NDArray[np.float64]) -> shapely.Geometry:
    return shapely.convex_hull(shapely.multipoints(np.round(points, _DECIMALS)))


def hull_geojson(lats: npt.ArrayLike, lons: npt.ArrayLike) -> dict[str, Any]:
    """Convex hull of a group as an RFC 7946 GeoJSON ``Polygon``.

    Parameters
    ----------
    lats, lons
        Degrees of the group's members.

    Returns
    -------
    dict
        ``{"type": "Polygon", "coordinates": [ring]}`` with ``[lon, lat]`` positions rounded
        to 6 decimals, a closed counter-clockwise outer ring, and always a valid polygon:
        fewer than three distinct or collinear points are buffered by ~200 m first.

    Raises
    ------
    ValueError
        If the inputs are empty or differ in length.
    """
    lat, lon = _coordinates(lats, lons)
    hull = _rounded_hull(np.column_stack([lon, lat]))
    if not isinstance(hull, shapely.Polygon) or hull.area < _MIN_AREA_DEG2:
        buffered = shapely.buffer(hull, _HULL_BUFFER_DEG, quad_segs=4)
        hull = _rounded_hull(np.asarray(buffered.exterior.coords))
    polygon = orient(hull, sign=1.0)
    ring = [[round(x, _DECIMALS), round(y, _DECIMALS)] for x, y in polygon.exterior.coords]
    return {"type": "Polygon", "coordinates": [ring]}
