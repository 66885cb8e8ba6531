"""Postcode normalisation and the bundled PC4 table."""

from __future__ import annotations

import pytest

from geodata._sources import data_path
from geodata.build import build_tables
from geodata.errors import MalformedPostcodeError, UnknownPostcodeError
from geodata.postcodes import display_postcode, load_postcode_index, normalise_postcode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9711ab", ("9711", "pc6")),
        ("9711 AB", ("9711", "pc6")),
        (" 9711  aB ", ("9711", "pc6")),
        ("9711\tAB", ("9711", "pc6")),
        (" 9711 ", ("9711", "pc4")),
        ("8911", ("8911", "pc4")),
    ],
)
def test_normalise_accepts_any_spacing_and_case(text: str, expected: tuple[str, str]) -> None:
    """PC4 and PC6 normalise to the PC4 whatever the spacing and letter case."""
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "971", "97111", "9711A", "9711ABC", "0711 AB", "AB9711", "97-11", "9711 1B"]
)
def test_normalise_rejects_malformed(text: str) -> None:
    """Anything that is not 4 digits (not starting with 0) plus optional 2 letters is malformed."""
    with pytest.raises(MalformedPostcodeError) as caught:
        normalise_postcode(text)
    assert caught.value.postcode == text
    assert caught.value.reason


def test_display_postcode_is_canonical() -> None:
    """PC6 is shown as '9711 AB', PC4 as '9711'."""
    assert display_postcode(" 9711ab") == "9711 AB"
    assert display_postcode("9711 ") == "9711"


def test_index_has_every_distinct_pc4_once() -> None:
    """The index holds the 4,086 distinct PC4s of the GeoNames file, sorted."""
    records = load_postcode_index().records()
    pc4s = [r.pc4 for r in records]
    assert len(pc4s) == 4086
    assert pc4s == sorted(set(pc4s))


def test_unknown_pc4_raises_typed_error() -> None:
    """A well-formed PC4 missing from the data raises UnknownPostcodeError naming it."""
    with pytest.raises(UnknownPostcodeError) as caught:
        load_postcode_index().lookup("1000")
    assert caught.value.postcode == "1000"


def test_every_pc4_has_province_and_region() -> None:
    """Every PC4 resolves to a CBS province (PV..) and labour-market region (AM..)."""
    for record in load_postcode_index().records():
        assert record.province_code.startswith("PV") and record.province
        assert record.labour_market_region_code.startswith("AM") and record.labour_market_region
        assert record.gemeente_code.startswith("GM") and record.gemeente_name


def test_voorne_aan_zee_rows_filled_by_polygon() -> None:
    """PC4 3221-3238 (no admin codes in GeoNames) land in GM1992 Voorne aan Zee, Zuid-Holland."""
    index = load_postcode_index()
    records = [r for r in index.records() if "3221" <= r.pc4 <= "3238"]
    assert len(records) == 13
    assert {r.gemeente_code for r in records} == {"GM1992"}
    assert {r.province for r in records} == {"Zuid-Holland"}


def test_shipped_tables_equal_fresh_build() -> None:
    """geodata/data/pc4.csv and gemeente.csv equal a regeneration from the raw sources."""
    for name, text in build_tables().items():
        assert data_path(name).read_text(encoding="utf-8") == text, name


def test_every_cbs_gemeente_has_a_pc4() -> None:
    """All 342 CBS 2025 gemeenten own at least one PC4 (locate names the nearest of them)."""
    from geodata._sources import areas

    owned = {record.gemeente_code for record in load_postcode_index().records()}
    assert owned == set(areas("gemeente").codes)
