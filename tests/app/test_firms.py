"""Firm registry: JSON upsert, CSV import, listing, PATCH, validation errors."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import open_session
from app.models import Firm
from tests.app.conftest import DATA, auth

PROBLEM = "application/problem+json"


def firm(external_id: str = "f1", **changes: Any) -> dict[str, Any]:
    """A valid firm record for POST /firms."""
    record: dict[str, Any] = {
        "external_id": external_id,
        "name": "Bouwbedrijf Bakker",
        "postcode": "9711 AB",
        "sbi_code": "4120",
        "employees": 12,
        "digital_level": 2,
        "needs": ["train.vocational", "hr.recruitment"],
        "kvk_number": "12345678",
    }
    record.update(changes)
    return record


def stored_firms(settings: Settings) -> int:
    """Count firm rows in the database (all organisations)."""
    with open_session(settings) as db:
        return db.scalar(select(func.count()).select_from(Firm)) or 0


def test_post_firms_creates_geocoded_rows(client: TestClient, keys: dict[str, str]) -> None:
    """POST /firms stores firms geocoded to gemeente, province and labour-market region."""
    r = client.post(
        "/api/v1/firms",
        json=[firm("f1"), firm("f2", postcode="8911")],
        headers=auth(keys["member"]),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "updated": 0, "external_ids": ["f1", "f2"]}
    got = client.get("/api/v1/firms/f2", headers=auth(keys["member"])).json()
    assert got["gemeente_name"] == "Leeuwarden"
    assert got["province"] == "Fryslân"
    assert got["labour_market_region"]
    assert got["needs"] == ["train.vocational", "hr.recruitment"]


def test_post_firms_upserts_by_external_id(client: TestClient, keys: dict[str, str]) -> None:
    """A second POST with the same external_id updates the firm instead of duplicating it."""
    client.post("/api/v1/firms", json=[firm("f1")], headers=auth(keys["member"]))
    r = client.post("/api/v1/firms", json=[firm("f1", employees=40)], headers=auth(keys["member"]))
    assert r.json()["updated"] == 1
    listing = client.get("/api/v1/firms", headers=auth(keys["member"])).json()
    assert listing["total"] == 1
    assert listing["items"][0]["employees"] == 40


def test_import_csv_in_solve_format(client: TestClient, keys: dict[str, str]) -> None:
    """POST /firms/import takes the `kring solve` CSV as multipart field `file`."""
    with (DATA / "smes_small.csv").open("rb") as fh:
        r = client.post(
            "/api/v1/firms/import",
            files={"file": ("smes.csv", fh, "text/csv")},
            headers=auth(keys["member"]),
        )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 14


def test_import_with_bad_rows_writes_nothing_and_lists_every_row(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """A CSV with bad rows is rejected whole; errors name each bad row and field."""
    with (DATA / "smes_bad.csv").open("rb") as fh:
        r = client.post(
            "/api/v1/firms/import",
            files={"file": ("bad.csv", fh, "text/csv")},
            headers=auth(keys["member"]),
        )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert {"type", "title", "status", "detail", "errors"} <= body.keys()
    found = {(e["row"], e["field"]) for e in body["errors"]}
    expected = {
        (2, "needs"),
        (3, "postcode"),
        (4, "postcode"),
        (5, "lat"),
        (6, "employees"),
        (7, "digital_level"),
        (8, "external_id"),
        (9, "kvk_number"),
        (10, "sbi_code"),
        (11, "needs"),
    }
    assert expected <= found
    assert 1 not in {row for row, _ in found}
    assert stored_firms(settings) == 0


def test_json_validation_uses_the_csv_rules(client: TestClient, keys: dict[str, str]) -> None:
    """JSON records get the CSV reader's checks, numbered 1.. like CSV data rows."""
    body = [
        firm("ok"),
        firm("x", needs=["hr.wellbeing"]),
        firm("y", digital_level=5),
        firm("z", kvk_number="1234"),
        firm("ok", employees=-1),
    ]
    r = client.post("/api/v1/firms", json=body, headers=auth(keys["member"]))
    assert r.status_code == 422
    found = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert {
        (2, "needs"),
        (3, "digital_level"),
        (4, "kvk_number"),
        (5, "external_id"),
        (5, "employees"),
    } <= found


def test_request_type_errors_are_problem_json(client: TestClient, keys: dict[str, str]) -> None:
    """Body type errors answer 422 problem+json with {row, field, message} entries."""
    r = client.post(
        "/api/v1/firms",
        json=[firm("a"), {"external_id": "b", "employees": "many"}],
        headers=auth(keys["member"]),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    errors = r.json()["errors"]
    assert all(e["row"] == 2 for e in errors)
    assert {"employees", "name", "postcode"} <= {e["field"] for e in errors}


def test_list_filters(client: TestClient, keys: dict[str, str]) -> None:
    """GET /firms filters by province, gemeente, need, SBI prefix and text."""
    with (DATA / "smes_small.csv").open("rb") as fh:
        client.post(
            "/api/v1/firms/import", files={"file": ("s.csv", fh)}, headers=auth(keys["member"])
        )
    h = auth(keys["member"])

    def total(**params: Any) -> int:
        r = client.get("/api/v1/firms", params=params, headers=h)
        assert r.status_code == 200
        return int(r.json()["total"])

    everything = total()
    assert everything == 14
    assert 0 < total(province="Groningen") < everything
    assert total(need="train.vocational") > 0
    assert total(need="biz.succession") < everything
    assert total(sbi="41") >= 1
    assert total(q="bakker") >= 1
    assert total(gemeente="GM0014") >= 1
    page = client.get("/api/v1/firms", params={"limit": 5, "offset": 10}, headers=h).json()
    assert len(page["items"]) == 4


def test_patch_revalidates_and_regeocodes(client: TestClient, keys: dict[str, str]) -> None:
    """PATCH changes fields, re-geocodes a new postcode and rejects invalid values."""
    h = auth(keys["member"])
    client.post("/api/v1/firms", json=[firm("f1")], headers=h)
    r = client.patch("/api/v1/firms/f1", json={"postcode": "7811", "employees": 3}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["province"] == "Drenthe"
    assert r.json()["employees"] == 3
    bad = client.patch("/api/v1/firms/f1", json={"digital_level": 9}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "digital_level"


def test_unknown_firm_is_404_problem(client: TestClient, keys: dict[str, str]) -> None:
    """GET, PATCH and DELETE of an unknown external_id answer 404 problem+json."""
    h = auth(keys["member"])
    for method in ("get", "delete"):
        r = getattr(client, method)("/api/v1/firms/nope", headers=h)
        assert r.status_code == 404
        assert r.headers["content-type"] == PROBLEM
    assert client.patch("/api/v1/firms/nope", json={}, headers=h).status_code == 404


def test_row_limit_is_422(tmp_path: Any) -> None:
    """More rows than KRING_MAX_ROWS is rejected with 422 and a 'rows' error."""
    from app.migrate import upgrade
    from app.models import Role
    from tests.app.conftest import client_for, issue_key, make_settings

    s = make_settings(tmp_path / "limit.db", max_rows=2)
    upgrade(s)
    key = issue_key(s, "north", Role.member)
    with client_for(s) as c:
        r = c.post("/api/v1/firms", json=[firm("a"), firm("b"), firm("c")], headers=auth(key))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "rows"


def test_body_limit_is_413(tmp_path: Any) -> None:
    """A body larger than KRING_MAX_BODY_BYTES is answered 413 problem+json."""
    from app.migrate import upgrade
    from app.models import Role
    from tests.app.conftest import client_for, issue_key, make_settings

    s = make_settings(tmp_path / "body.db", max_body_bytes=2_000)
    upgrade(s)
    key = issue_key(s, "north", Role.member)
    with client_for(s) as c:
        r = c.post("/api/v1/firms", json=[firm(str(i)) for i in range(50)], headers=auth(key))
        assert r.status_code == 413
        assert r.headers["content-type"] == PROBLEM
        ok = c.post("/api/v1/firms", json=[firm("a")], headers=auth(key))
        assert ok.status_code == 200
        chunks = (b"x" * 500 for _ in range(10))  # streamed: no Content-Length to trust
        streamed = c.post("/api/v1/firms", content=chunks, headers=auth(key))
        assert streamed.status_code == 413
        assert streamed.json()["title"] == "Verzoek te groot"  # Dutch by default
