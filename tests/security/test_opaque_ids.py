"""Ids in URLs and bodies say nothing about other organisations (issue 14 item 7): runs,
profiles, audit entries and API keys get random ids in [1,000,000, 2**31 - 1], on
SQLite and PostgreSQL, and an id is never handed out again, also after its row was deleted."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete, select

from app.db import get_engine, open_session
from app.ids import HIGH, LOW, IdSpaceExhaustedError, new_id
from app.models import ApiKey, Run
from tests.app.conftest import auth
from tests.security.conftest import World

# Two firms can never form a group: such a run finishes at once (cheap bound).
QUICK = {"purpose": "training", "time_limit_s": 1, "seed": 1}


def _quick_run(w: World, key: str, firms: list[str]) -> int:
    body = {**QUICK, "filters": {"external_ids": firms}}
    r = w.client.post("/api/v1/runs", json=body, headers=auth(key))
    assert r.status_code == 202, r.text
    return int(r.json()["id"])


def _opaque(ids: list[int]) -> None:
    """``ids`` (in creation order) are distinct, in range, and neither sorted nor a sequence."""
    assert len(set(ids)) == len(ids)
    assert all(LOW <= i <= HIGH for i in ids)
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    gaps = {b - a for a, b in zip(sorted(ids), sorted(ids)[1:], strict=False)}
    assert len(gaps) > 1 and min(gaps) > 1


@pytest.mark.slow
def test_two_organisations_creating_runs_alternately_get_unrelated_ids(db_world: World) -> None:
    """20 runs of two organisations, alternating: distinct ids >= 1,000,000 in no order."""
    w = db_world
    ids = []
    for _ in range(10):
        ids.append(_quick_run(w, w.a["member"], w.firm_ids[:2]))
        ids.append(_quick_run(w, w.b["member"], ["south-1"]))
    _opaque(ids)
    listed = w.client.get("/api/v1/runs?limit=100", headers=auth(w.a["viewer"])).json()["items"]
    assert [r["id"] for r in listed][:10] == ids[0::2][::-1]  # newest first, by creation time
    other = w.client.get(f"/api/v1/runs/{ids[1]}", headers=auth(w.a["viewer"]))
    assert other.status_code == 404


def test_profiles_audit_entries_and_keys_get_random_ids(db_world: World) -> None:
    """Created and built-in profiles, audit entries and API keys have random ids."""
    w = db_world
    created = []
    for n in range(10):
        key = (w.a if n % 2 else w.b)["manager"]
        r = w.client.post("/api/v1/profiles", json={"name": f"opaque-{n}"}, headers=auth(key))
        assert r.status_code == 201, r.text
        created.append(int(r.json()["id"]))
    _opaque(created)
    profiles = w.client.get("/api/v1/profiles", headers=auth(w.a["viewer"])).json()["items"]
    builtin = [p["id"] for p in profiles if p["builtin"]]
    assert builtin and all(LOW <= i <= HIGH for i in builtin)
    assert [p["id"] for p in profiles if p["name"].startswith("opaque-")] == created[1::2]
    audit = w.client.get("/api/v1/audit?limit=100", headers=auth(w.a["admin"])).json()["items"]
    assert len(audit) >= 6 and all(LOW <= e["id"] <= HIGH for e in audit)
    assert [e["at"] for e in audit] == sorted((e["at"] for e in audit), reverse=True)
    with open_session(w.settings) as db:
        key_ids = list(db.scalars(select(ApiKey.id)))
    assert len(key_ids) >= 8 and all(LOW <= i <= HIGH for i in key_ids)


def test_a_deleted_runs_or_profiles_id_is_never_handed_out_again(db_world: World) -> None:
    """A drawn id skips existing rows and ids the audit names, also after their deletion."""
    w = db_world
    run_id = _quick_run(w, w.a["member"], w.firm_ids[:2])
    r = w.client.post("/api/v1/profiles", json={"name": "gone"}, headers=auth(w.a["manager"]))
    profile_id = int(r.json()["id"])
    gone = w.client.delete(f"/api/v1/profiles/{profile_id}", headers=auth(w.a["manager"]))
    assert gone.is_success
    with get_engine(w.settings.database_url).connect() as conn:
        with pytest.raises(IdSpaceExhaustedError):  # the run still exists
            new_id(conn, "run", low=run_id, high=run_id)
        with pytest.raises(IdSpaceExhaustedError):  # deleted, but named by its audit entries
            new_id(conn, "profile", low=profile_id, high=profile_id)
        draw = random.Random(1).randrange
        assert {new_id(conn, "profile", low=profile_id, high=profile_id + 1, below=draw)
                for _ in range(20)} == {profile_id + 1}  # fmt: skip
    with open_session(w.settings) as db:
        db.execute(delete(Run).where(Run.id == run_id))
        db.commit()
    with get_engine(w.settings.database_url).connect() as conn:
        assert {new_id(conn, "run", low=run_id - 1, high=run_id, below=draw)
                for _ in range(20)} == {run_id - 1}  # fmt: skip
