"""CSV uploads with old-Mac (CR only) and Windows (CR LF) line ends are read like LF files."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings


def _with_line_ends(name: str, end: str) -> bytes:
    return (DATA / name).read_text(encoding="utf-8").replace("\n", end).encode()


@pytest.mark.parametrize("end", ["\r", "\r\n"], ids=["cr", "crlf"])
def test_firm_and_pair_uploads_accept_cr_and_crlf_line_ends(
    client: TestClient, keys: dict[str, str], end: str
) -> None:
    """/firms/import, /competitors and /partners store CR-only and CR LF files like LF ones."""
    h = auth(keys["member"])
    firms = (DATA / "smes_small.csv").read_text(encoding="utf-8").strip().count("\n")
    r = client.post(
        "/api/v1/firms/import",
        files={"file": ("s.csv", _with_line_ends("smes_small.csv", end))},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == firms
    for path, name in (
        ("competitors", "competitors_small.csv"),
        ("partners", "partners_small.csv"),
    ):
        pairs = (DATA / name).read_text(encoding="utf-8").strip().count("\n")
        r = client.post(
            f"/api/v1/{path}", files={"file": (name, _with_line_ends(name, end))}, headers=h
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"created": pairs, "existing": 0}
        listed = client.get(f"/api/v1/{path}", headers=h).json()
        assert listed["total"] == pairs


def test_cr_only_file_over_the_row_limit_is_refused(tmp_path: Path) -> None:
    """A CR-only file's rows count against KRING_MAX_ROWS too (422 naming rows); at it, 200."""
    settings = make_settings(tmp_path / "rows.db", max_rows=5)
    upgrade(settings)
    key = issue_key(settings, "north", Role.member)
    header = "external_id,name,postcode,sbi_code,employees,digital_level,needs"
    rows = [f"x{i},Firma {i},9711,6201,5,2,dig.cybersecurity" for i in range(6)]
    with client_for(settings) as client:
        for count, expected in ((6, 422), (5, 200)):
            body = "\r".join([header, *rows[:count]]).encode()
            r = client.post(
                "/api/v1/firms/import", files={"file": ("s.csv", body)}, headers=auth(key)
            )
            assert r.status_code == expected, r.text[:300]
    assert r.json()["created"] == 5
    dispose_engine(settings.database_url)
