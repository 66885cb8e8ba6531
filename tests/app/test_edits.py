"""Hand edits of a run's groups: verified before they are stored, refused in words."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import open_session
from app.models import AuditEntry, RunEdit
from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import load_small, start_run


def edit(client: TestClient, key: str, run_id: int, body: dict[str, Any], **query: Any) -> Any:
    """POST /runs/{id}/edits and return the response."""
    params = {k: str(v).lower() for k, v in query.items()}
    return client.post(f"/api/v1/runs/{run_id}/edits", json=body, params=params, headers=auth(key))


def _setup(client: TestClient, keys: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    return run_id, groups(client, keys["viewer"], run_id)


def _legal_move(gs: list[dict[str, Any]]) -> tuple[str, int] | None:
    """A member of a group above the minimum that may join a group below the maximum."""
    for a in gs:
        for b in gs:
            if a is not b and len(a["members"]) > 3 and len(b["members"]) < 5:
                return members(a)[-1], b["number"]
    return None


def test_a_legal_move_is_previewed_then_stored_with_who_and_when(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """A dry run changes nothing; the edit then stores members, history, proposal and audit."""
    run_id, gs = _setup(client, keys)
    found = _legal_move(gs)
    if found is None:  # every group at the bounds: swap instead (always size-neutral)
        body = {"kind": "swap", "firm": members(gs[0])[0], "other_firm": members(gs[1])[0]}
    else:
        body = {"kind": "move", "firm": found[0], "to_group": found[1]}
    r = edit(client, keys["manager"], run_id, body, dry_run=True)
    assert r.status_code == 200, r.text
    preview = r.json()
    if not preview["allowed"]:  # a competitor or distance in the way: the words say which
        assert preview["violations"] and preview["violations"][0]["message"]
        return
    assert preview["applied"] is False and preview["revision"] == 0
    assert {e["group"] for e in preview["effects"]} and all(
        e["after"]["size"] == len(e["members_after"]) for e in preview["effects"]
    )
    assert groups(client, keys["viewer"], run_id) == gs  # nothing stored
    assert edit(client, keys["member"], run_id, body).status_code == 403
    r = edit(client, keys["manager"], run_id, body)
    assert r.status_code == 200, r.text
    assert r.json()["applied"] is True and r.json()["revision"] == 1
    after = {g["number"]: members(g) for g in groups(client, keys["viewer"], run_id)}
    for effect in r.json()["effects"]:
        assert sorted(after[effect["group"]]) == sorted(effect["members_after"])
    history = client.get(f"/api/v1/runs/{run_id}/edits", headers=auth(keys["viewer"])).json()
    assert history["revision"] == 1 and len(history["edits"]) == 1
    assert history["edits"][0]["by"] and history["edits"][0]["kind"] == body["kind"]
    original = {g["number"]: g["members"] for g in history["proposal"]["groups"]}
    assert original == {g["number"]: members(g) for g in gs}
    with open_session(settings) as db:
        assert db.scalar(select(RunEdit).where(RunEdit.run_id == run_id)) is not None
        actions = [a.action for a in db.scalars(select(AuditEntry))]
        assert "group.edit" in actions


def test_moving_a_competitor_in_is_refused_naming_both_firms_in_dutch(
    client: TestClient, keys: dict[str, str]
) -> None:
    """g01 and g10 are declared competitors: the move answers 422 and stores nothing."""
    run_id, gs = _setup(client, keys)
    where = {e: g["number"] for g in gs for e in members(g)}
    if "g01" not in where:
        return
    if "g10" in where:
        body = {"kind": "move", "firm": "g10", "to_group": where["g01"]}
    else:
        body = {"kind": "add", "firm": "g10", "to_group": where["g01"]}
    r = edit(client, keys["manager"], run_id, body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["title"] == "Deze wijziging breekt een harde regel"
    messages = [v["message"] for v in problem["violations"]]
    assert "Bouwbedrijf Bakker en Autobedrijf Hoekstra zijn concurrenten." in messages
    assert groups(client, keys["viewer"], run_id) == gs
    r = client.post(f"/api/v1/runs/{run_id}/edits", json=body,
                    headers={**auth(keys["manager"]), "Accept-Language": "en"})  # fmt: skip
    assert "Bouwbedrijf Bakker and Autobedrijf Hoekstra are competitors." in [
        v["message"] for v in r.json()["violations"]
    ]


def test_a_firm_too_far_away_is_refused_with_places_and_the_limit(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Emmen's machine factory into a Groningen group: the words name km and the 50 km limit."""
    run_id, gs = _setup(client, keys)
    where = {e: g["number"] for g in gs for e in members(g)}
    target = where.get("g01") or where.get("g02") or gs[0]["number"]
    kind = "move" if "e01" in where else "add"
    if where.get("e01") == target:
        return
    r = edit(client, keys["manager"], run_id, {"kind": kind, "firm": "e01", "to_group": target})
    assert r.status_code == 422, r.text
    far = [v for v in r.json()["violations"] if v["rule"] in ("diameter", "distance")]
    assert far and "Machinefabriek Kuipers" in far[0]["message"]
    assert "de grens is 50 km" in far[0]["message"]


def test_a_locked_group_takes_no_edits_and_removal_leaves_a_reason(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Locking blocks every edit of the group (409); a removed firm is unassigned by hand."""
    run_id, gs = _setup(client, keys)
    number = gs[0]["number"]
    url = f"/api/v1/runs/{run_id}/groups/{number}"
    r = client.post(f"{url}/lock", headers=auth(keys["manager"]))
    assert r.status_code == 200 and r.json()["locked"] is True
    body = {"kind": "remove", "firm": members(gs[0])[0]}
    r = edit(client, keys["manager"], run_id, body)
    assert r.status_code == 409 and "vergrendeld" in r.json()["detail"]
    assert client.post(f"{url}/unlock", headers=auth(keys["manager"])).json()["locked"] is False
    r = edit(client, keys["manager"], run_id, body, dry_run=True)
    assert r.status_code == 200
    if len(gs[0]["members"]) <= 3:  # below the minimum: refused, in words
        assert not r.json()["allowed"] and r.json()["violations"][0]["rule"] == "size"
        return
    r = edit(client, keys["manager"], run_id, body)
    assert r.status_code == 200, r.text
    listing = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(keys["viewer"])).json()
    left = {u["external_id"]: u["reason"] for u in listing["unassigned"]}
    assert left[body["firm"]] == "removed_by_hand"


def test_edits_name_unknown_firms_and_groups(client: TestClient, keys: dict[str, str]) -> None:
    """Unknown firm or group: 404 in words; a missing field: 422 naming it; bad kind: 422."""
    run_id, gs = _setup(client, keys)
    r = edit(client, keys["manager"], run_id, {"kind": "remove", "firm": "nope"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = edit(client, keys["manager"], run_id, {"kind": "merge", "group": gs[0]["number"],
                                               "to_group": 999})  # fmt: skip
    assert r.status_code == 404 and "999" in r.json()["detail"]
    r = edit(client, keys["manager"], run_id, {"kind": "move", "firm": members(gs[0])[0]})
    assert r.status_code == 422 and "to_group" in r.json()["detail"]
    assert edit(client, keys["manager"], run_id, {"kind": "teleport"}).status_code == 422


def test_a_rerun_keeping_decisions_keeps_edited_and_locked_groups(
    client: TestClient, keys: dict[str, str]
) -> None:
    """keep_accepted_from keeps a locked (not accepted) group exactly, still locked."""
    run_id, gs = _setup(client, keys)
    number = gs[-1]["number"]
    r = client.post(f"/api/v1/runs/{run_id}/groups/{number}/lock", headers=auth(keys["manager"]))
    assert r.status_code == 200
    rerun = start_run(client, keys["member"], {**FAST, "keep_accepted_from": run_id})
    kept = [g for g in groups(client, keys["viewer"], rerun) if g["locked"]]
    assert [sorted(members(g)) for g in kept] == [sorted(members(gs[-1]))]
    assert kept[0]["status"] == "proposed"


def test_an_island_firm_into_a_mainland_group_is_refused_with_the_reach_rule(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A firm on Ameland (Nes) never joins a mainland group: the words name the water."""
    _setup(client, keys)
    body = [{"external_id": "a01", "name": "Hotel Ameland", "postcode": "9163",
             "sbi_code": "5510", "employees": 9, "digital_level": 2,
             "needs": ["train.vocational"]}]  # fmt: skip
    r = client.post("/api/v1/firms", json=body, headers=auth(keys["member"]))
    assert r.status_code in (200, 201), r.text
    rerun = start_run(client, keys["member"], FAST)
    listing = client.get(f"/api/v1/runs/{rerun}/groups", headers=auth(keys["viewer"])).json()
    assert "a01" in {u["external_id"] for u in listing["unassigned"]}
    target = listing["groups"][0]["number"]
    r = edit(client, keys["manager"], rerun, {"kind": "add", "firm": "a01", "to_group": target})
    assert r.status_code == 422, r.text
    reach = [v for v in r.json()["violations"] if v["rule"] == "reach"]
    assert reach and "eiland" in reach[0]["message"], reach
