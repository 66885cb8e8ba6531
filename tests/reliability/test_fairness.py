"""One organisation never holds the only worker: hopeless runs end at once, organisations
are claimed round-robin (and optionally limited), time limits are capped per organisation,
a queued run shows its place, and unknown external_ids are refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import dispose_engine, open_session
from app.migrate import upgrade
from app.models import Organisation, Role, Run, RunStatus
from app.services.runs import claim, queue_positions
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings

SMALL = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}


@pytest.fixture
def two_orgs(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, int]]]:
    """A migrated database with organisations "north" and "south" (no runs)."""
    settings = make_settings(tmp_path / "fair.db")
    upgrade(settings)
    issue_key(settings, "north", Role.member)
    issue_key(settings, "south", Role.member)
    with open_session(settings) as db:
        orgs = {o.name: o.id for o in db.scalars(select(Organisation))}
    yield settings, orgs
    dispose_engine(settings.database_url)


def queue(settings: Settings, org_id: int, n: int) -> list[int]:
    """Queue ``n`` runs of ``org_id``; their ids."""
    with open_session(settings) as db:
        runs = [Run(organisation_id=org_id, purpose="training", params={}, filters={})
                for _ in range(n)]  # fmt: skip
        db.add_all(runs)
        db.commit()
        return [r.id for r in runs]


def finish(settings: Settings, run_id: int) -> None:
    """Mark a claimed run succeeded (as its worker would)."""
    with open_session(settings) as db:
        run = db.get(Run, run_id)
        assert run is not None
        run.status = RunStatus.succeeded
        db.commit()


def test_claims_alternate_between_organisations_and_match_the_queue_positions(
    two_orgs: tuple[Settings, dict[str, int]],
) -> None:
    """North queues three runs before south queues two: claims go N, S, N, S, N, exactly the
    order the queue positions announced."""
    settings, orgs = two_orgs
    north = queue(settings, orgs["north"], 3)
    south = queue(settings, orgs["south"], 2)
    with open_session(settings) as db:
        positions = queue_positions(db=db)
    claimed = []
    while (lease := claim(settings=settings)) is not None:
        claimed.append(lease.run_id)
        assert lease.attempt == 1
        finish(settings, lease.run_id)
        time.sleep(0.01)  # distinct claim times
    assert claimed == [north[0], south[0], north[1], south[1], north[2]]
    assert sorted(positions, key=positions.__getitem__) == claimed


def test_an_organisation_at_its_running_limit_is_passed_over(
    two_orgs: tuple[Settings, dict[str, int]],
) -> None:
    """With max_running_per_organisation=1 a second north run waits while one runs, and
    south's run is claimed although it was queued later."""
    settings, orgs = two_orgs
    limited = settings.model_copy(update={"max_running_per_organisation": 1})
    north = queue(settings, orgs["north"], 2)
    south = queue(settings, orgs["south"], 1)
    first, second = claim(settings=limited), claim(settings=limited)
    assert first is not None and second is not None
    assert (first.run_id, second.run_id) == (north[0], south[0])
    assert claim(settings=limited) is None
    finish(settings, north[0])
    third = claim(settings=limited)
    assert third is not None and third.run_id == north[1]


def _import(client: TestClient, key: str) -> None:
    with (DATA / "smes_small.csv").open("rb") as fh:
        r = client.post("/api/v1/firms/import", files={"file": ("s.csv", fh)}, headers=auth(key))
    assert r.status_code == 200, r.text


def _wait(client: TestClient, key: str, run_id: int, limit_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}", headers=auth(key)).json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} not finished after {limit_s} s")


@pytest.mark.slow
def test_two_organisations_share_one_worker_fairly(tmp_path: Path) -> None:
    """On one worker, north posts three runs and then south two: the runs start in the
    order north, south, north, south, north; queued runs show their queue position."""
    settings = make_settings(tmp_path / "share.db", executor="thread", workers=1,
                             poll_interval_s=0.1)  # fmt: skip
    upgrade(settings)
    keys = {org: issue_key(settings, org, Role.member) for org in ("north", "south")}
    with client_for(settings) as client:
        for key in keys.values():
            _import(client, key)
        posted: list[tuple[str, int, dict[str, Any]]] = []
        for org in ("north", "north", "north", "south", "south"):
            r = client.post("/api/v1/runs", json=SMALL, headers=auth(keys[org]))
            assert r.status_code == 202, r.text
            posted.append((org, r.json()["id"], r.json()))
        waiting = [
            client.get(f"/api/v1/runs/{run_id}", headers=auth(keys[org])).json()
            for org, run_id, _ in posted
        ]
        queued = [w["queue_position"] for w in waiting if w["status"] == "queued"]
        assert queued and sorted(queued) == list(range(1, len(queued) + 1))
        assert all(w["queue_position"] is None for w in waiting if w["status"] != "queued")
        runs = [_wait(client, keys[org], run_id, 120) for org, run_id, _ in posted]
    assert all(r["status"] == "succeeded" and r["queue_position"] is None for r in runs)
    order = sorted(range(len(runs)), key=lambda i: runs[i]["started_at"])
    assert [posted[i][0] for i in order] == ["north", "south", "north", "south", "north"]
    dispose_engine(settings.database_url)


@pytest.fixture
def client_keys(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app (inline runs, north's time limit capped at 60 s) with the small cohort in
    both organisations."""
    settings = make_settings(
        tmp_path / "lim.db", organisation_max_time_limit_s={"north": 60.0}, max_time_limit_s=600
    )
    upgrade(settings)
    keys = {org: issue_key(settings, org, Role.member) for org in ("north", "south")}
    with client_for(settings) as client:
        for key in keys.values():
            _import(client, key)
        yield client, keys
    dispose_engine(settings.database_url)


def test_a_run_nobody_can_be_placed_in_ends_at_once_with_the_reason(
    client_keys: tuple[TestClient, dict[str, str]],
) -> None:
    """Two firms (fewer than a group of 10) or firms out of each other's reach with a 60 s
    limit: the run succeeds at once, no groups, the reason in its stats."""
    client, keys = client_keys
    bodies = [
        {"time_limit_s": 60, "filters": {"external_ids": ["g01", "g02"]}},
        {"time_limit_s": 60, "constraints": {"min_size": 3, "max_size": 5, "max_pair_km": 0.01}},
    ]
    for body in bodies:
        began = time.monotonic()
        r = client.post("/api/v1/runs", json=body, headers=auth(keys["north"]))
        assert r.status_code == 202, r.text
        run = r.json()
        assert time.monotonic() - began < 15
        assert run["status"] == "succeeded", run
        assert run["stats"]["groups"] == 0
        assert run["stats"]["finished_early"]["code"] == "nobody_placeable"
        assert "No group can be formed" in run["stats"]["finished_early"]["reason"]
        assert run["params"]["time_limit_s"] == 60


def test_time_limit_above_the_organisations_maximum_is_422(
    client_keys: tuple[TestClient, dict[str, str]],
) -> None:
    """North (capped at 60 s) gets 422 naming time_limit_s for 61 s; south (the default
    600 s) may ask for it."""
    client, keys = client_keys
    body = {**SMALL, "time_limit_s": 61}
    r = client.post("/api/v1/runs", json=body, headers=auth(keys["north"]))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["time_limit_s"]
    assert "60" in r.json()["detail"]
    ok = client.post("/api/v1/runs", json={**body, "time_limit_s": 1}, headers=auth(keys["north"]))
    assert ok.status_code == 202
    limit = client.post("/api/v1/runs", json={**body, "time_limit_s": 601},
                        headers=auth(keys["south"]))  # fmt: skip
    assert limit.status_code == 422


def test_unknown_external_ids_in_a_run_filter_are_422_naming_them(
    client_keys: tuple[TestClient, dict[str, str]],
) -> None:
    """A run filtered on external_ids the caller's organisation does not have answers 422
    naming each unknown id (another organisation's firms count as unknown); no run stored."""
    client, keys = client_keys
    other = {"external_id": "zz-south", "name": "Zuid BV", "postcode": "9711", "sbi_code": "6201",
             "employees": 3, "digital_level": 2, "needs": ["dig.basics"]}  # fmt: skip
    assert client.post("/api/v1/firms", json=[other], headers=auth(keys["south"])).is_success
    before = client.get("/api/v1/runs", headers=auth(keys["north"])).json()["total"]
    body = {**SMALL, "filters": {"external_ids": ["g01", "nope-1", "zz-south"]}}
    r = client.post("/api/v1/runs", json=body, headers=auth(keys["north"]))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    (error,) = r.json()["errors"]
    assert error["field"] == "filters.external_ids"
    assert "nope-1" in error["message"] and "zz-south" in error["message"]
    assert "g01" not in error["message"]
    assert client.get("/api/v1/runs", headers=auth(keys["north"])).json()["total"] == before
