"""User mistakes answer 422 naming row and field, never 500, on SQLite and PostgreSQL (issue
14 item 4): over-long and NUL cells on the CSV and JSON paths, NUL in paths and queries,
settings the engines cannot run, and ids that cannot be one URL path segment."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.db import open_session
from app.errors import InvalidInputError
from app.models import Firm, Organisation
from app.services.profiles import validate_settings
from tests.app.conftest import auth
from tests.app.test_firms import firm
from tests.security.conftest import World

HEADER = "external_id,name,postcode,sbi_code,employees,digital_level,needs\n"


def _csv_row(external_id: str, name: str = "Bakker BV") -> str:
    return f"{external_id},{name},9711,4120,12,2,train.vocational\n"


def _problems(r: Any) -> list[tuple[int | None, str]]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [(e["row"], e["field"]) for e in r.json()["errors"]]


def _count(w: World) -> int:
    return int(w.client.get("/api/v1/firms", headers=auth(w.a["member"])).json()["total"])


def test_csv_over_long_and_nul_cells_are_422(db_world: World) -> None:
    """A 10,000-character id, a 100 KB name and a NUL in a name: 422 per row, nothing saved."""
    w, before = db_world, _count(db_world)
    text = HEADER + _csv_row("x" * 10_000) + _csv_row("ok-1", "n" * 100_000)
    text += _csv_row("ok-2", "Bak\x00ker") + _csv_row("ok-3")
    r = w.client.post("/api/v1/firms/import", files={"file": ("smes.csv", text)},
                      headers=auth(w.a["member"]))  # fmt: skip
    assert _problems(r) == [(1, "external_id"), (2, "name"), (3, "name")]
    messages = [e["message"] for e in r.json()["errors"]]
    assert "hooguit 64" in messages[0] and "hooguit 300" in messages[1]  # Dutch by default
    assert "NUL" in messages[2]
    assert _count(w) == before


def test_json_nul_and_over_long_values_are_422(db_world: World) -> None:
    """JSON firms with a NUL id, a NUL name or an over-long name: 422 naming row and field."""
    w, h = db_world, auth(db_world.a["member"])
    r = w.client.post("/api/v1/firms", json=[firm("nul\u0000id")], headers=h)
    assert _problems(r) == [(1, "external_id")]
    r = w.client.post("/api/v1/firms", json=[firm("ok"), firm("n1", name="a\u0000b")], headers=h)
    assert _problems(r) == [(2, "name")]
    r = w.client.post("/api/v1/firms", json=[firm("n2", name="n" * 100_000)], headers=h)
    assert _problems(r) == [(1, "name")]
    r = w.client.patch(f"/api/v1/firms/{w.firm_ids[0]}", json={"name": "x\u0000"}, headers=h)
    assert _problems(r) == [(None, "name")]
    r = w.client.post("/api/v1/competitors", json=[{"sme_a": "g01\u0000", "sme_b": "g02"}],
                      headers=h)  # fmt: skip
    assert _problems(r) == [(1, "sme_a")]
    r = w.client.post("/api/v1/partners", files={"file": ("p.csv", "sme_a,sme_b\ng01,g\x0002\n")},
                      headers=h)  # fmt: skip
    assert _problems(r) == [(1, "sme_b")]


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [("get", "/api/v1/firms/x%00y", "path"),
     ("get", "/api/v1/firms?q=a%00b", "query.q"),
     ("get", "/api/v1/firms?need=a%00", "query.need"),
     ("delete", "/api/v1/competitors?sme_a=a%00&sme_b=b", "query.sme_a"),
     ("patch", "/api/v1/firms/g01%00", "path")],
)  # fmt: skip
def test_nul_in_path_and_query_is_422(db_world: World, method: str, url: str, field: str) -> None:
    """A NUL in a path or query parameter answers 422 problem+json naming it."""
    r = db_world.client.request(method, url, headers=auth(db_world.a["admin"]))
    assert _problems(r) == [(None, field)]


SETTINGS_MISTAKES = [
    ({"constraints": {"min_weight": 1180591620717411303424}}, "constraints.min_weight"),
    ({"constraints": {"max_iterations": 10**30}}, "constraints.max_iterations"),
    ({"purpose": "subsidy", "constraints": {"eligible_provinces": ["Atlantis"]}},
     "constraints.eligible_provinces"),
    ({"time_limit_s": 1e9}, "time_limit_s"),
    ({"seed": 2**64}, "seed"),
    ({"constraints": {"affinity": {"need": 1e300}}}, "constraints.affinity.need"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field"), SETTINGS_MISTAKES)
def test_impossible_settings_are_422_at_runs_and_profiles(
    db_world: World, body: dict[str, Any], field: str
) -> None:
    """Settings the engines cannot run answer 422 naming the field at POST /runs and POST/PUT
    /profiles, instead of being saved and failing later as an internal error."""
    w, h = db_world, auth(db_world.a["admin"])
    r = w.client.post("/api/v1/runs", json={"purpose": "training", **body}, headers=h)
    assert field in [f for _, f in _problems(r)], r.text
    profile = {"name": f"p-{field}", "purpose": "training", **body}
    r = w.client.post("/api/v1/profiles", json=profile, headers=h)
    assert field in [f for _, f in _problems(r)], r.text
    r = w.client.put(f"/api/v1/profiles/{w.profile_id}", json=profile, headers=h)
    assert field in [f for _, f in _problems(r)], r.text


def test_library_setting_errors_name_top_level_fields() -> None:
    """A seed or time limit the library refuses is named at top level, not `constraints.`."""
    for values, field in (({"seed": 2**40}, "seed"), ({"time_limit_s": 1e9}, "time_limit_s")):
        with pytest.raises(InvalidInputError) as caught:
            validate_settings(values)
        assert caught.value.members["errors"][0]["field"] == field


def test_ids_that_are_not_one_path_segment_are_refused(db_world: World) -> None:
    """`a/b` (JSON and CSV) is refused naming row, field and the allowed characters."""
    w, h = db_world, auth(db_world.a["member"])
    r = w.client.post("/api/v1/firms", json=[firm("ok-x"), firm("a/b")], headers=h)
    assert _problems(r) == [(2, "external_id")]
    assert "'/'" in r.json()["errors"][0]["message"]
    assert "letters, cijfers" in r.json()["errors"][0]["message"]  # Dutch by default
    text = HEADER + _csv_row("a/b") + _csv_row("..")
    r = w.client.post("/api/v1/firms/import", files={"file": ("s.csv", text)}, headers=h)
    assert _problems(r) == [(1, "external_id"), (2, "external_id")]


def test_a_stored_id_with_a_slash_can_still_be_read_changed_and_erased(db_world: World) -> None:
    """A firm stored with `a/b` before the rule is read and erased at /firms/a%2Fb; a PATCH
    reaches it and answers 422 naming the id (it cannot be kept), never 404."""
    w, h = db_world, auth(db_world.a["member"])
    r = w.client.post("/api/v1/firms", json=[firm("legacy-ab")], headers=h)
    assert r.status_code == 200, r.text
    with open_session(w.settings) as db:
        org = db.scalar(select(Organisation).where(Organisation.name == "north"))
        assert org is not None
        row = db.scalar(
            select(Firm).where(Firm.organisation_id == org.id, Firm.external_id == "legacy-ab")
        )
        assert row is not None
        row.external_id = "a/b"
        db.commit()
    assert w.client.get("/api/v1/firms/a%2Fb", headers=h).json()["external_id"] == "a/b"
    r = w.client.patch("/api/v1/firms/a%2Fb", json={"employees": 3}, headers=h)
    assert _problems(r) == [(1, "external_id")]  # reached: the old id itself is the problem
    assert w.client.delete("/api/v1/firms/a%2Fb", headers=h).status_code == 204
    assert w.client.get("/api/v1/firms/a%2Fb", headers=h).status_code == 404


def test_ids_past_32_bits_and_unparsable_bodies_are_422(db_world: World) -> None:
    """Found by schemathesis on PostgreSQL: a run id past 32 bits was 500, a non-JSON body 400."""
    w, h = db_world, auth(db_world.a["admin"])
    r = w.client.get(f"/api/v1/runs/{2**31}", headers=h)
    assert r.status_code in (404, 422), r.text  # SQLite holds it (not found), PostgreSQL not
    assert r.headers["content-type"].startswith("application/problem+json")
    r = w.client.post(f"/api/v1/runs/{w.run_id}/groups/{w.group_number}/reject", content=b"d\xff",
                      headers={**h, "content-type": "application/json"})  # fmt: skip
    assert _problems(r) == [(None, "body")]
