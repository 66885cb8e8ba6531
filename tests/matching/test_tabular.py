"""Reading firm files as Dutch users have them: `;` CSV, cp1252, BOM, .xlsx, Dutch headers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from app.cli import app as cli
from matching.sme.firms import (
    Firm,
    InputFileError,
    read_firms_csv,
    read_firms_rows,
    read_pairs_rows,
)
from matching.sme.tabular import ReadAs, cell_text, read_table
from matching.sme.template import template_csv, template_xlsx

DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = ["external_id", "name", "postcode", "sbi_code", "employees", "digital_level", "needs",
          "kvk_number"]  # fmt: skip
ROWS = [
    ["f1", "Café De Brug", "8911 BC", "1071", "12", "2", "dig.cybersecurity;hr.recruitment",
     "12345678"],
    ["f2", "Fryslân Techniek", "8911", "4321", "25", "3", "train.vocational", ""],
    ["f3", "Bakkerij 't Hoekje", "9711", "0111", "4", "1", "dig.ai", "01234567"],
]  # fmt: skip


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _xlsx(rows: list[list[object]], title: str = "Leden", extra: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if extra is not None:  # an unrelated first sheet
        sheet.title = extra
        sheet.append(["notes"])
        sheet = book.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _typed(row: list[str]) -> list[object]:
    """A row as Excel holds it when typed: employees and level as numbers, postcode 8911 too."""
    values: list[object] = list(row)
    values[4], values[5] = int(row[4]), int(row[5])
    if row[2].isdigit():
        values[2] = float(row[2])  # a PC4 typed into a general cell: 8911.0
    return values


def _firms(data: bytes, **kwargs: object) -> tuple[list[Firm], ReadAs]:
    table = read_table(data, source="f", **kwargs)  # type: ignore[arg-type]
    return read_firms_rows(table.rows, source="f"), table.read_as


def test_excel_nl_cp1252_semicolon_bom_and_xlsx_read_like_the_plain_csv() -> None:
    """cp1252 + ';' + BOM, UTF-8 ';', and an openpyxl-written xlsx give the plain CSV's firms."""
    plain, how = _firms(_csv([HEADER, *ROWS]).encode())
    assert how == ReadAs("csv", "utf-8", ",")
    excel_nl = b"\xef\xbb\xbf" + _csv([HEADER, *ROWS], ";").encode("cp1252")
    assert _firms(excel_nl) == (plain, ReadAs("csv", "cp1252", ";"))
    utf8_semicolon = _csv([HEADER, *ROWS], ";").encode("utf-8-sig")
    assert _firms(utf8_semicolon) == (plain, ReadAs("csv", "utf-8", ";"))
    workbook = _xlsx([HEADER, *[_typed(r) for r in ROWS]])
    assert _firms(workbook) == (plain, ReadAs("xlsx", sheet="Leden"))
    assert [f.name for f in plain] == ["Café De Brug", "Fryslân Techniek", "Bakkerij 't Hoekje"]
    assert plain[2].sbi_code == "0111" and plain[2].kvk_number == "01234567"


def test_dutch_headers_any_case_and_needs_by_label() -> None:
    """naam/sbi/medewerkers/digitaal niveau/behoeften/KvK-nummer and need labels resolve."""
    header = ["ID", "Naam", "Postcode", "SBI", "Medewerkers", "Digitaal niveau", "behoeften",
              "KvK-nummer"]  # fmt: skip
    needs = "Cyberveiligheid en digitale weerbaarheid; DIG.BASICS ;recruitment AND vacancies"
    text = _csv([header, ["f1", "A", "8911", "1071", "3", "2", needs, "12345678"]], ";")
    (firm,) = read_firms_csv(text)
    assert firm.needs == ("dig.cybersecurity", "dig.basics", "hr.recruitment")
    assert (firm.employees, firm.digital_level, firm.kvk_number) == (3, 2, "12345678")


def test_errors_name_the_column_as_written_and_the_row() -> None:
    """A bad cell under a Dutch header is reported with its row and that header."""
    header = ["id", "naam", "postcode", "sbi", "medewerkers", "digitaal_niveau", "behoeften"]
    rows = [header, ["f1", "A", "8911", "1071", 3, 2, "dig.ai"],
            ["f2", "B", "0000 AA", "1071", "veel", 2, "geen idee"]]  # fmt: skip
    with pytest.raises(InputFileError) as info:
        _firms(_xlsx(rows))
    assert {(e.row, e.field) for e in info.value.errors} == {
        (2, "postcode"),
        (2, "medewerkers"),
        (2, "behoeften"),
    }
    assert "geen idee" in str(info.value)


def test_sheet_by_name_and_unknown_sheet() -> None:
    """?sheet= picks a sheet; a missing one names the sheets the workbook has."""
    data = _xlsx([HEADER, *[_typed(r) for r in ROWS]], title="Leden", extra="Uitleg")
    firms, how = _firms(data, sheet="Leden")
    assert len(firms) == 3 and how.sheet == "Leden"
    with pytest.raises(InputFileError, match="Uitleg") as info:
        read_table(data, sheet="Bedrijven")
    assert (info.value.errors[0].row, info.value.errors[0].field) == (0, "sheet")


def test_empty_and_header_only_files_say_so() -> None:
    """An empty file says it is empty (not 7 missing columns); a header alone says no rows."""
    for data in (b"", b"\xef\xbb\xbf\r\n", _xlsx([])):
        with pytest.raises(InputFileError) as info:
            _firms(data)
        assert [(e.row, e.field) for e in info.value.errors] == [(0, "file")]
        assert "empty" in info.value.errors[0].message
    for data in (_csv([HEADER]).encode(), _xlsx([HEADER])):
        with pytest.raises(InputFileError, match="only a header row") as info:
            _firms(data)
        assert len(info.value.errors) == 1
    with pytest.raises(InputFileError, match="alleen een kopregel"):
        read_table(_csv([HEADER], ";").encode(), require_rows=True, lang="nl")
    with pytest.raises(InputFileError, match="leeg"):
        read_table(b"  \n", lang="nl")


def test_undecodable_text_and_old_xls_give_advice() -> None:
    """Bytes that are no known text and a pre-2007 .xls name what to save the file as."""
    with pytest.raises(InputFileError, match="CSV UTF-8"):
        read_table(b"external_id\n\x81\x8d\n")
    with pytest.raises(InputFileError, match="xlsx"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)


def test_workbook_cells_read_as_csv_text() -> None:
    """Whole floats lose '.0', None is empty, booleans are words (postcodes, SBI, KvK)."""
    assert [cell_text(v) for v in (9711.0, 4120, None, 1.5, True, " x ")] == [
        "9711", "4120", "", "1.5", "true", "x"
    ]  # fmt: skip


def test_pairs_in_semicolon_csv_and_xlsx() -> None:
    """Competitor pairs read from a ';' cp1252 file and from a workbook alike."""
    rows = [["bedrijf_a", "bedrijf_b"], ["f1", "f2"], ["f2", "f3"]]
    for data in (_csv(rows, ";").encode("cp1252"), _xlsx(rows)):
        table = read_table(data)
        assert read_pairs_rows(table.rows, source="c") == [("f1", "f2"), ("f2", "f3")]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_templates_filled_in_import(lang: str) -> None:
    """The CSV and xlsx templates (example row as shipped) import as one firm."""
    for data in (template_csv(lang), template_xlsx(lang)):
        firms, _ = _firms(data)
        assert [f.external_id for f in firms] == ["lid-001"]
        assert firms[0].needs == ("dig.cybersecurity", "hr.recruitment")
    assert read_table(template_csv("nl")).read_as == ReadAs("csv", "utf-8", ";")


def test_kring_solve_reads_excel_nl_csv_and_says_header_only(tmp_path: Path) -> None:
    """`kring solve` on a cp1252 ';' BOM file writes groups; a header-only file exits 2."""
    rows = list(csv.reader(io.StringIO((DATA / "smes_small.csv").read_text(encoding="utf-8"))))
    smes = tmp_path / "leden.csv"
    smes.write_bytes(b"\xef\xbb\xbf" + _csv(rows, ";").replace("Bakker", "Bäkker").encode("cp1252"))
    out = tmp_path / "out.json"
    args = ["solve", str(smes), "--out", str(out), "--time-limit", "1", "--min-size", "3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["groups"]) >= 1
    smes.write_bytes(_csv(rows[:1], ";").encode("cp1252"))
    result = CliRunner().invoke(cli, ["solve", str(smes), "--out", str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert "het bestand heeft alleen een kopregel en geen rijen" in result.output


def test_broken_workbooks_and_row_limits_are_file_errors() -> None:
    """A corrupt zip is a file error, not a crash; more rows than max_rows stop the read."""
    for junk in (b"PK\x03\x04" + b"\0" * 64, _xlsx([HEADER])[:-200]):
        with pytest.raises(InputFileError, match="xlsx") as info:
            read_table(junk)
        assert info.value.errors[0].field == "file"
    many = [HEADER, *[[f"x{i}", *ROWS[0][1:]] for i in range(6)]]
    for data in (_xlsx(many), _csv(many, ";").encode()):
        assert len(read_table(data, max_rows=6).rows) == 7
        with pytest.raises(InputFileError, match="more than 5 rows") as info:
            read_table(data, max_rows=5)
        assert info.value.errors[0].field == "rows"


def test_excel_unicode_text_utf16_tab_separated() -> None:
    """Excel's 'Unicode text' (UTF-16 with BOM, tab-separated) reads like the plain CSV."""
    plain, _ = _firms(_csv([HEADER, *ROWS]).encode())
    data = _csv([HEADER, *ROWS], "\t").encode("utf-16")
    assert _firms(data) == (plain, ReadAs("csv", "utf-16", "\t"))
