"""Review: accept/reject with comment, who and when; accepted groups survive a re-run."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import open_session
from app.models import Group, Role
from tests.app.conftest import auth, issue_key
from tests.app.test_runs import load_small, start_run

FAST: dict[str, Any] = {
    "purpose": "training",
    "constraints": {"min_size": 3, "max_size": 5, "max_iterations": 30},
    "time_limit_s": 20,  # the iteration budget ends the search: results depend on the seed only
    "seed": 1,
}


def groups(client: TestClient, key: str, run_id: int) -> list[dict[str, Any]]:
    """The run's groups (GET /runs/{id}/groups)."""
    r = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(key))
    assert r.status_code == 200, r.text
    return list(r.json()["groups"])


def members(group: dict[str, Any]) -> list[str]:
    """A group's member external ids in stored order."""
    return [m["external_id"] for m in group["members"]]


def test_accept_and_reject_record_comment_who_and_when(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """A manager's decision is stored with comment, key and time; members get 403."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    first, second = groups(client, keys["viewer"], run_id)[:2]
    url = f"/api/v1/runs/{run_id}/groups/{first['number']}"
    assert client.post(f"{url}/accept", headers=auth(keys["member"])).status_code == 403
    r = client.post(f"{url}/accept", json={"comment": "Goede mix"}, headers=auth(keys["manager"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "accepted" and body["comment"] == "Goede mix"
    assert body["decided_at"] and body["decided_by_key_id"]
    r = client.post(f"/api/v1/runs/{run_id}/groups/{second['number']}/reject",
                    headers=auth(keys["admin"]))  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["comment"] is None
    stored = {g["number"]: g["status"] for g in groups(client, keys["viewer"], run_id)}
    assert stored[first["number"]] == "accepted" and stored[second["number"]] == "rejected"
    with open_session(settings) as db:
        query = select(Group).where(Group.run_id == run_id, Group.number == first["number"])
        row = db.scalar(query)
        assert row is not None and row.decision_comment == "Goede mix"
        assert row.decided_by_key_id == body["decided_by_key_id"]
    south = issue_key(settings, "south", Role.manager)
    assert client.post(f"{url}/accept", headers=auth(south)).status_code == 404
    r = client.post(f"/api/v1/runs/{run_id}/groups/999/accept", headers=auth(keys["manager"]))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_accepted_groups_survive_a_rerun_byte_for_byte(
    client: TestClient, keys: dict[str, str]
) -> None:
    """keep_accepted_from keeps every accepted group's membership identical (and accepted)."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    accepted = groups(client, keys["viewer"], run_id)[:2]
    for g in accepted:
        r = client.post(f"/api/v1/runs/{run_id}/groups/{g['number']}/accept",
                        headers=auth(keys["manager"]))  # fmt: skip
        assert r.status_code == 200
    rerun = {**FAST, "seed": 7, "constraints": {**FAST["constraints"], "max_pair_km": 45},
             "keep_accepted_from": run_id}  # fmt: skip
    again = start_run(client, keys["member"], rerun)
    run = client.get(f"/api/v1/runs/{again}", headers=auth(keys["viewer"])).json()
    assert run["status"] == "succeeded" and run["keep_accepted_from"] == run_id
    new = groups(client, keys["viewer"], again)
    kept = {tuple(members(g)): g for g in new}
    for g in accepted:
        assert tuple(members(g)) in kept, (members(g), [members(n) for n in new])
        twin = kept[tuple(members(g))]
        assert twin["status"] == "accepted" and twin["theme"] == g["theme"]
        assert [m["external_id"] for m in twin["members"]] == members(g)
    third = start_run(client, keys["member"], {**rerun, "keep_accepted_from": again, "seed": 3})
    assert {tuple(members(g)) for g in accepted} <= {
        tuple(members(g)) for g in groups(client, keys["viewer"], third)
    }


def test_keep_accepted_from_must_be_a_succeeded_run_of_yours(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Another organisation's run is 404; fill mode without a base run is 422."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    r = client.post("/api/v1/runs", json={**FAST, "keep_accepted_from": run_id},
                    headers=auth(keys["other"]))  # fmt: skip
    assert r.status_code == 404
    r = client.post("/api/v1/runs", json={**FAST, "mode": "fill"}, headers=auth(keys["member"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "keep_accepted_from"


def test_accepting_again_without_a_body_keeps_the_comment(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A repeat accept with no body (or no comment member) keeps the comment; null clears it."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    url = f"/api/v1/runs/{run_id}/groups/1"
    h = auth(keys["manager"])
    assert client.post(f"{url}/accept", json={"comment": "Goede mix"}, headers=h).is_success
    again = client.post(f"{url}/accept", headers=h)
    assert again.status_code == 200 and again.json()["comment"] == "Goede mix"
    assert client.post(f"{url}/accept", json={}, headers=h).json()["comment"] == "Goede mix"
    assert client.post(f"{url}/accept", json={"comment": None}, headers=h).json()["comment"] is None
    assert client.post(f"{url}/accept", json={"comment": "Nu toch"}, headers=h).is_success
    changed = client.post(f"{url}/reject", headers=h).json()
    assert changed["status"] == "rejected" and changed["comment"] is None
    stored = {g["number"]: g for g in groups(client, keys["viewer"], run_id)}
    assert stored[1]["status"] == "rejected"
