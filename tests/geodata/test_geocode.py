"""Geocoding postcodes and locating coordinates on real data."""

from __future__ import annotations

import pytest

from geodata.errors import MalformedPostcodeError, OutsideNetherlandsError, UnknownPostcodeError
from geodata.geocode import geocode, locate
from geodata.postcodes import load_postcode_index


def test_groningen_city_postcode() -> None:
    """PC4 9711 is in gemeente Groningen, province Groningen, region Groningen."""
    location = geocode("9711")
    assert location.gemeente_code == "GM0014"
    assert location.gemeente_name == "Groningen"
    assert location.province == "Groningen"
    assert location.province_code == "PV20"
    assert location.labour_market_region == "Groningen"
    assert location.place == "Groningen"
    assert location.precision == "pc4"
    assert location.postcode == "9711"
    assert 53.1 < location.lat < 53.3 and 6.4 < location.lon < 6.7


def test_leeuwarden_postcode_is_in_fryslan() -> None:
    """PC4 8911 (Leeuwarden) is in province Fryslân (CBS spelling)."""
    location = geocode("8911")
    assert location.province == "Fryslân"
    assert location.gemeente_name == "Leeuwarden"


@pytest.mark.parametrize("text", ["9711ab", "9711 AB", " 9711aB", "9711  ab "])
def test_pc6_resolves_at_pc4_precision(text: str) -> None:
    """A PC6 in any spacing/case gives its PC4 centroid, precision 'pc4', canonical postcode."""
    location = geocode(text)
    assert location.postcode == "9711 AB"
    assert location.pc4 == "9711"
    assert location.precision == "pc4"
    assert (location.lat, location.lon) == (geocode("9711").lat, geocode("9711").lon)


def test_malformed_and_unknown_postcodes_raise() -> None:
    """Malformed text and unknown PC4s raise their own typed errors."""
    with pytest.raises(MalformedPostcodeError):
        geocode("97 1")
    with pytest.raises(UnknownPostcodeError) as caught:
        geocode("1000 AA")
    assert caught.value.postcode == "1000"


def test_locate_inside_netherlands() -> None:
    """A point in Assen locates to gemeente Assen, Drenthe, with coordinate precision."""
    location = locate(52.9939, 6.5625)
    assert location.gemeente_name == "Assen"
    assert location.province == "Drenthe"
    assert location.precision == "coordinates"
    assert location.postcode is None
    assert location.pc4.startswith("940")
    assert (location.lat, location.lon) == (52.9939, 6.5625)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(52.52, 13.40), (50.85, 4.35), (53.5, 4.0), (0.0, 0.0), (51.2, 6.5)],
)
def test_locate_outside_netherlands_raises(lat: float, lon: float) -> None:
    """Berlin, Brussels, the North Sea, (0, 0) and Germany near Venlo raise OutsideNetherlands."""
    with pytest.raises(OutsideNetherlandsError) as caught:
        locate(lat, lon)
    assert (caught.value.lat, caught.value.lon) == (lat, lon)


def test_locate_gives_coastal_points_to_the_nearest_gemeente() -> None:
    """Kornwerderzand's centroid (31 m off the simplified polygon) locates to Súdwest-Fryslân."""
    record = load_postcode_index().lookup("8752")
    assert locate(record.lat, record.lon).gemeente_name == "Súdwest-Fryslân"


def test_locate_agrees_with_the_pc4_table() -> None:
    """Point-in-polygon on the 4,086 PC4 centroids reproduces the table's gemeente for > 98.5 %."""
    outside, same = [], 0
    records = load_postcode_index().records()
    for record in records:
        try:
            same += locate(record.lat, record.lon).gemeente_code == record.gemeente_code
        except OutsideNetherlandsError:
            outside.append(record.pc4)
    assert outside == ["3062", "5114", "6431"]  # GeoNames centroids 1.4-4 km off the polygons
    assert same >= 0.985 * len(records)  # measured 4,045 of 4,086
