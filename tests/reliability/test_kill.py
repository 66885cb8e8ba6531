"""Runs survive SIGKILL of the server alone, the worker alone, or both: each run is stored
once, by its current owner, and a manager's decision made in between is never lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import open_session
from app.models import AuditEntry, Group, GroupStatus, Run
from tests.app.conftest import auth
from tests.reliability.conftest import (
    ROOT,
    RUN,
    Server,
    alive,
    get_run,
    import_firms,
    run_workers,
    solving_worker,
    start_run,
    wait_finished,
    wait_until,
)

pytestmark = pytest.mark.slow


def groups_of(settings: Settings, run_id: int) -> dict[int, GroupStatus]:
    """The stored groups of a run: number -> status."""
    with open_session(settings) as db:
        rows = db.execute(select(Group.number, Group.status).where(Group.run_id == run_id)).all()
    return dict(rows)  # type: ignore[arg-type]


def accept_first(client: httpx.Client, key: str, settings: Settings, run_id: int) -> int:
    """Accept the run's first group as a manager; its number."""
    group_id = min(groups_of(settings, run_id))
    r = client.post(f"/api/v1/runs/{run_id}/groups/{group_id}/accept", headers=auth(key))
    assert r.status_code == 200, r.text
    return group_id


def assert_decision_kept(settings: Settings, run_id: int, group_id: int, before: dict) -> None:  # type: ignore[type-arg]
    """The groups are the ones stored first, the accepted one still accepted, and the audit
    entry names that very group."""
    now = groups_of(settings, run_id)
    assert set(now) == set(before)
    assert now[group_id] == GroupStatus.accepted
    with open_session(settings) as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "group.accept")).all()
        run = db.get(Run, run_id)
        assert run is not None
        attempts = run.attempts
    assert [e.resource_id for e in entries] == [f"run {run_id} group {group_id}"]
    return attempts  # type: ignore[return-value]


def stale_worker(settings: Settings, run_id: int, attempt: int, log: Path) -> int:
    """Run a real worker process for ``run_id`` holding an old ``attempt``; its exit code."""
    code = (
        "import sys; from app.config import Settings; from app.run_process import main; "
        f"main({run_id}, 0, Settings(), {attempt}, 0)"
    )
    env = {"KRING_DATABASE_URL": settings.database_url, "KRING_API_KEY_PEPPER": "test-pepper",
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    with log.open("ab") as out:
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=out,
                              stderr=subprocess.STDOUT, timeout=120)  # fmt: skip
    return done.returncode


def test_server_killed_alone_leaves_no_orphan_and_the_run_is_stored_once(
    cohort: tuple[Settings, dict[str, str]], servers: list[Server], tmp_path: Path
) -> None:
    """SIGKILL of the server alone: its worker dies with it; the restarted server runs the run
    once (attempt 2); a manager's accept made after that store survives a stale owner's
    store (refused, logged) and the audit entry names the accepted group."""
    settings, keys = cohort
    log = tmp_path / "server.log"
    first = Server(settings, log).start()
    servers.append(first)
    with first.client() as client:
        import_firms(client, keys["member"])
        run_id = start_run(client, keys["member"])
        worker = solving_worker(first, client, keys["member"], run_id)
    first.kill()  # the server alone
    wait_until(lambda: not alive(worker), 5, "the orphaned worker exits")
    second = Server(settings, log).start()
    servers.append(second)
    with second.client() as client:
        run = wait_finished(client, keys["member"], run_id, 90)
        assert run["status"] == "succeeded", run
        stored = groups_of(settings, run_id)
        assert stored
        group_id = accept_first(client, keys["manager"], settings, run_id)
        time.sleep(RUN["time_limit_s"] + 2)  # an orphan's store would have come by now
        assert stale_worker(settings, run_id, 1, log) == 0  # the first attempt, had it lived
        assert get_run(client, keys["member"], run_id)["status"] == "succeeded"
    attempts = assert_decision_kept(settings, run_id, group_id, stored)
    assert attempts == 2
    assert "run_store_refused" in log.read_text()


def test_a_worker_that_loses_its_lease_mid_solve_stops_and_stores_nothing(
    cohort: tuple[Settings, dict[str, str]], servers: list[Server], tmp_path: Path
) -> None:
    """When a running run is claimed by a newer attempt, the old worker's next progress
    write fails: it stops long before its time limit and stores no group."""
    settings, keys = cohort
    log = tmp_path / "server.log"
    server = Server(settings, log).start()
    servers.append(server)
    with server.client() as client:
        import_firms(client, keys["member"])
        body = {**RUN, "time_limit_s": 30}
        run_id = start_run(client, keys["member"], body)
        worker = solving_worker(server, client, keys["member"], run_id)
        with open_session(settings) as db:  # what a second claim does to the row
            run = db.get(Run, run_id)
            assert run is not None
            run.attempts += 1
            db.commit()
        began = time.monotonic()
        wait_until(lambda: not alive(worker), 15, "the fenced-off worker exits")
        assert time.monotonic() - began < 15
        assert get_run(client, keys["member"], run_id)["status"] == "running"
    assert groups_of(settings, run_id) == {}
    text = log.read_text()
    assert "run_lease_lost" in text and "run_store_refused" in text


def test_worker_killed_alone_is_retried_then_given_up_after_the_bound(
    cohort: tuple[Settings, dict[str, str]], servers: list[Server], tmp_path: Path
) -> None:
    """SIGKILL of the worker alone re-queues its run, which then succeeds; a run whose worker
    is killed on every attempt fails after KRING_MAX_RUN_ATTEMPTS with the reason in words."""
    settings, keys = cohort
    server = Server(settings, tmp_path / "server.log", KRING_MAX_RUN_ATTEMPTS="2").start()
    servers.append(server)
    with server.client() as client:
        import_firms(client, keys["member"])
        run_id = start_run(client, keys["member"])
        subprocess.run(
            ["kill", "-KILL", str(solving_worker(server, client, keys["member"], run_id))]
        )
        run = wait_finished(client, keys["member"], run_id, 90)
        assert run["status"] == "succeeded" and run["attempts"] == 2, run
        assert groups_of(settings, run_id)
        doomed = start_run(client, keys["member"])
        for attempt in (1, 2):
            worker = solving_worker(server, client, keys["member"], doomed, attempt)
            os.kill(worker, signal.SIGKILL)
            wait_until(lambda w=worker: not alive(w), 10, "the worker is gone")
        run = wait_finished(client, keys["member"], doomed, 30)
    assert run["status"] == "failed" and run["attempts"] == 2, run
    assert "killed (SIGKILL) on each of 2 attempts" in run["error"]
    assert groups_of(settings, doomed) == {}
    assert not run_workers(server.pid)


def test_server_and_worker_killed_together_the_run_completes_once(
    cohort: tuple[Settings, dict[str, str]], servers: list[Server], tmp_path: Path
) -> None:
    """SIGKILL of the server and its worker: after a restart the run is solved again and
    stored once (attempt 2); a manager's accept then survives."""
    settings, keys = cohort
    log = tmp_path / "server.log"
    first = Server(settings, log).start()
    servers.append(first)
    with first.client() as client:
        import_firms(client, keys["member"])
        run_id = start_run(client, keys["member"])
        worker = solving_worker(first, client, keys["member"], run_id)
    first.kill(group=True)
    assert not alive(worker)
    second = Server(settings, log).start()
    servers.append(second)
    with second.client() as client:
        run = wait_finished(client, keys["member"], run_id, 90)
        assert run["status"] == "succeeded" and run["attempts"] == 2, run
        stored = groups_of(settings, run_id)
        group_id = accept_first(client, keys["manager"], settings, run_id)
        time.sleep(2)
    assert assert_decision_kept(settings, run_id, group_id, stored) == 2
