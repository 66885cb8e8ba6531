"""The Celery executor end to end: real Redis, PostgreSQL, two `kring worker` processes."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.convert import row_to_firm
from app.db import open_session
from app.models import Group, Role, Run, RunWindow, bind_organisation
from app.services.execution import load_inputs
from matching.sme.firms import firms_to_csv, pairs_to_csv
from matching.sme.generate import generate_cohort
from matching.sme.pipeline import solve_firms
from tests.app.conftest import auth, client_for, issue_key
from tests.scale.conftest import (
    ROOT,
    celery_settings,
    dispose,
    env_of,
    kill_tree,
    start_worker,
    wait_run,
)

pytestmark = pytest.mark.slow
API = "http://127.0.0.1:8765"
N_FIRMS = 5_000
ITERATIONS = 1_500
RUN = {"purpose": "training", "seed": 1, "time_limit_s": 600,
       "constraints": {"max_iterations": ITERATIONS}}  # fmt: skip


def _load(client: TestClient, key: str, n: int) -> None:
    cohort = generate_cohort(n, seed=7)
    for url, body in (
        ("/api/v1/firms/import", firms_to_csv(cohort.firms)),
        ("/api/v1/competitors", pairs_to_csv(cohort.competitors)),
        ("/api/v1/partners", pairs_to_csv(cohort.partners)),
    ):
        r = client.post(url, files={"file": ("x.csv", body, "text/csv")}, headers=auth(key))
        assert r.status_code == 200, r.text


def _world(servers: dict[str, str], tag: str, db: int, n: int) -> tuple[Settings, str]:
    settings = celery_settings(servers, tag, db)
    key = issue_key(settings, "north", Role.member)
    with client_for(settings) as client:
        _load(client, key, n)
    return settings, key


def _single_process(settings: Settings, run_id: int) -> dict[str, Any]:
    """The in-process result for the same firms, settings, seed and budget."""
    with open_session(settings) as db:
        run = db.get(Run, run_id)
        assert run is not None
        bind_organisation(db, run.organisation_id)
        inputs = load_inputs(db=db, run=run)
        firms = [row_to_firm(r) for r in inputs.rows]
    report = solve_firms(firms, inputs.competitors, inputs.partners, inputs.settings)
    return report.stats


def test_two_workers_solve_a_5000_firm_run_in_windows_as_well_as_one_process(
    servers: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    """5,000 firms over >= 4 windows on two workers: verified, coverage and affinity within 1 %."""
    settings, key = _world(servers, "e2e", 1, N_FIRMS)
    workers += [start_worker(settings, "w1"), start_worker(settings, "w2")]
    with client_for(settings) as client:
        run_id = client.post("/api/v1/runs", json=RUN, headers=auth(key)).json()["id"]
        run = wait_run(client, key, run_id, 400)
        assert run["status"] == "succeeded", run.get("error")
        groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(key)).json()
    stats = run["stats"]
    assert stats["executor"] == "celery" and stats["verified"] is True
    assert len(stats["windows"]) >= 4 and all(w["band"] > 0 for w in stats["windows"])
    assert stats["repair"]["parts"] >= 1  # the border repair ran as tasks of its own
    members = [m for g in groups["groups"] for m in g["members"]]
    assert len(members) == len({m["external_id"] for m in members}) == stats["placed"]
    single = _single_process(settings, run_id)
    assert single["verified"] is True
    assert stats["placed"] >= 0.99 * single["placed"]
    affinity, reference = stats["objective"]["affinity"], single["objective"]["affinity"]
    assert affinity >= 0.99 * reference, (affinity, reference)
    dispose(settings)


TIMED_LIMIT_S = 10.0
OVERHEAD_S = 17.0
"""Allowed beyond the limit: the tasks' fixed costs outside the split (each window's star
test, the merge's report and storing); measured 10.3 s on a busy 2-core machine, where the
same run took 32 s before the split (22 s beyond the limit)."""


def test_a_celery_run_keeps_to_its_time_limit_over_its_windows(
    servers: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    """4 windows on 2 workers at a 10-s limit: started to finished within limit + overhead.

    Before the split every window got the whole limit (2 waves x 10 s, then the merge): 32 s.
    """
    settings, key = _world(servers, "timed", 4, N_FIRMS)
    workers += [start_worker(settings, "w1"), start_worker(settings, "w2")]
    timed = {"purpose": "training", "seed": 1, "time_limit_s": TIMED_LIMIT_S}
    with client_for(settings) as client:
        run_id = client.post("/api/v1/runs", json=timed, headers=auth(key)).json()["id"]
        run = wait_run(client, key, run_id, 300)
    assert run["status"] == "succeeded", run.get("error")
    split = run["stats"]["time_split"]
    assert split["workers"] == 2 and split["waves"] == 2
    assert split["expected_s"] == pytest.approx(TIMED_LIMIT_S, abs=0.01)
    with open_session(settings) as db:
        limits = db.scalars(select(RunWindow.plan).where(
            RunWindow.run_id == run_id, RunWindow.number >= 0))  # fmt: skip
        assert all(p["time_limit_s"] == pytest.approx(split["window_s"], abs=1e-3) for p in limits)
        row = db.get(Run, run_id)
        assert row is not None and row.started_at is not None and row.finished_at is not None
        wall = (row.finished_at - row.started_at).total_seconds()
    print(f"celery run wall {wall:.1f} s at time_limit_s {TIMED_LIMIT_S}")
    assert wall <= TIMED_LIMIT_S + OVERHEAD_S, wall
    dispose(settings)


def _serve(settings: Settings) -> subprocess.Popen[bytes]:
    """The real API (`kring serve`) on port 8765, waited for until it answers."""
    code = "from app.cli import main; main()"
    api = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", "8765"],
        env=env_of(settings), cwd=ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{API}/health", timeout=2).status_code == 200:
                return api
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("kring serve did not start")


def test_a_killed_worker_and_a_killed_api_lose_no_run(
    servers: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    """kill -9 of a worker mid-window and of the API mid-run: the run still succeeds, verified."""
    settings, key = _world(servers, "faults", 2, 4_000)
    victim = start_worker(settings, "victim")
    workers += [_serve(settings), victim, start_worker(settings, "survivor")]
    r = httpx.post(f"{API}/api/v1/runs", json=RUN, headers=auth(key), timeout=30)
    run_id = r.json()["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # both workers busy on a window
        with open_session(settings) as db:
            busy = db.scalars(select(RunWindow).where(RunWindow.status == "running")).all()
        if len(busy) >= 2:
            break
        time.sleep(0.3)
    kill_tree(victim)
    kill_tree(workers[0])  # the API
    workers.append(_serve(settings))
    with httpx.Client(base_url=API, timeout=30) as client:
        run = wait_run(client, key, run_id, 400)
    assert run["status"] == "succeeded", run.get("error")
    assert run["stats"]["verified"] is True
    assert max(w["attempts"] for w in run["stats"]["windows"]) >= 2  # a window was taken over
    dispose(settings)


def test_cancelling_a_celery_run_stops_its_windows(
    servers: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    """Cancelling a run mid-window ends it `cancelled` promptly, with no groups stored."""
    settings, key = _world(servers, "cancel", 3, 3_500)
    workers.append(start_worker(settings, "w1"))
    long_run = {**RUN, "constraints": {"max_iterations": 10_000_000}}
    with client_for(settings) as client:
        run_id = client.post("/api/v1/runs", json=long_run, headers=auth(key)).json()["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with open_session(settings) as db:
                if db.scalar(select(RunWindow.id).where(RunWindow.status == "running")):
                    break
            time.sleep(0.3)
        began = time.monotonic()
        assert client.post(f"/api/v1/runs/{run_id}/cancel", headers=auth(key)).status_code == 202
        run = wait_run(client, key, run_id, 120)
    assert run["status"] == "cancelled" and time.monotonic() - began < 60
    with open_session(settings) as db:
        assert db.scalar(select(Group.id).where(Group.run_id == run_id)) is None
    dispose(settings)
