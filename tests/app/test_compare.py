"""GET /runs/{a}/compare/{b} on two real runs."""

from __future__ import annotations

from fastapi.testclient import TestClient

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
    kept = {u["a"] for u in expected}
    assert {m["external_id"] for m in out["moved"]} == {
        f for f, n in place_a.items() if f in place_b and n not in kept
    }
    for m in out["moved"]:
        assert place_a[m["external_id"]] == m["from_group"]
        assert place_b[m["external_id"]] == m["to_group"]
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
