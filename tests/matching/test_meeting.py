"""Tests for a group's meeting place: the PC4 centroid with the smallest total travel."""

import math

import numpy as np
import pytest

from geodata.distance import haversine_km
from geodata.postcodes import load_postcode_index
from matching.sme.meeting import MeetingPlace, MeetingPlaces, meeting_place, meeting_places


def _random_group(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """10-15 firms near PC4 centroids within 25 km of a random PC4, jittered off them."""
    mp = meeting_places()
    centre = rng.integers(mp.lat.size)
    near = np.flatnonzero(haversine_km(mp.lat[centre], mp.lon[centre], mp.lat, mp.lon) <= 25)
    k = int(rng.integers(10, 16))
    pick = rng.choice(near, k)
    lats = mp.lat[pick] + rng.normal(0, 0.01, k)
    lons = mp.lon[pick] + rng.normal(0, 0.015, k)
    return lats, lons, [mp.pc4[i] for i in pick]


def test_chosen_place_minimises_total_travel_among_the_candidates() -> None:
    """Brute force over every candidate (and over all PC4s) finds no smaller total travel."""
    mp = meeting_places()
    rng = np.random.default_rng(16)
    for _ in range(40):
        lats, lons, codes = _random_group(rng)
        found = mp.find(lats, lons, codes)
        assert found is not None
        rows = mp.candidates(lats, lons, codes)
        assert {mp._row[c] for c in codes} <= set(rows.tolist())  # the members' own PC4s
        totals = [float(np.sum(haversine_km(lats, lons, mp.lat[r], mp.lon[r]))) for r in rows]
        assert found.mean_km * len(lats) == pytest.approx(min(totals), abs=1e-9)
        assert found.postcode == mp.pc4[rows[int(np.argmin(totals))]]
        everywhere = haversine_km(lats[:, None], lons[:, None], mp.lat, mp.lon).sum(axis=0)
        assert found.mean_km * len(lats) <= float(everywhere.min()) + 1e-9


def test_candidates_are_the_pc4s_in_the_bounding_box_with_margin() -> None:
    """Every PC4 centroid inside the widened box is a candidate, none far outside it."""
    mp = meeting_places()
    lats, lons, _ = _random_group(np.random.default_rng(3))
    rows = set(mp.candidates(lats, lons).tolist())
    m_lat = mp.margin_km / 111.2
    m_lon = mp.margin_km / (111.2 * math.cos(math.radians(lats.max() + m_lat)))
    inside = np.flatnonzero(
        (mp.lat >= lats.min() - m_lat) & (mp.lat <= lats.max() + m_lat)
        & (mp.lon >= lons.min() - m_lon) & (mp.lon <= lons.max() + m_lon)
    )  # fmt: skip
    assert set(inside.tolist()) == rows


def test_mean_and_largest_distance_are_the_members_haversine_to_the_place() -> None:
    """mean_km and max_km are the mean and maximum of haversine_km to the chosen centroid."""
    lats, lons, codes = _random_group(np.random.default_rng(5))
    found = meeting_place(lats, lons, codes)
    assert found is not None
    km = haversine_km(lats, lons, found.lat, found.lon)
    assert found.mean_km == pytest.approx(float(np.mean(km)))
    assert found.max_km == pytest.approx(float(np.max(km)))
    record = load_postcode_index().lookup(found.postcode)
    assert (found.place, found.lat, found.lon) == (record.place, record.lat, record.lon)


def test_a_group_in_one_town_meets_in_that_town() -> None:
    """Five firms in Drachten (9201-9203) meet in Drachten, a few km from each."""
    index = load_postcode_index()
    codes = ["9201", "9201", "9202", "9203", "9202 AB"]
    lats = [index.lookup(c[:4]).lat for c in codes]
    lons = [index.lookup(c[:4]).lon for c in codes]
    found = meeting_place(lats, lons, codes)
    assert found is not None
    assert found.place == "Drachten" and found.postcode in {"9201", "9202", "9203"}
    assert found.max_km < 5


def test_one_firm_meets_at_its_own_pc4() -> None:
    """A single firm at a PC4 centroid meets there, 0 km away."""
    record = load_postcode_index().lookup("9711")
    found = meeting_place([record.lat], [record.lon], ["9711"])
    assert found == MeetingPlace(record.place, "9711", record.lat, record.lon, 0.0, 0.0)


def test_no_coordinates_no_meeting_place() -> None:
    """Without any finite coordinates there is no meeting place; NaN members are left out."""
    assert meeting_place([], []) is None
    assert meeting_place([math.nan, math.nan], [6.5, math.nan]) is None
    record = load_postcode_index().lookup("9711")
    found = meeting_place([math.nan, record.lat], [6.0, record.lon], ["8911", "9711"])
    assert found is not None and found.postcode == "9711" and found.max_km == 0.0


def test_far_from_every_pc4_the_nearest_pc4_is_named() -> None:
    """A point in the North Sea without postcode meets at the PC4 nearest to it."""
    mp = meeting_places()
    found = mp.find([53.9], [4.5])
    assert found is not None
    nearest = int(np.argmin(haversine_km(53.9, 4.5, mp.lat, mp.lon)))
    assert found.postcode == mp.pc4[nearest]


def test_to_dict_rounds_km_to_a_tenth() -> None:
    """to_dict gives the documented keys, km to 0.1 and coordinates to 6 decimals."""
    place = MeetingPlace("Drachten", "9201", 53.1139, 6.0951, 12.345, 31.04)
    assert place.to_dict() == {"place": "Drachten", "postcode": "9201", "lat": 53.1139,
                               "lon": 6.0951, "mean_km": 12.3, "max_km": 31.0}  # fmt: skip


def test_margin_is_validated() -> None:
    """A negative margin is refused."""
    with pytest.raises(ValueError, match="margin_km"):
        MeetingPlaces(load_postcode_index(), margin_km=-1.0)
