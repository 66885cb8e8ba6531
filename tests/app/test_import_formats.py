"""POST /firms/import reads Excel files as Dutch users have them; the templates round-trip."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from bench.loadtest import Server, free_port
from tests.app.conftest import DATA, auth, issue_key, make_settings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELDS = ("external_id", "name", "postcode", "sbi_code", "employees", "digital_level", "needs",
          "lat", "lon", "kvk_number", "weight", "gemeente_name", "province")  # fmt: skip


def _rows() -> list[list[str]]:
    rows = list(csv.reader(io.StringIO((DATA / "smes_small.csv").read_text(encoding="utf-8"))))
    rows[1][1], rows[2][1] = "Café De Brug", "Fryslân Techniek"  # cp1252 characters
    return rows


def _csv(rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _xlsx(rows: list[list[Any]], title: str = "Blad1") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        # numbers as Excel holds them; SBI codes stay text, as the template formats them
        sheet.append([int(c) if c.isdigit() and c[0] != "0" and len(c) < 8 else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _stored(client: TestClient, key: str) -> list[dict[str, Any]]:
    items = client.get("/api/v1/firms?limit=1000", headers=auth(key)).json()["items"]
    return sorted(({f: i[f] for f in FIELDS} for i in items), key=lambda i: i["external_id"])


def _upload(client: TestClient, key: str, name: str, data: bytes, **params: str) -> Any:
    return client.post(
        "/api/v1/firms/import", params=params, files={"file": (name, data)}, headers=auth(key)
    )


def test_excel_nl_csv_and_xlsx_store_the_same_firms_as_the_plain_csv(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Plain CSV, cp1252 ';' CSV with BOM, UTF-8 ';' CSV and an xlsx give identical firms."""
    rows, key = _rows(), keys["member"]
    plain = _upload(client, key, "s.csv", _csv(rows, ",").encode())
    assert plain.status_code == 200, plain.text
    assert plain.json()["read_as"] == {
        "format": "csv", "encoding": "utf-8", "delimiter": ",", "sheet": None
    }  # fmt: skip
    expected = _stored(client, key)
    assert {"Café De Brug", "Fryslân Techniek"} <= {f["name"] for f in expected}
    uploads = [
        ("nl.csv", b"\xef\xbb\xbf" + _csv(rows, ";").encode("cp1252"), "cp1252", ";"),
        ("utf8.csv", _csv(rows, ";").encode("utf-8"), "utf-8", ";"),
        ("leden.xlsx", _xlsx(rows), None, None),
    ]
    for name, data, encoding, delimiter in uploads:
        r = _upload(client, key, name, data)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["updated"] == len(rows) - 1 and r.json()["created"] == 0
        how = r.json()["read_as"]
        assert (how["encoding"], how["delimiter"]) == (encoding, delimiter)
        assert _stored(client, key) == expected, name
    assert how == {"format": "xlsx", "encoding": None, "delimiter": None, "sheet": "Blad1"}


def test_xlsx_sheet_parameter_and_bad_cell_row_and_column(
    client: TestClient, keys: dict[str, str]
) -> None:
    """?sheet= picks the sheet; a bad cell in an xlsx is a 422 naming row and Dutch column."""
    header = ["id", "naam", "postcode", "sbi", "medewerkers", "digitaal_niveau", "behoeften"]
    good = ["a1", "A", "9711", "4120", "3", "2", "Cyberveiligheid en digitale weerbaarheid"]
    bad = ["a2", "B", "9711", "4120", "3", "9", "DIG.BASICS"]
    book = load_workbook(io.BytesIO(_xlsx([["uitleg"]], title="Uitleg")))
    for title, rows in (("Leden", [header, good]), ("Fout", [header, good, bad])):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    key = keys["member"]
    r = _upload(client, key, "leden.xlsx", out.getvalue(), sheet="Leden")
    assert r.status_code == 200, r.text
    assert r.json()["read_as"]["sheet"] == "Leden"
    assert _stored(client, key)[0]["needs"] == ["dig.cybersecurity"]
    r = _upload(client, key, "leden.xlsx", out.getvalue(), sheet="Fout")
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(2, "digitaal_niveau")]
    r = _upload(client, key, "leden.xlsx", out.getvalue(), sheet="Nergens")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sheet"


def test_empty_and_header_only_uploads_say_so(client: TestClient, keys: dict[str, str]) -> None:
    """An empty file says it is empty and a header-only file that it has no rows (nl, en)."""
    key, header = keys["member"], _csv(_rows()[:1], ";").encode()
    for data, lang, words in (
        (b"", "nl", "het bestand is leeg"),
        (header, "nl", "het bestand heeft alleen een kopregel en geen rijen"),
        (header, "en", "the file has only a header row and no rows"),
    ):
        r = client.post(
            "/api/v1/firms/import",
            files={"file": ("s.csv", data)},
            headers={**auth(key), "Accept-Language": lang},
        )
        assert r.status_code == 422
        assert [{k: e[k] for k in ("row", "field", "message")} for e in r.json()["errors"]] == [
            {"row": 0, "field": "file", "message": words}
        ]
    assert _stored(client, key) == []


def test_templates_download_and_import_after_filling_in(
    client: TestClient, keys: dict[str, str]
) -> None:
    """template.xlsx/.csv: Dutch by default, English on request; filled in, they import."""
    h = auth(keys["viewer"])
    r = client.get("/api/v1/firms/template.xlsx", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Bedrijven", "Behoeften", "Kolommen"]
    firms, needs = book["Bedrijven"], book["Behoeften"]
    assert [c.value for c in firms[1]][:7] == [
        "id", "naam", "postcode", "sbi", "medewerkers", "digitaal_niveau", "behoeften"
    ]  # fmt: skip
    assert firms["A1"].font.b and firms.freeze_panes == "A2"
    codes = [row[0] for row in needs.iter_rows(min_row=2, values_only=True)]
    assert len(codes) == len(client.get("/api/v1/needs", headers=h).json()["items"])
    english = client.get("/api/v1/firms/template.xlsx?lang=en", headers=h)
    assert load_workbook(io.BytesIO(english.content)).sheetnames[0] == "Firms"
    r = client.get("/api/v1/firms/template.csv", headers={**h, "Accept-Language": "en"})
    assert r.text.startswith("external_id,name,postcode")
    assert client.get("/api/v1/firms/template.xlsx").status_code == 401
    firms["A2"], firms["B2"] = "mijn-1", "Fietsenmaker Fryslân"  # fill the example row in
    out = io.BytesIO()
    book.save(out)
    member = keys["member"]
    r = _upload(client, member, "bedrijven.xlsx", out.getvalue())
    assert r.status_code == 200, r.text
    assert r.json()["external_ids"] == ["mijn-1"]
    csv_template = client.get("/api/v1/firms/template.csv", headers=h).content
    assert csv_template.startswith(b"\xef\xbb\xbfid;naam;")
    r = _upload(client, member, "bedrijven.csv", csv_template)
    assert r.status_code == 200 and r.json()["read_as"]["delimiter"] == ";"
    assert {f["external_id"] for f in _stored(client, member)} == {"mijn-1", "lid-001"}


def test_pair_uploads_read_semicolon_cp1252_and_xlsx(
    client: TestClient, keys: dict[str, str]
) -> None:
    """/competitors takes a ';' cp1252 CSV with Dutch headers and /partners an xlsx."""
    key = keys["member"]
    assert _upload(client, key, "s.csv", _csv(_rows(), ",").encode()).status_code == 200
    pairs = [["bedrijf_a", "bedrijf_b"], ["g01", "g02"], ["g03", "g04"]]
    for path, name, data in (
        ("competitors", "c.csv", b"\xef\xbb\xbf" + _csv(pairs, ";").encode("cp1252")),
        ("partners", "p.xlsx", _xlsx(pairs)),
    ):
        r = client.post(f"/api/v1/{path}", files={"file": (name, data)}, headers=auth(key))
        assert r.status_code == 200, r.text
        assert r.json() == {"created": 2, "existing": 0}


@pytest.mark.slow
def test_xlsx_and_excel_nl_csv_through_the_import_process(tmp_path: Path) -> None:
    """With the production executor (files read in the import process) an xlsx and a cp1252
    ';' CSV import and answer read_as; an empty file and a bad cell are 422s in Dutch."""
    settings = make_settings(tmp_path / "p.db")
    upgrade(settings)
    key = issue_key(settings, "a", Role.member)
    dispose_engine(settings.database_url)
    env = {**os.environ, "KRING_DATABASE_URL": settings.database_url, "KRING_EXECUTOR": "process",
           "KRING_API_KEY_PEPPER": "test-pepper", "KRING_LOG_LEVEL": "WARNING"}  # fmt: skip
    rows = _rows()
    bad = [r[:] for r in rows]
    bad[3][5] = "7"  # digital_level of data row 3
    server = Server(env, free_port(), tmp_path / "server.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base, headers=auth(key), timeout=120) as c:
            r = c.post("/api/v1/firms/import", files={"file": ("b.xlsx", _xlsx(bad))})
            assert r.status_code == 422, r.text[:300]
            assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "digital_level")]
            r = c.post("/api/v1/firms/import", files={"file": ("e.csv", b"")})
            assert r.status_code == 422
            assert r.json()["errors"][0]["message"] == "het bestand is leeg"
            r = c.post("/api/v1/firms/import", files={"file": ("l.xlsx", _xlsx(rows))})
            assert r.status_code == 200 and r.json()["created"] == len(rows) - 1, r.text[:300]
            assert r.json()["read_as"]["sheet"] == "Blad1"
            nl = b"\xef\xbb\xbf" + _csv(rows, ";").encode("cp1252")
            r = c.post("/api/v1/firms/import", files={"file": ("nl.csv", nl)})
            assert r.status_code == 200 and r.json()["updated"] == len(rows) - 1, r.text[:300]
            assert r.json()["read_as"] == {
                "format": "csv", "encoding": "cp1252", "delimiter": ";", "sheet": None
            }  # fmt: skip
    finally:
        server.stop()
