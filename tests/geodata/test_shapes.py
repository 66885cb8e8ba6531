"""Group geometry: diameter, centroid and the GeoJSON hull."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.distance import geodesic_km, haversine_km
from geodata.shapes import centroid, diameter_km, hull_geojson

NL_POINT = st.tuples(st.floats(50.75, 53.55), st.floats(3.35, 7.22))


def test_diameter_of_three_northern_towns() -> None:
    """Groningen, Assen, Emmen: the diameter is the exact geodesic of the farthest pair."""
    lats, lons = [53.2167, 52.9939, 52.7858], [6.5697, 6.5625, 6.8970]
    km, i, j = diameter_km(lats, lons)
    assert (i, j) == (0, 2)
    assert km == geodesic_km(lats[0], lons[0], lats[2], lons[2])
    hav, _, _ = diameter_km(lats, lons, exact=False)
    assert hav == pytest.approx(float(haversine_km(lats[0], lons[0], lats[2], lons[2])))


@settings(max_examples=40, deadline=None)
@given(st.lists(NL_POINT, min_size=2, max_size=15))
def test_diameter_is_brute_force_max_geodesic(points: list[tuple[float, float]]) -> None:
    """diameter_km equals the maximum geodesic over all pairs, attained by the returned pair."""
    lats, lons = (list(c) for c in zip(*points, strict=True))
    km, i, j = diameter_km(lats, lons)
    brute = max(
        geodesic_km(lats[a], lons[a], lats[b], lons[b])
        for a, b in itertools.combinations(range(len(lats)), 2)
    )
    assert km == pytest.approx(brute, rel=1e-12, abs=1e-12)
    assert km == pytest.approx(geodesic_km(lats[i], lons[i], lats[j], lons[j]), abs=1e-12)


def test_single_point_diameter_and_centroid() -> None:
    """One firm has diameter 0 and is its own centroid."""
    assert diameter_km([53.0], [6.0]) == (0.0, 0, 0)
    lat, lon = centroid([53.0], [6.0])
    assert lat == pytest.approx(53.0) and lon == pytest.approx(6.0)


def test_centroid_of_symmetric_points() -> None:
    """The centroid of points symmetric around (52.5, 5.5) is (52.5, 5.5) up to curvature."""
    lat, lon = centroid([52.4, 52.6, 52.5, 52.5], [5.5, 5.5, 5.4, 5.6])
    assert lat == pytest.approx(52.5, abs=1e-4) and lon == pytest.approx(5.5, abs=1e-9)


def _check_polygon(geojson: dict[str, object]) -> shapely.Polygon:
    assert geojson["type"] == "Polygon"
    rings = geojson["coordinates"]
    assert isinstance(rings, list) and len(rings) == 1
    ring = rings[0]
    assert ring[0] == ring[-1] and len(ring) >= 4
    assert all(round(v, 6) == v for position in ring for v in position)
    polygon = shapely.Polygon(ring)
    assert polygon.is_valid
    assert polygon.exterior.is_ccw
    return polygon


@settings(max_examples=60, deadline=None)
@given(st.lists(NL_POINT, min_size=1, max_size=15))
def test_hull_is_valid_ccw_polygon_containing_members(points: list[tuple[float, float]]) -> None:
    """The hull is a valid, closed, CCW [lon, lat] polygon that covers every member."""
    lats, lons = (np.array(c) for c in zip(*points, strict=True))
    polygon = _check_polygon(hull_geojson(lats, lons))
    members = shapely.points(np.round(lons, 6), np.round(lats, 6))
    assert polygon.buffer(1e-9).covers(members).all()


@pytest.mark.parametrize(
    ("lats", "lons"),
    [
        ([53.2], [6.5]),
        ([53.2, 53.2, 53.2], [6.5, 6.5, 6.5]),
        ([53.2, 53.0], [6.5, 6.6]),
        ([53.0, 53.1, 53.2], [6.0, 6.1, 6.2]),
    ],
)
def test_degenerate_groups_still_give_a_polygon(lats: list[float], lons: list[float]) -> None:
    """One point, duplicates, two points and collinear points are buffered into a valid polygon."""
    _check_polygon(hull_geojson(lats, lons))


def test_empty_group_raises() -> None:
    """Empty input is a ValueError, not an empty geometry."""
    with pytest.raises(ValueError):
        hull_geojson([], [])
    with pytest.raises(ValueError):
        diameter_km([], [])
