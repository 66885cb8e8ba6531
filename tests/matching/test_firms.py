"""Tests for Firm and the strict SMES.csv / pairs CSV readers."""

from pathlib import Path

import pytest

from matching.sme.columns import FIRM_ALIASES, ignored_columns
from matching.sme.firms import (
    Firm,
    InputFileError,
    InvalidFirmError,
    RowError,
    firms_to_csv,
    pairs_to_csv,
    read_firms_csv,
    read_pairs_csv,
)

DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = "external_id,name,postcode,sbi_code,employees,digital_level,needs"


def _errors(text: str) -> list[tuple[int, str]]:
    with pytest.raises(InputFileError) as info:
        read_firms_csv(text, source="x.csv")
    assert info.value.source == "x.csv"
    return [(e.row, e.field) for e in info.value.errors]


def test_reads_valid_file_and_geocodes() -> None:
    """A valid file yields one geocoded firm per row, needs in order, optional fields parsed."""
    firms = read_firms_csv((DATA / "smes_small.csv").read_text(encoding="utf-8"))
    assert len(firms) == 14
    first = firms[0]
    assert first.external_id == "g01" and first.postcode == "9711 AB"
    assert first.needs == ("train.vocational", "hr.recruitment")
    assert first.precision == "pc4" and first.kvk_number == "12345678"
    assert first.gemeente_name == "Groningen" and first.province == "Groningen"
    assert abs(first.lat - 53.2167) < 1e-3
    explicit = next(f for f in firms if f.external_id == "g12")
    assert explicit.precision == "coordinates" and explicit.lat == 53.2194
    assert next(f for f in firms if f.external_id == "f01").weight == 3


def test_every_bad_row_is_reported_with_row_and_field() -> None:
    """All bad rows are collected at once, each naming its 1-based data row and column."""
    assert _errors((DATA / "smes_bad.csv").read_text(encoding="utf-8")) == [
        (2, "needs"),  # unknown need code
        (3, "postcode"),  # malformed
        (4, "postcode"),  # unknown PC4
        (5, "lat"),  # outside NL
        (6, "employees"),  # negative
        (7, "digital_level"),  # 5
        (8, "external_id"),  # duplicate
        (9, "kvk_number"),  # not 8 digits
        (10, "sbi_code"),  # unknown SBI
        (11, "needs"),  # empty
        (12, "lon"),  # lat without lon
    ]


def test_missing_column_is_a_header_error_and_unknown_columns_are_skipped() -> None:
    """A missing required column is row 0; columns kring does not use (plaats) are not."""
    text = "external_id,name,postcode,sbi_code,employees,needs,colour\nx,X,9711,4120,3,dig.ai,red\n"
    assert _errors(text) == [(0, "digital_level")]
    header = "lidnummer,naam,plaats,postcode,sbi,medewerkers,digitaal_niveau,behoeften,adres"
    text = f"{header}\nx,X,Groningen,9711,4120,3,2,dig.ai,Markt 1\n"
    assert [f.external_id for f in read_firms_csv(text)] == ["x"]
    assert ignored_columns(header.split(","), FIRM_ALIASES) == ["plaats", "adres"]
    assert _errors(f"{HEADER},Naam\nx,X,9711,4120,3,2,dig.ai,Y\n") == [(0, "name")]


def test_row_errors_carry_a_catalogue_text_said_in_dutch_or_english() -> None:
    """Row errors name row and column as written and read in Dutch or English (code kept)."""
    header = "id,naam,postcode,sbi,medewerkers,digitaal_niveau,behoeften"
    text = f"{header}\nx,A,0000 AA,4120,veel,2,xx\nx,B,9711,4120,3,2,dig.ai\n"
    with pytest.raises(InputFileError) as info:
        read_firms_csv(text)
    said = {(e.row, e.field): (e.where("nl"), e.where("en")) for e in info.value.errors}
    assert said[(1, "postcode")] == (
        "rij 1, kolom postcode: ongeldige postcode '0000 AA': "
        "een Nederlandse postcode begint nooit met 0",
        "row 1, column postcode: malformed postcode '0000 AA': "
        "a Dutch postcode never starts with 0",
    )
    assert said[(1, "medewerkers")][0].endswith("'veel' is geen geheel getal van 0 of meer")
    assert said[(1, "behoeften")][0].startswith("rij 1, kolom behoeften: onbekende behoefte: xx")
    assert said[(2, "id")][0] == "rij 2, kolom id: 'x' komt dubbel voor (eerst op rij 1)"
    missing = read_error("external_id,name\x00\n")
    assert missing.to_dict("nl")["message"] == "verplichte kolom ontbreekt"
    english = {"row": 0, "field": "name", "message": "missing required column"}
    assert missing.to_dict("en") == {**english, "code": "import.column.missing"}
    assert str(missing) == "header, column name: missing required column"


def read_error(text: str) -> RowError:
    with pytest.raises(InputFileError) as info:
        read_firms_csv(text)
    return info.value.errors[0]


def test_semicolon_separated_file_is_read() -> None:
    """A ';'-separated export (Dutch Excel) is read like the comma-separated one."""
    text = f"{HEADER}\nx1,A,9711,4120,3,2,dig.ai\n"
    assert read_firms_csv(text.replace(",", ";")) == read_firms_csv(text)


def test_blank_lines_keep_row_numbers() -> None:
    """Blank lines are skipped but still count, so row numbers match the file."""
    text = f"{HEADER}\nx1,A,9711,4120,3,2,dig.ai\n\nx2,B,9711,4120,abc,2,dig.ai\n"
    assert _errors(text) == [(3, "employees")]


def test_repeated_need_and_bom_and_pc6() -> None:
    """A BOM is tolerated; a need listed twice is an error on the needs column."""
    text = f"\ufeff{HEADER}\nx1,A,9711ab,4120,3,2,dig.ai;dig.ai\n"
    assert _errors(text) == [(1, "needs")]
    ok = read_firms_csv(f"\ufeff{HEADER}\nx1,A,9711ab,41.20,3,2, dig.ai ; dig.data\n")
    assert ok[0].postcode == "9711 AB" and ok[0].sbi_code == "4120"
    assert ok[0].needs == ("dig.ai", "dig.data")


def test_csv_round_trip() -> None:
    """firms_to_csv writes a file read_firms_csv reads back to equal firms."""
    firms = read_firms_csv((DATA / "smes_small.csv").read_text(encoding="utf-8"))
    again = read_firms_csv(firms_to_csv(firms, coordinates=True))
    assert [f.needs for f in again] == [f.needs for f in firms]
    assert [(f.lat, f.lon) for f in again] == [(f.lat, f.lon) for f in firms]
    assert [f.kvk_number for f in again] == [f.kvk_number for f in firms]


def test_pairs_reader_validates_and_deduplicates() -> None:
    """Pairs: repeats in either orientation dropped; self-pairs and unknown ids reported."""
    text = "sme_a,sme_b\na,b\nb,a\nc,c\na,zz\n,b\n"
    with pytest.raises(InputFileError) as info:
        read_pairs_csv(text, source="c.csv", known_ids={"a", "b", "c"})
    assert [(e.row, e.field) for e in info.value.errors] == [
        (3, "sme_b"),
        (4, "sme_b"),
        (5, "sme_a"),
    ]
    pairs = read_pairs_csv("sme_a,sme_b\na,b\nb,a\n", source="c.csv")
    assert pairs == [("a", "b")]
    assert read_pairs_csv(pairs_to_csv(pairs), source="c.csv") == pairs


def test_pairs_reader_requires_columns() -> None:
    """A pairs file without sme_b is a header error naming the column (others skipped)."""
    with pytest.raises(InputFileError) as info:
        read_pairs_csv("sme_a,other\na,b\n", source="p.csv")
    assert [(e.row, e.field) for e in info.value.errors] == [(0, "sme_b")]


def test_firm_validates_itself() -> None:
    """Constructing a Firm with an impossible value raises InvalidFirmError naming the field."""
    base = dict(external_id="a", name="A", postcode="9711", sbi_code="4120", employees=3,
                digital_level=2, needs=("dig.ai",), lat=53.2, lon=6.5)  # fmt: skip
    assert Firm(**base).division == "41"  # type: ignore[arg-type]
    for field, value in [("digital_level", 0), ("needs", ()), ("needs", ("x.y",)),
                         ("employees", -1), ("kvk_number", "123")]:  # fmt: skip
        with pytest.raises(InvalidFirmError) as info:
            Firm(**{**base, field: value})  # type: ignore[arg-type]
        assert info.value.field == field
