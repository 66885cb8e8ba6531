"""Exports a Dutch user can open: excel-nl CSV and a formatted groups.xlsx in their language."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from openpyxl.worksheet.worksheet import Worksheet

from app.services.spreadsheet import write_csv
from matching.sme.needs import need_by_code
from matching.sme.settings import RunSettings
from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import load_small, start_run

EN = {"Accept-Language": "en"}
EVIL = '=HYPERLINK("http://x");Fryslân'


@pytest.fixture
def run(client: TestClient, keys: dict[str, str]) -> dict[str, Any]:
    """A succeeded run of the small cohort, g01 renamed to a formula with a Frisian â."""
    load_small(client, keys["member"])
    r = client.patch("/api/v1/firms/g01", json={"name": EVIL}, headers=auth(keys["member"]))
    assert r.status_code == 200, r.text
    run_id = start_run(client, keys["member"], FAST)
    return {"id": run_id, "groups": groups(client, keys["viewer"], run_id)}


def test_groups_csv_excel_nl_dialect(
    client: TestClient, keys: dict[str, str], run: dict[str, Any]
) -> None:
    """?dialect=excel-nl: BOM, ';', every text field quoted, Dutch header, formulas neutralised,
    theme and needs by their label in the request's language (RFC 4180 keeps the codes)."""
    url = f"/api/v1/runs/{run['id']}/groups.csv"
    r = client.get(f"{url}?dialect=excel-nl", headers=auth(keys["member"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    data = r.content
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == ('"groep";"thema";"diameter_km";"id";"naam";"postcode";"gemeente";'
                        '"provincie";"sbi";"medewerkers";"behoeften"')  # fmt: skip
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert {len(row) for row in rows} == {11}
    placed = sum(len(g["members"]) for g in run["groups"])
    assert len(rows) == 1 + placed
    g01 = next(row for row in rows if row[3] == "g01")
    assert g01[4] == "'" + EVIL  # 'â' survives; the formula is text
    first = next(line for line in lines[1:] if '"g01"' not in line)
    fields = first.split(";")
    assert fields[0].isdigit() and fields[1].startswith('"') and fields[3].startswith('"')
    assert "," in fields[2] or fields[2].isdigit()  # a decimal comma, never a point
    assert all(not c.lstrip(' "').startswith(("=", "+", "-", "@")) for row in rows for c in row)
    themes = {g["theme"] for g in run["groups"]}
    assert {row[1] for row in rows[1:]} == {need_by_code(c).label_nl for c in themes}
    assert all("." not in need for row in rows[1:] for need in row[10].split("; "))  # labels
    english = client.get(f"{url}?dialect=excel-nl", headers={**auth(keys["member"]), **EN})
    english_rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig")), delimiter=";"))
    assert {row[1] for row in english_rows[1:]} == {need_by_code(c).label_en for c in themes}
    plain = client.get(url, headers={**auth(keys["member"]), **EN})
    plain_rows = list(csv.reader(io.StringIO(plain.text)))
    assert {row[1] for row in plain_rows[1:]} == themes  # RFC 4180 keeps the codes
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    assert plain.text.splitlines()[0].startswith("group_number,theme,diameter_km,external_id")
    dutch = client.get(url, headers=auth(keys["member"])).text.splitlines()[0]
    assert dutch.startswith("groep,thema,diameter_km,id,naam")  # RFC 4180, Dutch names
    bad = client.get(f"{url}?dialect=excel", headers=auth(keys["member"]))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_application_csv_excel_nl(
    client: TestClient, keys: dict[str, str], run: dict[str, Any]
) -> None:
    """The application pack CSV takes the same dialect."""
    number = run["groups"][0]["number"]
    url = f"/api/v1/runs/{run['id']}/groups/{number}/application.csv?dialect=excel-nl"
    r = client.get(url, headers={**auth(keys["viewer"]), **EN})
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert [row["external_id"] for row in rows] == members(run["groups"][0])


def test_write_csv_excel_nl_quotes_text_and_keeps_numbers_bare() -> None:
    """excel-nl: text (header too) quoted with doubled quotes, ints bare, floats with a comma."""
    text = write_csv(
        header=["a", "b", "c", "d"], rows=[['x "y"', 3, 12.5, None]], dialect="excel-nl"
    )
    assert text == '\ufeff"a";"b";"c";"d"\r\n"x ""y""";3;12,5;""\r\n'


def _header(sheet: Worksheet) -> list[Any]:
    return [c.value for c in sheet[1]]


def _assert_formatted(sheet: Worksheet) -> None:
    """Bold frozen header, autofilter over the data, widths fitted to the longest cell."""
    assert sheet.freeze_panes == "A2", sheet.title
    assert sheet.auto_filter.ref == sheet.dimensions, sheet.title
    assert all(c.font.bold for c in sheet[1]), sheet.title
    for column in sheet.iter_cols():
        longest = max(len(str(c.value)) for c in column if c.value is not None)
        width = sheet.column_dimensions[column[0].column_letter].width
        assert min(longest + 2, 60) == width, (sheet.title, column[0].value)


def test_groups_xlsx_in_dutch(
    client: TestClient, keys: dict[str, str], run: dict[str, Any]
) -> None:
    """Dutch sheets and headers, need labels, reasons in words, settings with profile version."""
    r = client.get(f"/api/v1/runs/{run['id']}/groups.xlsx", headers=auth(keys["member"]))
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    found = run["groups"]
    assert book.sheetnames == (["Overzicht"] + [f"Groep {g['number']}" for g in found]
                               + ["Niet ingedeeld", "Instellingen"])  # fmt: skip
    for sheet in book.worksheets:
        _assert_formatted(sheet)
    overview = list(book["Overzicht"].iter_rows(values_only=True))
    assert overview[0][:4] == ("Groep", "Status", "Thema", "Aantal bedrijven")
    first = found[0]
    assert overview[1][:4] == (
        first["number"],
        "voorgesteld",
        need_by_code(first["theme"]).label_nl,
        len(first["members"]),
    )
    assert overview[1][6] == first["explanation"]  # the Dutch explanation
    sheet = book[f"Groep {first['number']}"]
    assert _header(sheet)[:2] == ["Id", "Naam"] and _header(sheet)[-1] == "Behoeften"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == members(first)
    labels = {n.label_nl for m in first["members"] for n in map(need_by_code, m["needs"])}
    shown = {part for row in rows for part in str(row[-1]).split("; ")}
    assert shown == labels and not any("." in part for part in shown)  # labels, not codes
    left = list(book["Niet ingedeeld"].iter_rows(values_only=True))
    assert left[0] == ("Id", "Naam", "Postcode", "Gemeente", "Redencode", "Reden", "Uitleg",
                       "Niet voldaan aan")  # fmt: skip
    body = client.get(f"/api/v1/runs/{run['id']}/groups", headers=auth(keys["member"])).json()
    expected = {u["external_id"]: u["reason_label"] for u in body["unassigned"]}
    assert expected and {row[0]: row[5] for row in left[1:]} == expected
    assert all(row[6] and row[6].endswith(".") for row in left[1:])  # a sentence
    settings = {row[1]: row for row in book["Instellingen"].iter_rows(min_row=2, values_only=True)}
    assert _header(book["Instellingen"]) == ["Instelling", "Code", "Waarde"]
    assert settings["run_id"][2] == run["id"] and settings["profile_version"][0] == "Profielversie"
    assert "profile_id" in settings
    for name in set(RunSettings.__dataclass_fields__) - {"options"}:  # options: one row each
        assert name in settings, name
    assert "max_per_gemeente" in settings and settings["reach"][2] == "islands"
    assert settings["max_pair_km"][0] == "Hooguit km tussen twee bedrijven"
    assert settings["max_size"][2] == 5 and settings["filters"][0] == "Selectie van bedrijven"
    cells = [c for s in book.worksheets for row in s.iter_rows(values_only=True) for c in row
             if isinstance(c, str)]  # fmt: skip
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]


def test_groups_xlsx_in_english(
    client: TestClient, keys: dict[str, str], run: dict[str, Any]
) -> None:
    """Accept-Language: en gives English sheet names, headers, labels and statuses."""
    r = client.get(f"/api/v1/runs/{run['id']}/groups.xlsx", headers={**auth(keys["viewer"]), **EN})
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames[0] == "Overview" and book.sheetnames[-2:] == ["Unassigned", "Settings"]
    overview = list(book["Overview"].iter_rows(values_only=True))
    assert overview[0][:4] == ("Group", "Status", "Theme", "Firms")
    first = run["groups"][0]
    assert overview[1][1] == "proposed" and overview[1][2] == need_by_code(first["theme"]).label_en
    sheet = book[f"Group {first['number']}"]
    assert _header(sheet)[:3] == ["Id", "Name", "KvK number"]
    for sheet in book.worksheets:
        _assert_formatted(sheet)
