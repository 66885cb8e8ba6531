"""Tests for the bundled SBI 2008 list."""

import pytest

from matching.sme.sbi import (
    UnknownSbiCodeError,
    is_sbi_code,
    load_sbi,
    normalise_sbi,
    sbi_class,
    sbi_description,
    sbi_division,
    sbi_section,
    section_name,
)


def test_list_has_documented_counts() -> None:
    """The bundled list holds 1,427 codes (86 divisions) and 21 sections A-U."""
    index = load_sbi()
    assert len(index.descriptions) == 1427
    assert sum(len(c) == 2 for c in index.descriptions) == 86
    assert [s.letter for s in index.sections] == [chr(c) for c in range(ord("A"), ord("V"))]


def test_every_division_falls_in_one_section() -> None:
    """Each division in the list lies in exactly one section range."""
    index = load_sbi()
    for code in index.descriptions:
        if len(code) == 2:
            hits = [s for s in index.sections if s.first_division <= code <= s.last_division]
            assert len(hits) == 1, code


def test_codes_normalise_and_map_to_section() -> None:
    """'41.20' normalises to 4120: division 41, section F (Bouwnijverheid)."""
    assert normalise_sbi("41.20") == "4120"
    assert sbi_division("4120") == "41"
    assert sbi_class("43221") == "4322"
    assert sbi_section("4120") == "F"
    assert section_name("F") == "Bouwnijverheid"
    assert sbi_description("0111").startswith("Teelt van granen")
    assert sbi_section("01") == "A"


@pytest.mark.parametrize("bad", ["", "4", "9999", "41a0", "123456", "0500", "xx"])
def test_unknown_codes_raise(bad: str) -> None:
    """Malformed or unlisted codes raise UnknownSbiCodeError carrying the code."""
    with pytest.raises(UnknownSbiCodeError) as info:
        normalise_sbi(bad)
    assert info.value.code == bad
    assert not is_sbi_code(bad)
