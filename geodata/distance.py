"""Great-circle distances: vectorised haversine for bulk work, exact geodesic for checks.

Haversine treats the Earth as a sphere of mean radius 6371.0088 km (IUGG R1).  The exact
distance is the WGS84 ellipsoidal geodesic (geopy → geographiclib, Karney's algorithm).
In the Netherlands (latitude 50.7°-53.6°) the sphere is slightly too small: haversine
*under*-estimates the geodesic by about 0.06 % north-south and 0.33 % east-west, never by
0.5 % (the test suite checks this with hypothesis).  At 50 km that is up to ~170 m, which
is why :func:`geodata.neighbours.build_neighbourhoods` has an ``exact`` mode and the
verifier uses :func:`geodesic_km`.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt
from geographiclib.geodesic import Geodesic
from geopy.distance import ELLIPSOIDS, geodesic

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG R1) used by every haversine in kring."""

MAX_RELATIVE_GAP = 0.005
"""Documented bound on |geodesic - haversine| / geodesic for Dutch point pairs."""

# The very object geopy builds for its default ellipsoid (units: km), so both paths agree
# to the last bit: the optimiser and the verifier must decide "≤ 50 km" identically.
_GEOPY_WGS84 = Geodesic(ELLIPSOIDS["WGS-84"][0], ELLIPSOIDS["WGS-84"][2])
ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


@overload
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...
@overload
def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> FloatArray | float: ...
def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> FloatArray | float:
    """Great-circle distance on a sphere of radius 6371.0088 km.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees; scalars or arrays that broadcast together (numpy rules).

    Returns
    -------
    numpy.ndarray or float
        Kilometres; a Python ``float`` when every argument is a scalar.
    """
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((phi2 - phi1) / 2.0) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    if np.ndim(km) == 0:
        return float(km)
    result: FloatArray = km
    return result


def lambert_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Lambert's ellipsoidal distance on WGS84: vectorised, ~0.1 m from the geodesic in NL.

    Used only to pre-sort pairs near a radius before the exact geodesic decides the close
    calls (see :data:`LAMBERT_RELATIVE_TOLERANCE`).  Measured against geographiclib on 20,000
    Dutch pairs 0.5-80 km apart: largest error 0.11 m (relative 1.4e-6).

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees; arrays that broadcast together.

    Returns
    -------
    numpy.ndarray
        Kilometres (0 for identical points).
    """
    a_km, f = _GEOPY_WGS84.a, _GEOPY_WGS84.f
    beta1 = np.arctan((1.0 - f) * np.tan(np.radians(np.asarray(lat1, dtype=np.float64))))
    beta2 = np.arctan((1.0 - f) * np.tan(np.radians(np.asarray(lat2, dtype=np.float64))))
    lam1 = np.radians(np.asarray(lon1, dtype=np.float64))
    lam2 = np.radians(np.asarray(lon2, dtype=np.float64))
    h = (
        np.sin((beta2 - beta1) / 2.0) ** 2
        + np.cos(beta1) * np.cos(beta2) * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    sigma = 2.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    p, q = (beta1 + beta2) / 2.0, (beta2 - beta1) / 2.0
    half = np.where(sigma > 0.0, sigma / 2.0, 1.0)  # avoid 0/0; sigma = 0 gives 0 below
    x = (sigma - np.sin(sigma)) * np.sin(p) ** 2 * np.cos(q) ** 2 / np.cos(half) ** 2
    y = (sigma + np.sin(sigma)) * np.cos(p) ** 2 * np.sin(q) ** 2 / np.sin(half) ** 2
    km: FloatArray = np.where(sigma > 0.0, a_km * (sigma - f / 2.0 * (x + y)), 0.0)
    return km


LAMBERT_RELATIVE_TOLERANCE = 2e-5
"""Pairs whose Lambert distance is within this fraction of a radius (1 m at 50 km) are
re-measured exactly: 14x the largest relative Lambert error measured in the Netherlands."""


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Exact distance on the WGS84 ellipsoid (geopy's ``geodesic``).

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees.

    Returns
    -------
    float
        Kilometres, accurate to well under a millimetre.
    """
    return float(geodesic((lat1, lon1), (lat2, lon2)).km)


def geodesic_km_fast(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The same number as :func:`geodesic_km`, calling geographiclib without geopy's wrapper.

    geopy's ``geodesic`` delegates to geographiclib's ``Geodesic.Inverse`` on the WGS84
    ellipsoid in km; calling that directly skips geopy's point parsing (~1.7x faster),
    which matters for the band pairs of an exact neighbourhood build.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees.

    Returns
    -------
    float
        Kilometres.
    """
    result = _GEOPY_WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)
    return float(result["s12"])


def distance_matrix_m(
    lats: ArrayLike, lons: ArrayLike, *, max_points: int = 5000
) -> npt.NDArray[np.int64]:
    """Dense haversine distance matrix in whole metres, for small windows (CP-SAT needs ints).

    Parameters
    ----------
    lats, lons
        Degrees, one entry per point.
    max_points
        Refuse larger inputs: a dense matrix of a whole instance is never wanted.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of shape ``(n, n)``, symmetric, zero diagonal, rounded to metres.

    Raises
    ------
    ValueError
        If the inputs differ in length, are not 1-D, or hold more than ``max_points``.
    """
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    if lat.ndim != 1 or lat.shape != lon.shape:
        raise ValueError("lats and lons must be 1-D arrays of the same length")
    if lat.size > max_points:
        raise ValueError(f"{lat.size} points > max_points={max_points}: use build_neighbourhoods")
    km = np.asarray(haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]))
    metres = np.rint(km * 1000.0).astype(np.int64)
    metres = np.minimum(metres, metres.T)  # exact symmetry despite float rounding
    np.fill_diagonal(metres, 0)
    return metres
