"""CSV exports (groups.csv, application.csv): text quoted, formula triggers neutralised at the
start of a cell and after any separator a spreadsheet might split on."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from app.services.spreadsheet import csv_safe
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NAMES = {
    "g01": "Acme;=cmd|' /C calc'!A0",
    "g02": "Bakker, +31 6 1234",
    "g03": 'Smit; "=1+1"',
    "g04": "Visser\t-2 @SUM(A1)",
}
RUN = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """groups.csv and the application.csv of g01's group, with hostile firm names."""
    settings = make_settings(tmp_path_factory.mktemp("csv") / "kring.db")
    upgrade(settings)
    key = issue_key(settings, "north", Role.member)
    h = auth(key)
    client: TestClient
    with client_for(settings) as client:
        with (DATA / "smes_small.csv").open("rb") as fh:
            files = {"file": ("s.csv", fh)}
            assert client.post("/api/v1/firms/import", files=files, headers=h).is_success
        for external_id, name in NAMES.items():
            r = client.patch(f"/api/v1/firms/{external_id}", json={"name": name}, headers=h)
            assert r.status_code == 200, r.text
        run_id = client.post("/api/v1/runs", json=RUN, headers=h).json()["id"]
        groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=h).json()["groups"]
        group = next(g for g in groups if "g01" in {m["external_id"] for m in g["members"]})
        base = f"/api/v1/runs/{run_id}"
        urls = {"groups": f"{base}/groups.csv",
                "application": f"{base}/groups/{group['number']}/application.csv"}  # fmt: skip
        out = {}
        for name, url in urls.items():
            r = client.get(url, headers={**h, "Accept-Language": "en"})  # column codes
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            out[name] = r.text
    dispose_engine(settings.database_url)
    yield out


@pytest.mark.parametrize("export", ["groups", "application"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_no_cell_starts_with_a_formula_trigger_under_any_separator(
    exports: dict[str, str], export: str, delimiter: str
) -> None:
    """Parsed with `,`, `;` or tab as delimiter, no cell (spaces and quotes aside) is a formula."""
    rows = list(csv.reader(io.StringIO(exports[export]), delimiter=delimiter))
    cells = [c for row in rows for c in row]
    assert len(cells) > len(rows) or delimiter == "\t"
    bad = [c for c in cells if c.lstrip(' "').startswith(TRIGGERS)]
    assert not bad, bad


@pytest.mark.parametrize("export", ["groups", "application"])
def test_text_is_quoted_and_reads_back_with_apostrophes(
    exports: dict[str, str], export: str
) -> None:
    """Text fields are quoted (RFC 4180); read back, a name differs only by the apostrophes."""
    text = exports[export]
    assert "\"Acme;'=cmd|' /C calc'!A0\"" in text
    assert ",Acme;" not in text
    names = {row["external_id"]: row["name"] for row in csv.DictReader(io.StringIO(text))}
    assert names["g01"] == "Acme;'=cmd|' /C calc'!A0"
    for external_id, name in NAMES.items():
        if external_id in names:
            assert names[external_id].replace("'", "") == name.replace("'", "")


def test_normal_values_stay_plain_rfc4180(exports: dict[str, str]) -> None:
    """Header unquoted, numbers bare, ordinary text only quoted; every row has every column."""
    lines = exports["groups"].splitlines()
    assert lines[0] == ("group_number,theme,diameter_km,external_id,name,postcode,"
                        "gemeente_name,province,sbi_code,employees,needs")  # fmt: skip
    rows = list(csv.reader(io.StringIO(exports["groups"])))
    assert {len(r) for r in rows} == {11}
    plain = next(line for line in lines[1:] if '"g05"' in line or '"g06"' in line)
    assert plain.split(",")[0].isdigit() and plain.split(",")[1].startswith('"')
    assert "'" not in plain


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Acme;=cmd", "Acme;'=cmd"), ("a, +1", "a, '+1"), ('b;"=1"', "b;\"'=1\""),
     ("=x;-y", "'=x;'-y"), ("\t=x", "'\t'=x"), ("Smit-Jansen", "Smit-Jansen"),
     ("dig.a;dig.b", "dig.a;dig.b"), (12, 12), (None, "")],
)  # fmt: skip
def test_csv_safe_neutralises_triggers_after_separators(value: object, expected: object) -> None:
    """A trigger at the start or after `; , TAB` (spaces, quotes between) gets a `'` before it."""
    assert csv_safe(value) == expected
