"""Sparse neighbourhoods against brute force on random Dutch points."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.distance import geodesic_km, geodesic_km_fast, haversine_km
from geodata.neighbours import build_neighbourhoods


def _nl_points(n: int, seed: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    return rng.uniform(50.75, 53.55, n), rng.uniform(3.35, 7.22, n)


def _brute_haversine(
    lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    return np.asarray(haversine_km(lats[:, None], lons[:, None], lats[None, :], lons[None, :]))


def test_radius_equals_brute_force_on_2000_points() -> None:
    """Without a cap, row i holds exactly the j != i with haversine <= 50 km, nearest first."""
    lats, lons = _nl_points(2000, seed=7)
    km = _brute_haversine(lats, lons)
    hood = build_neighbourhoods(lats, lons, 50.0)
    assert hood.n == 2000
    expected_pairs = 0
    for i in range(2000):
        ids, dist = hood.of(i)
        expected = set(np.flatnonzero(km[i] <= 50.0)) - {i}
        expected_pairs += len(expected)
        assert set(ids.tolist()) == expected
        assert np.all(np.diff(dist) >= 0)
        np.testing.assert_allclose(dist, km[i, ids], rtol=1e-6)
    assert hood.n_pairs == expected_pairs
    assert hood.indices.dtype == np.int32 and hood.distances_km.dtype == np.float32


def test_k_cap_keeps_the_k_nearest_within_radius() -> None:
    """With k, each row is the k nearest within the radius (or all of them if fewer)."""
    lats, lons = _nl_points(2000, seed=8)
    km = _brute_haversine(lats, lons)
    hood = build_neighbourhoods(lats, lons, 20.0, k=15)
    for i in range(2000):
        ids, dist = hood.of(i)
        within = np.flatnonzero(km[i] <= 20.0)
        within = within[within != i]
        expected = np.sort(km[i, within])[:15]
        assert len(ids) == min(15, len(within))
        np.testing.assert_allclose(dist, expected, rtol=1e-6)
        assert i not in set(ids.tolist())


def test_exact_equals_brute_force_geodesic_on_400_points() -> None:
    """exact=True keeps exactly the pairs whose WGS84 geodesic is <= the radius."""
    lats, lons = _nl_points(400, seed=9)
    hood = build_neighbourhoods(lats, lons, 50.0, exact=True)
    near = _brute_haversine(lats, lons) <= 60.0  # geodesic <= 50 implies haversine <= 50.3
    expected: list[set[int]] = [set() for _ in range(400)]
    for i, j in zip(*np.nonzero(np.triu(near, 1)), strict=True):
        # geodesic_km_fast is bit-identical to geopy's geodesic (test_distance pins it)
        if geodesic_km_fast(lats[i], lons[i], lats[j], lons[j]) <= 50.0:
            expected[i].add(int(j))
            expected[j].add(int(i))
    for i in range(400):
        assert set(hood.of(i)[0].tolist()) == expected[i]


def test_exact_differs_from_haversine_at_the_edge() -> None:
    """Groningen-Leeuwarden is within 51.55 km by haversine but not by the exact geodesic."""
    lats, lons = np.array([53.2167, 53.2016]), np.array([6.5697, 5.7969])
    assert build_neighbourhoods(lats, lons, 51.55).n_pairs == 2
    assert build_neighbourhoods(lats, lons, 51.55, exact=True).n_pairs == 0


def test_duplicate_points_exclude_only_self() -> None:
    """Firms sharing one PC4 centroid are each other's neighbours at 0 km; self is excluded."""
    lats, lons = np.full(5, 53.2167), np.full(5, 6.5697)
    hood = build_neighbourhoods(lats, lons, 1.0, k=3)
    for i in range(5):
        ids, dist = hood.of(i)
        assert len(ids) == 3 and i not in set(ids.tolist())
        assert not dist.any()


def test_empty_and_invalid_inputs() -> None:
    """No points gives an empty structure; bad radius, k or shapes raise ValueError."""
    empty = build_neighbourhoods([], [], 50.0)
    assert empty.n == 0 and empty.n_pairs == 0
    with pytest.raises(ValueError):
        build_neighbourhoods([53.0], [6.0], 0.0)
    with pytest.raises(ValueError):
        build_neighbourhoods([53.0], [6.0], 10.0, k=0)
    with pytest.raises(ValueError):
        build_neighbourhoods([53.0, 52.0], [6.0], 10.0)


def test_exact_decides_pairs_within_a_metre_of_the_radius() -> None:
    """Points placed at geodesic 50 km ± 0.3 m (all bearings) are kept iff <= 50 km."""
    from geographiclib.geodesic import Geodesic

    origin = (52.5, 5.5)
    lats, lons, inside = [origin[0]], [origin[1]], set()
    for index, bearing in enumerate(range(0, 360, 15)):
        metres = 50_000.0 + (0.3 if index % 2 else -0.3)
        end = Geodesic.WGS84.Direct(origin[0], origin[1], bearing, metres)
        lats.append(end["lat2"])
        lons.append(end["lon2"])
        if geodesic_km(origin[0], origin[1], end["lat2"], end["lon2"]) <= 50.0:
            inside.add(index + 1)
    assert len(inside) == 12
    hood = build_neighbourhoods(np.array(lats), np.array(lons), 50.0, exact=True)
    assert set(hood.of(0)[0].tolist()) == inside


def test_lambert_is_within_tolerance_of_geodesic() -> None:
    """Lambert's relative error stays under a fifth of the tolerance used around a radius."""
    from geodata.distance import LAMBERT_RELATIVE_TOLERANCE, lambert_km

    lat1, lon1 = _nl_points(3000, seed=11)
    lat2, lon2 = _nl_points(3000, seed=12)
    lat2 = lat1 + (lat2 - lat1) * 0.25  # mostly 0-80 km apart
    lon2 = lon1 + (lon2 - lon1) * 0.25
    approx = lambert_km(lat1, lon1, lat2, lon2)
    exact = np.array([geodesic_km(*pair) for pair in zip(lat1, lon1, lat2, lon2, strict=True)])
    close = exact > 1.0
    relative = np.abs(approx - exact)[close] / exact[close]
    assert relative.max() < LAMBERT_RELATIVE_TOLERANCE / 5
    assert lambert_km(52.0, 5.0, 52.0, 5.0) == 0.0


def test_structure_is_read_only_and_symmetric_without_cap() -> None:
    """Arrays cannot be written, and without a cap j in row i iff i in row j."""
    lats, lons = _nl_points(300, seed=3)
    hood = build_neighbourhoods(lats, lons, 30.0)
    with pytest.raises(ValueError):
        hood.indices[0] = 1
    pairs = {(i, int(j)) for i in range(300) for j in hood.of(i)[0]}
    assert pairs == {(j, i) for i, j in pairs}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(52.0, 53.0), st.floats(5.5, 7.0)), min_size=1, max_size=40),
    st.floats(1.0, 80.0),
    st.one_of(st.none(), st.integers(1, 45)),
)
def test_matches_brute_force_for_any_small_input(
    points: list[tuple[float, float]], radius_km: float, k: int | None
) -> None:
    """For any small point set, radius and cap, rows equal the brute-force nearest-first list."""
    lats, lons = (np.array(c) for c in zip(*points, strict=True))
    km = _brute_haversine(lats, lons)
    hood = build_neighbourhoods(lats, lons, radius_km, k=k)
    for i in range(len(points)):
        ids, dist = hood.of(i)
        others = np.array([j for j in range(len(points)) if j != i and km[i, j] <= radius_km])
        expected = np.sort(km[i, others]) if others.size else np.zeros(0)
        expected = expected[:k] if k is not None else expected
        np.testing.assert_allclose(dist, expected, rtol=1e-6, atol=1e-9)
        assert i not in set(ids.tolist())


def test_nearest_within_matches_brute_force_great_circle_distances() -> None:
    """nearest_within: the k nearest within the radius, nearest first, -1 padding."""
    from geodata.distance import haversine_km
    from geodata.neighbours import nearest_within

    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(52.6, 53.5, 300), rng.uniform(5.5, 7.2, 300)
    qlat, qlon = rng.uniform(52.6, 53.5, 40), rng.uniform(5.5, 7.2, 40)
    got = nearest_within(lat, lon, qlat, qlon, 12.0, 5)
    assert got.shape == (40, 5)
    for q in range(40):
        km = haversine_km(np.full(300, qlat[q]), np.full(300, qlon[q]), lat, lon)
        expected = [int(i) for i in np.argsort(km, kind="stable")[:5] if km[i] <= 12.0]
        assert [int(i) for i in got[q] if i >= 0] == expected
        assert all(i == -1 for i in got[q][len(expected) :])
    assert nearest_within(lat[:0], lon[:0], qlat, qlon, 12.0, 5).shape == (40, 0)


def test_count_within_matches_brute_force_great_circle_counts() -> None:
    """count_within: the number of points within the radius (self included), as brute force."""
    from geodata.distance import haversine_km
    from geodata.neighbours import count_within

    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(52.6, 53.5, 400), rng.uniform(5.5, 7.2, 400)
    qlat, qlon = (
        np.concatenate([lat[:10], rng.uniform(52.6, 53.5, 30)]),
        np.concatenate([lon[:10], rng.uniform(5.5, 7.2, 30)]),
    )
    got = count_within(lat, lon, qlat, qlon, 20.0)
    for q in range(40):
        km = haversine_km(np.full(400, qlat[q]), np.full(400, qlon[q]), lat, lon)
        near = km <= 20.0
        edge = np.abs(km - 20.0) < 1e-6  # the chord's tiny slack may count a point at the rim
        assert near.sum() <= got[q] <= near.sum() + edge.sum()
    assert (got[:10] >= 1).all()  # a point counts itself
    assert count_within(lat[:0], lon[:0], qlat, qlon, 20.0).tolist() == [0] * 40
