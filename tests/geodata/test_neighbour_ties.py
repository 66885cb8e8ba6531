"""Equal distances (firms sharing a PC4 centroid) are ordered by point index, also at a cap."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from geodata.distance import haversine_km
from geodata.neighbours import build_neighbourhoods, nearest_within


def _shared_centroids(n: int, seed: int) -> tuple[npt.NDArray[np.float64], ...]:
    """``n`` points on 25 distinct places in Drenthe, so most distances are exact ties."""
    rng = np.random.default_rng(seed)
    places_lat, places_lon = rng.uniform(52.7, 53.1, 25), rng.uniform(6.2, 6.9, 25)
    pick = rng.integers(0, 25, n)
    return places_lat[pick], places_lon[pick]


def _expected(km: npt.NDArray[np.float64], i: int, radius_km: float) -> list[int]:
    """Brute force: the others within the radius by (distance, index)."""
    others = [j for j in range(km.shape[1]) if j != i and km[i, j] <= radius_km]
    return sorted(others, key=lambda j: (round(float(km[i, j]), 9), j))


def test_rows_go_by_distance_then_index_with_and_without_a_cap() -> None:
    """Rows equal the brute-force (distance, index) order; a cap keeps the lowest tied indices."""
    lat, lon = _shared_centroids(400, seed=5)
    km = np.asarray(haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]))
    for k in (None, 7, 40, 150):
        hood = build_neighbourhoods(lat, lon, 25.0, k=k)
        for i in range(len(lat)):
            expected = _expected(km, i, 25.0)[:k]
            assert hood.of(i)[0].tolist() == expected, (k, i)


def test_nearest_within_keeps_the_lowest_tied_indices() -> None:
    """nearest_within on shared centroids: (distance, index) order, cut at k."""
    lat, lon = _shared_centroids(300, seed=6)
    qlat, qlon = _shared_centroids(30, seed=7)
    got = nearest_within(lat, lon, qlat, qlon, 20.0, 30)
    for q in range(30):
        km = np.asarray(haversine_km(np.full(300, qlat[q]), np.full(300, qlon[q]), lat, lon))
        within = [j for j in range(300) if km[j] <= 20.0]
        expected = sorted(within, key=lambda j: (round(float(km[j]), 9), j))[:30]
        assert [int(j) for j in got[q] if j >= 0] == expected
