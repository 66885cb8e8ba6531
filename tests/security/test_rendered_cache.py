"""The cached groups JSON / GeoJSON of a succeeded run stays correct: decisions, firm edits
and erasures show at once, viewers and members get their own bodies, scoping still holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings

RUN = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A fresh database, the real app, keys of "north" for every role and one of "south"."""
    settings = make_settings(tmp_path / "kring.db")
    upgrade(settings)
    keys = {role.value: issue_key(settings, "north", role) for role in Role}
    keys["other"] = issue_key(settings, "south", Role.member)
    with client_for(settings) as client:
        yield client, keys
    dispose_engine(settings.database_url)


def _run(client: TestClient, key: str) -> int:
    with (DATA / "smes_small.csv").open("rb") as fh:
        files = {"file": ("s.csv", fh)}
        assert client.post("/api/v1/firms/import", files=files, headers=auth(key)).is_success
    r = client.post("/api/v1/runs", json=RUN, headers=auth(key))
    assert r.json()["status"] == "succeeded"
    return int(r.json()["id"])


def _reads(client: TestClient, key: str, run_id: int) -> tuple[dict, dict]:  # type: ignore[type-arg]
    h = auth(key)
    groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=h)
    geo = client.get(f"/api/v1/runs/{run_id}/groups.geojson", headers=h)
    assert groups.status_code == geo.status_code == 200
    return groups.json(), geo.json()


def test_decisions_and_firm_edits_show_after_cached_reads(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    """Accept, reject, a renamed firm and an erased firm appear in the next read at once."""
    client, keys = world
    run_id = _run(client, keys["member"])
    groups, _ = _reads(client, keys["viewer"], run_id)
    group = groups["groups"][0]
    assert _reads(client, keys["viewer"], run_id)[0] == groups  # served from the cache
    base = f"/api/v1/runs/{run_id}/groups/{group['id']}"
    for decision, status in (("accept", "accepted"), ("reject", "rejected")):
        assert client.post(f"{base}/{decision}", headers=auth(keys["manager"])).is_success
        groups, geo = _reads(client, keys["viewer"], run_id)
        assert groups["groups"][0]["status"] == status
        hull = next(f for f in geo["features"] if f["id"] == f"group-{group['id']}")
        assert hull["properties"]["status"] == status
    firm = group["members"][0]["external_id"]
    patch = {"name": "Nieuwe Naam BV"}
    assert client.patch(
        f"/api/v1/firms/{firm}", json=patch, headers=auth(keys["member"])
    ).is_success
    groups, geo = _reads(client, keys["viewer"], run_id)
    assert groups["groups"][0]["members"][0]["name"] == "Nieuwe Naam BV"
    assert any(f["properties"].get("name") == "Nieuwe Naam BV" for f in geo["features"])
    assert client.delete(f"/api/v1/firms/{firm}", headers=auth(keys["member"])).status_code == 204
    groups, geo = _reads(client, keys["viewer"], run_id)
    assert groups["groups"][0]["members"][0]["erased"] is True
    assert "Nieuwe Naam BV" not in str(groups) + str(geo)


def test_cached_bodies_are_per_view_and_scoped(world: tuple[TestClient, dict[str, str]]) -> None:
    """Members and viewers get their own cached bodies; another organisation still gets 404."""
    client, keys = world
    run_id = _run(client, keys["member"])
    member, _ = _reads(client, keys["member"], run_id)
    viewer, _ = _reads(client, keys["viewer"], run_id)
    postcodes = [m["postcode"] for g in member["groups"] for m in g["members"]]
    assert any(" " in p for p in postcodes)  # PC6 for members
    assert all(len(m["postcode"]) == 4 for g in viewer["groups"] for m in g["members"])
    assert _reads(client, keys["member"], run_id)[0] == member
    for suffix in ("groups", "groups.geojson"):
        r = client.get(f"/api/v1/runs/{run_id}/{suffix}", headers=auth(keys["other"]))
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
