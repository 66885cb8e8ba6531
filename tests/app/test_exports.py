"""groups.xlsx (openpyxl, formula-safe) and the joint-application pack (JSON and CSV)."""

from __future__ import annotations

import csv
import io

import openpyxl
from fastapi.testclient import TestClient

from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import load_small, start_run

JTF = "jtf-groningen-personeel-scholing"


def test_xlsx_opens_with_overview_and_one_sheet_per_group(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Overview, 'Group n' per group with its members, unassigned, settings; formulas escaped."""
    load_small(client, keys["member"])
    evil = '=HYPERLINK("http://x")'
    r = client.patch("/api/v1/firms/g01", json={"name": evil}, headers=auth(keys["member"]))
    assert r.status_code == 200, r.text
    run_id = start_run(client, keys["member"], FAST)
    r = client.get(f"/api/v1/runs/{run_id}/groups.xlsx",
                   headers={**auth(keys["viewer"]), "Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    found = groups(client, keys["viewer"], run_id)
    assert book.sheetnames == (["Overview"] + [f"Group {g['number']}" for g in found]
                               + ["Unassigned", "Settings"])  # fmt: skip
    overview = list(book["Overview"].iter_rows(values_only=True))
    assert overview[0][:3] == ("Group", "Status", "Theme") and len(overview) == 1 + len(found)
    for g in found:
        rows = list(book[f"Group {g['number']}"].iter_rows(values_only=True))
        assert [row[0] for row in rows[1:]] == members(g)
    names = [c for s in book.worksheets for row in s.iter_rows(values_only=True) for c in row
             if isinstance(c, str)]  # fmt: skip
    assert "'" + evil in names
    assert not [c for c in names if c.startswith(("=", "+", "-", "@"))]


def test_application_pack_json_and_csv(client: TestClient, keys: dict[str, str]) -> None:
    """The pack names the scheme, a lead applicant and each member's eligibility check."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], {**FAST, "purpose": "subsidy", "scheme_id": JTF})
    group = groups(client, keys["viewer"], run_id)[0]
    url = f"/api/v1/runs/{run_id}/groups/{group['number']}/application"
    pack = client.get(url, headers=auth(keys["manager"])).json()  # viewers: KvK only w/ consent
    assert pack["scheme"]["id"] == JTF and pack["theme"] == group["theme"]
    assert pack["lead_applicant"]["suggested_member"] in members(group)
    assert pack["lead_applicant"]["may_be"] == ["member"]
    assert [m["external_id"] for m in pack["members"]] == members(group)
    assert pack["all_eligible"] and all(m["eligible"] and m["has_theme"] for m in pack["members"])
    assert any("verify" in c.lower() for c in pack["checks"])
    g01 = [m for m in pack["members"] if m["external_id"] == "g01"]
    assert not g01 or g01[0]["kvk_number"] == "12345678"
    r = client.get(f"{url}.csv", headers=auth(keys["viewer"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))  # Dutch headers by default
    assert set(rows[0]) >= {"regeling", "groep", "id", "naam", "komt_in_aanmerking"}
    rows = [{"external_id": row["id"], "scheme_id": row["regeling"]} for row in rows]
    assert [row["external_id"] for row in rows] == members(group)
    assert {row["scheme_id"] for row in rows} == {JTF}
    assert client.get(f"/api/v1/runs/{run_id}/groups/999/application",
                      headers=auth(keys["viewer"])).status_code == 404  # fmt: skip
