"""The audit log: profile edits, runs and group decisions, with actor and time."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.config import Settings
from app.db import open_session
from app.models import Role, Run
from tests.app.conftest import auth, issue_key
from tests.app.test_profiles import PROFILE
from tests.app.test_review import FAST, groups
from tests.app.test_runs import load_small, start_run


def test_every_action_is_audited(client: TestClient, keys: dict[str, str]) -> None:
    """Profile create/update/delete, run create, accept and reject each write one entry."""
    me = {role: client.get("/api/v1/me", headers=auth(keys[role])).json() for role in keys}
    assert me["manager"]["role"] == "manager"
    p = client.post("/api/v1/profiles", json=PROFILE, headers=auth(keys["manager"])).json()
    client.put(f"/api/v1/profiles/{p['id']}", json={**PROFILE, "purpose": "peer"},
               headers=auth(keys["manager"]))  # fmt: skip
    client.delete(f"/api/v1/profiles/{p['id']}", headers=auth(keys["manager"]))
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    first, second = groups(client, keys["viewer"], run_id)[:2]
    base = f"/api/v1/runs/{run_id}/groups"
    client.post(
        f"{base}/{first['number']}/accept", json={"comment": "ok"}, headers=auth(keys["manager"])
    )
    client.post(f"{base}/{second['number']}/reject", headers=auth(keys["admin"]))
    r = client.get("/api/v1/audit", headers=auth(keys["manager"]))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [e["action"] for e in items] == [
        "group.reject", "group.accept", "run.create",
        "profile.delete", "profile.update", "profile.create",
    ]  # fmt: skip
    roles = {e["action"]: e["actor_role"] for e in items}
    assert roles == {"group.reject": "admin", "group.accept": "manager", "run.create": "member",
                     "profile.delete": "manager", "profile.update": "manager",
                     "profile.create": "manager"}  # fmt: skip
    assert all(e["actor_key_id"] and e["at"] for e in items)
    by_action = {e["action"]: e for e in items}
    assert by_action["group.accept"]["details"]["comment"] == "ok"
    assert by_action["group.accept"]["resource_id"] == f"run {run_id} group {first['number']}"
    assert by_action["group.accept"]["details"]["group_number"] == first["number"]
    assert by_action["run.create"]["resource_id"] == str(run_id)
    assert by_action["profile.update"]["details"]["version"] == 2
    only = client.get("/api/v1/audit?action=group.accept", headers=auth(keys["admin"])).json()
    assert only["total"] == 1


def test_audit_needs_manager_and_is_scoped(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """Viewers and members get 403; another organisation sees none of the entries."""
    client.post("/api/v1/profiles", json=PROFILE, headers=auth(keys["manager"]))
    for role in ("viewer", "member"):
        assert client.get("/api/v1/audit", headers=auth(keys[role])).status_code == 403
    assert client.get("/api/v1/audit", headers=auth(keys["manager"])).json()["total"] == 1
    south = issue_key(settings, "south", Role.manager)
    assert client.get("/api/v1/audit", headers=auth(south)).json()["total"] == 0


def test_cancelling_a_queued_run_is_audited(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """POST /runs/{id}/cancel writes a run.cancel entry with the caller."""
    me = client.get("/api/v1/me", headers=auth(keys["member"])).json()
    with open_session(settings) as db:  # a run still waiting in the queue
        queued = Run(organisation_id=me["organisation_id"], purpose="training", params={})
        db.add(queued)
        db.commit()
        run_id = queued.id
    r = client.post(f"/api/v1/runs/{run_id}/cancel", headers=auth(keys["member"]))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    entries = client.get("/api/v1/audit?action=run.cancel", headers=auth(keys["manager"])).json()
    assert entries["total"] == 1 and entries["items"][0]["resource_id"] == str(run_id)
    assert entries["items"][0]["actor_role"] == "member"
