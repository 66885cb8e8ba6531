"""mode "fill": late joiners fill accepted groups with room; accepted members never move."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import load_small, start_run

FIRST_COHORT = [f"g{k:02d}" for k in range(1, 11)]


def test_fill_places_newcomers_without_moving_accepted_members(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Newcomers join accepted groups with room or form new groups; nobody accepted moves."""
    load_small(client, keys["member"])
    small = {**FAST["constraints"], "max_size": 4}  # so that every accepted group has room
    body = {**FAST, "constraints": small, "filters": {"external_ids": FIRST_COHORT}}
    first = start_run(client, keys["member"], body)
    accepted = groups(client, keys["viewer"], first)
    for g in accepted:
        r = client.post(f"/api/v1/runs/{first}/groups/{g['number']}/accept",
                        headers=auth(keys["manager"]))  # fmt: skip
        assert r.status_code == 200
    seen = {m for g in accepted for m in members(g)}
    left = {u["external_id"] for u in client.get(f"/api/v1/runs/{first}/groups",
            headers=auth(keys["viewer"])).json()["unassigned"]}  # fmt: skip
    newcomers = {"g11", "g12", "f01", "e01"}
    fill = start_run(client, keys["member"], {**FAST, "mode": "fill", "keep_accepted_from": first})
    run = client.get(f"/api/v1/runs/{fill}", headers=auth(keys["viewer"])).json()
    assert run["status"] == "succeeded" and run["mode"] == "fill", run
    assert set(run["filters"]["external_ids"]) == seen | newcomers  # not the left-overs
    assert not left & set(run["filters"]["external_ids"])
    after = groups(client, keys["viewer"], fill)
    for g in accepted:
        homes = [n for n in after if set(members(g)) & set(members(n))]
        assert len(homes) == 1 and set(members(g)) <= set(members(homes[0])), members(g)
        joined = set(members(homes[0])) - set(members(g))
        assert joined <= newcomers
        assert homes[0]["status"] == ("accepted" if not joined else "proposed")
    placed_new = {m for g in after for m in members(g)} & newcomers
    assert "g12" in placed_new  # Groningen, vocational training: fits a group with room


def test_full_accepted_groups_stay_locked_in_fill_mode(
    client: TestClient, keys: dict[str, str]
) -> None:
    """An accepted group already at max_size is kept exactly (locked, not pinned)."""
    load_small(client, keys["member"])
    first = start_run(client, keys["member"], FAST)
    full = [g for g in groups(client, keys["viewer"], first) if len(g["members"]) == 5]
    assert full, "with this cohort and seed one group is full"
    r = client.post(f"/api/v1/runs/{first}/groups/{full[0]['number']}/accept",
                    headers=auth(keys["manager"]))  # fmt: skip
    assert r.status_code == 200
    fill = start_run(client, keys["member"], {**FAST, "mode": "fill", "keep_accepted_from": first})
    after = groups(client, keys["viewer"], fill)
    assert [members(g) for g in after if g["status"] == "accepted"] == [members(full[0])]
