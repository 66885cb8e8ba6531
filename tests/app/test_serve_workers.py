"""`kring serve --workers N`: N web processes, and the run executor runs exactly once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.config import Settings, get_settings
from app.db import dispose_engine, open_session
from app.main import create_web_app
from app.migrate import upgrade
from app.models import Role, Run
from app.services.runs import claim_next
from bench.loadtest import Server, child_pids, free_port
from tests.app.conftest import DATA, auth, issue_key, make_settings

RUN = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}


def _web_client(settings: Settings) -> TestClient:
    app = create_web_app()
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app)


def _status(settings: Settings, run_id: int) -> str:
    with open_session(settings) as db:
        run = db.get(Run, run_id)
        assert run is not None
        return run.status.value


def test_web_processes_neither_requeue_nor_dispatch_runs(tmp_path: Path) -> None:
    """A web-only app leaves a queued run queued and another process's running run running."""
    settings = make_settings(tmp_path / "kring.db", executor="process", poll_interval_s=0.05)
    upgrade(settings)
    key = issue_key(settings, "north", Role.member)
    with _web_client(settings) as client:
        with (DATA / "smes_small.csv").open("rb") as fh:
            files = {"file": ("s.csv", fh)}
            assert client.post("/api/v1/firms/import", files=files, headers=auth(key)).is_success
        first = client.post("/api/v1/runs", json=RUN, headers=auth(key))
        second = client.post("/api/v1/runs", json=RUN, headers=auth(key))
        assert first.status_code == second.status_code == 202
    first_id, second_id = first.json()["id"], second.json()["id"]
    assert (
        claim_next(settings=settings, run_id=first_id) == first_id
    )  # "the dispatcher elsewhere" owns it
    with _web_client(settings) as client:  # a web process (re)starting
        time.sleep(0.3)  # several poll intervals: a dispatcher would have claimed the other
        assert client.get(f"/api/v1/runs/{second_id}", headers=auth(key)).is_success
    assert _status(settings, first_id) == "running"  # not re-queued behind the owner's back
    assert _status(settings, second_id) == "queued"  # not dispatched by a web process
    dispose_engine(settings.database_url)


@pytest.mark.slow
def test_serve_with_two_workers_runs_each_run_once(tmp_path: Path) -> None:
    """`kring serve --workers 2`: two web processes answer, a run succeeds, dispatched once."""
    db_url = f"sqlite:///{tmp_path / 'kring.db'}"
    settings = Settings(database_url=db_url, api_key_pepper=SecretStr("serve-test-pepper"))
    upgrade(settings)
    key = issue_key(settings, "north", Role.member)
    dispose_engine(db_url)
    env = {**os.environ, "KRING_DATABASE_URL": db_url, "KRING_EXECUTOR": "process",
           "KRING_API_KEY_PEPPER": "serve-test-pepper", "KRING_POLL_INTERVAL_S": "0.2"}  # fmt: skip
    server = Server(env, free_port(), tmp_path / "server.log", workers=2)
    try:
        server.wait_ready()
        assert len(child_pids(server.proc.pid)) >= 2  # the web processes
        with httpx.Client(base_url=server.base, headers=auth(key), timeout=30) as client:
            files = {"file": ("s.csv", (DATA / "smes_small.csv").read_bytes(), "text/csv")}
            assert client.post("/api/v1/firms/import", files=files).is_success
            url = client.post("/api/v1/runs", json=RUN).headers["location"]
            deadline = time.monotonic() + 60
            while (status := client.get(url).json()["status"]) in ("queued", "running"):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert status == "succeeded"
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()
    assert log.count("run_dispatched") == 1
