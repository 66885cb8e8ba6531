"""GET /runs/{a}/compare/{b} on two real runs."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.config import Settings
from app.db import open_session
from app.models import Group
from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import load_small, start_run


def test_compare_two_real_runs(client: TestClient, keys: dict[str, str]) -> None:
    """Deltas, unchanged groups, moves, new and dropped firms agree with both runs' groups."""
    load_small(client, keys["member"])
    a = start_run(client, keys["member"], FAST)
    tighter = {**FAST, "seed": 2, "constraints": {**FAST["constraints"], "max_pair_km": 30}}
    b = start_run(client, keys["member"], tighter)
    r = client.get(f"/api/v1/runs/{a}/compare/{b}", headers=auth(keys["viewer"]))
    assert r.status_code == 200, r.text
    out = r.json()
    ga, gb = groups(client, keys["viewer"], a), groups(client, keys["viewer"], b)
    place_a = {m: g["number"] for g in ga for m in members(g)}
    place_b = {m: g["number"] for g in gb for m in members(g)}
    assert out["placed"] == {"a": len(place_a), "b": len(place_b),
                             "delta": len(place_b) - len(place_a)}  # fmt: skip
    assert out["groups"]["a"] == len(ga) and out["groups"]["b"] == len(gb)
    assert out["newly_placed"] == sorted(set(place_b) - set(place_a))
    assert out["dropped"] == sorted(set(place_a) - set(place_b))
    sets_b = {frozenset(members(g)): g["number"] for g in gb}
    expected = [{"a": g["number"], "b": sets_b[frozenset(members(g))]} for g in ga
                if frozenset(members(g)) in sets_b]  # fmt: skip
    assert out["unchanged_groups"] == expected
    match = {m["a"]: m["b"] for m in out["matched_groups"]}
    assert len(set(match.values())) == len(match)  # one to one
    assert {m["external_id"] for m in out["moved"]} == {
        f for f, n in place_a.items() if f in place_b and match.get(n) != place_b[f]
    }
    for m in out["moved"]:
        assert place_a[m["external_id"]] == m["from_group"]
        assert place_b[m["external_id"]] == m["to_group"]
    assert out["comparable"] is True and out["comparable_note"] is None
    assert "dezelfde groep" in out["group_matching"]
    assert out["constraint_differences"]["max_pair_km"] == {"a": 50.0, "b": 30}
    assert out["constraint_differences"]["seed"] == {"a": 1, "b": 2}
    cov = out["coverage"]
    assert cov["delta"] == round(cov["b"] - cov["a"], 4)
    assert set(out["total_affinity"]) == {"a", "b", "delta"}


def test_compare_with_itself_and_errors(client: TestClient, keys: dict[str, str]) -> None:
    """A run compared with itself changes nothing; unknown or foreign runs are 404."""
    load_small(client, keys["member"])
    a = start_run(client, keys["member"], FAST)
    out = client.get(f"/api/v1/runs/{a}/compare/{a}", headers=auth(keys["viewer"])).json()
    assert out["moved"] == [] and out["newly_placed"] == [] and out["dropped"] == []
    assert len(out["unchanged_groups"]) == out["groups"]["a"]
    assert out["constraint_differences"] == {} and out["coverage"]["delta"] == 0
    assert (
        client.get(f"/api/v1/runs/{a}/compare/99", headers=auth(keys["viewer"])).status_code == 404
    )
    r = client.get(f"/api/v1/runs/{a}/compare/{a}", headers=auth(keys["other"]))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def _renumber_and_move(settings: Settings, run_id: int) -> tuple[str, int, int]:
    """Swap the numbers of groups 1 and 2 and move one firm of group 3 into (old) group 1.

    Returns the moved firm's external id, its group number before and after.
    """
    with open_session(settings) as db:
        rows = db.scalars(select(Group).where(Group.run_id == run_id)
                          .options(selectinload(Group.members))).all()  # fmt: skip
        by = {g.number: g for g in rows}
        by[1].number = -1
        db.flush()
        by[2].number = 1
        db.flush()
        by[1].number = 2
        db.flush()
        member = by[3].members[-1]
        member.group_id, member.position = by[1].id, 99
        db.commit()
        return str(member.external_id), 3, 2


def test_moved_lists_only_firms_whose_group_changed(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """Groups are matched by members: renumbered groups are the same, one moved firm is moved."""
    load_small(client, keys["member"])
    a = start_run(client, keys["member"], FAST)
    b = start_run(client, keys["member"], FAST)  # same seed and settings: the same groups
    assert len(groups(client, keys["viewer"], a)) >= 3
    firm, before, after = _renumber_and_move(settings, b)
    out = client.get(f"/api/v1/runs/{a}/compare/{b}", headers=auth(keys["viewer"])).json()
    assert out["moved"] == [{"external_id": firm, "from_group": before, "to_group": after}]
    assert {"a": 2, "b": 1} in out["unchanged_groups"]  # renumbered, the same group
    assert {"a": 1, "b": 2} not in out["unchanged_groups"]  # it gained the moved firm
    match = {m["a"]: m for m in out["matched_groups"]}
    assert match[2]["b"] == 1 and match[2]["same_members"]
    assert match[1]["b"] == 2 and not match[1]["same_members"]
    assert match[3]["b"] == 3 and not match[3]["same_members"]
    assert not [m for m in out["moved"] if match[m["from_group"]]["b"] == m["to_group"]]


def test_runs_scored_differently_are_not_summed(client: TestClient, keys: dict[str, str]) -> None:
    """Different group_score: comparable false, affinity deltas null, a sentence says why."""
    load_small(client, keys["member"])
    a = start_run(client, keys["member"], FAST)
    other = {**FAST, "constraints": {**FAST["constraints"], "group_score": "member_mean"}}
    b = start_run(client, keys["member"], other)
    url = f"/api/v1/runs/{a}/compare/{b}"
    out = client.get(url, headers=auth(keys["viewer"])).json()
    assert out["comparable"] is False
    assert out["total_affinity"]["delta"] is None
    assert "pair_sum" in out["comparable_note"] and "member_mean" in out["comparable_note"]
    assert "niet vergelijkbaar" in out["comparable_note"]
    en = client.get(url, headers={**auth(keys["viewer"]), "Accept-Language": "en"}).json()
    assert "not comparable" in en["comparable_note"]
    assert en["constraint_differences"]["group_score"] == {"a": "pair_sum", "b": "member_mean"}
