"""Haversine, exact geodesic and the integer distance matrix."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from geodata.distance import (
    MAX_RELATIVE_GAP,
    distance_matrix_m,
    geodesic_km,
    geodesic_km_fast,
    haversine_km,
)
from geodata.geocode import geocode

NL_LAT = st.floats(50.75, 53.55)
NL_LON = st.floats(3.35, 7.22)


def _km(a: str, b: str) -> tuple[float, float]:
    p, q = geocode(a), geocode(b)
    return (
        float(haversine_km(p.lat, p.lon, q.lat, q.lon)),
        float(geodesic((p.lat, p.lon), (q.lat, q.lon)).km),
    )


def test_groningen_leeuwarden_about_51_km() -> None:
    """Groningen-Leeuwarden is 50-52 km and haversine matches geopy's geodesic within 0.5 %."""
    haversine, exact = _km("9711", "8911")
    assert 50.0 <= exact <= 52.0
    assert abs(haversine - exact) / exact < 0.005


def test_groningen_assen_about_25_km() -> None:
    """Groningen-Assen is about 25 km, and haversine matches the geodesic within 0.5 %."""
    haversine, exact = _km("9711", "9401")
    assert 23.0 <= exact <= 27.0
    assert abs(haversine - exact) / exact < 0.005


def test_haversine_broadcasts_and_returns_float_for_scalars() -> None:
    """Scalars give a float; arrays broadcast like numpy."""
    assert isinstance(haversine_km(53.0, 6.0, 53.0, 6.0), float)
    out = haversine_km(np.array([53.0, 52.0]), 6.0, 53.0, np.array([[6.0], [7.0]]))
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    assert out[0, 0] == 0.0


def test_geodesic_km_equals_geopy() -> None:
    """geodesic_km and the fast path give geopy's number to the last bit."""
    rng = np.random.default_rng(1)
    for lat1, lon1, lat2, lon2 in rng.uniform(
        [50.8, 3.4, 50.8, 3.4], [53.5, 7.2, 53.5, 7.2], (200, 4)
    ):
        expected = geodesic((lat1, lon1), (lat2, lon2)).km
        assert geodesic_km(lat1, lon1, lat2, lon2) == expected
        assert geodesic_km_fast(lat1, lon1, lat2, lon2) == expected


@settings(max_examples=300, deadline=None)
@given(NL_LAT, NL_LON, NL_LAT, NL_LON)
def test_haversine_within_half_percent_of_geodesic(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    """For NL point pairs at least 1 km apart, haversine and geodesic agree within 0.5 %."""
    exact = geodesic_km(lat1, lon1, lat2, lon2)
    assume(exact >= 1.0)
    gap = abs(float(haversine_km(lat1, lon1, lat2, lon2)) - exact) / exact
    assert gap < MAX_RELATIVE_GAP


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(NL_LAT, NL_LON), min_size=1, max_size=30))
def test_distance_matrix_symmetric_zero_diagonal(points: list[tuple[float, float]]) -> None:
    """distance_matrix_m is int64, symmetric, zero on the diagonal, and haversine in metres."""
    lats, lons = np.array(points).T
    matrix = distance_matrix_m(lats, lons)
    assert matrix.dtype == np.int64
    assert np.array_equal(matrix, matrix.T)
    assert not np.diagonal(matrix).any()
    expected = np.asarray(haversine_km(lats[:, None], lons[:, None], lats[None, :], lons[None, :]))
    assert np.abs(matrix - expected * 1000.0).max() <= 0.5 + 1e-6


def test_distance_matrix_refuses_large_input() -> None:
    """A dense matrix beyond max_points is refused: use neighbourhoods instead."""
    with pytest.raises(ValueError, match="max_points"):
        distance_matrix_m(np.zeros(11), np.zeros(11), max_points=10)
