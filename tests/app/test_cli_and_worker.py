"""The service CLI (db upgrade, admin keys), log hygiene, and the threaded worker (cancel)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.migrate import current_revision, head_revision, upgrade
from app.models import Role
from matching.sme.firms import firms_to_csv
from matching.sme.generate import generate_cohort
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings


def kring(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    """Run the real `kring` command line against database file ``db``."""
    env = {**os.environ, "KRING_DATABASE_URL": make_settings(db).database_url,
           "KRING_API_KEY_PEPPER": "test-pepper"}  # fmt: skip
    code = "from app.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_cli_upgrade_create_org_and_key(tmp_path: Path) -> None:
    """`kring db upgrade` migrates; `kring admin create-org/create-key` print a working key last."""
    db = tmp_path / "cli.db"
    assert kring("db", "upgrade", db=db).returncode == 0
    s = make_settings(db)
    assert current_revision(s) == head_revision(s)
    made = kring("admin", "create-org", "Noord", "--role", "admin", db=db)
    assert made.returncode == 0, made.stderr
    admin_key = made.stdout.strip().splitlines()[-1]
    extra = kring("admin", "create-key", "Noord", "--role", "viewer", db=db)
    viewer_key = extra.stdout.strip().splitlines()[-1]
    assert kring("admin", "create-org", "Noord", db=db).returncode == 1
    with client_for(s) as client:
        assert client.get("/api/v1/me", headers=auth(admin_key)).json()["role"] == "admin"
        assert client.get("/api/v1/me", headers=auth(viewer_key)).json()["role"] == "viewer"


def test_logs_never_contain_keys_or_firm_names(
    client: TestClient, keys: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Request and service logs carry ids only: no API key, no firm name."""
    name = "Geheime Bakkerij Zonneveld"
    record = {"external_id": "s1", "name": name, "postcode": "9711", "sbi_code": "1071",
              "employees": 3, "digital_level": 2, "needs": ["dig.basics"]}  # fmt: skip
    h = auth(keys["member"])
    assert client.post("/api/v1/firms", json=[record], headers=h).status_code == 200
    assert client.delete("/api/v1/firms/s1", headers=h).status_code == 204
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "firms_upserted" in text and "firm_erased" in text
    assert keys["member"] not in text
    assert name not in text


def wait_for(client: TestClient, url: str, key: str, states: set[str], limit_s: float) -> dict:  # type: ignore[type-arg]
    """Poll ``url`` until the run's status is in ``states`` (or fail after ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        run = client.get(url, headers=auth(key)).json()
        if run["status"] in states:
            return run  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"run still {run['status']} after {limit_s} s")


@pytest.mark.slow
def test_thread_worker_runs_and_stops_on_cancel(tmp_path: Path) -> None:
    """With the threaded executor a run is queued, then running, answers 202 `cancelling` to
    a cancel, and ends cancelled."""
    s: Settings = make_settings(tmp_path / "t.db", executor="thread", poll_interval_s=0.2)
    upgrade(s)
    key = issue_key(s, "north", Role.member)
    cohort = generate_cohort(600, seed=5)
    with client_for(s) as client:
        files = {"file": ("s.csv", firms_to_csv(cohort.firms), "text/csv")}
        assert (
            client.post("/api/v1/firms/import", files=files, headers=auth(key)).status_code == 200
        )
        r = client.post("/api/v1/runs", json={"time_limit_s": 60, "seed": 1}, headers=auth(key))
        assert r.status_code == 202
        assert r.json()["status"] == "queued"
        url = r.headers["location"]
        wait_for(client, url, key, {"running"}, 20)
        cancel = client.post(f"{url}/cancel", headers=auth(key))
        assert cancel.status_code == 202 and cancel.json()["status"] == "cancelling"
        began = time.monotonic()
        run = wait_for(client, url, key, {"cancelled", "succeeded", "failed"}, 30)
        assert run["status"] == "cancelled", run
        assert time.monotonic() - began < 30
        assert client.get(f"{url}/groups", headers=auth(key)).status_code == 409


@pytest.mark.slow
def test_process_worker_executes_a_run(tmp_path: Path) -> None:
    """With the default process executor a run is solved in a worker process and stored."""
    s: Settings = make_settings(tmp_path / "p.db", executor="process", poll_interval_s=0.2)
    upgrade(s)
    key = issue_key(s, "north", Role.member)
    with client_for(s) as client:
        with (DATA / "smes_small.csv").open("rb") as fh:
            files = {"file": ("s.csv", fh)}
            assert client.post("/api/v1/firms/import", files=files, headers=auth(key)).is_success
        body = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}
        r = client.post("/api/v1/runs", json=body, headers=auth(key))
        assert r.json()["status"] == "queued"
        run = wait_for(client, r.headers["location"], key, {"succeeded", "failed"}, 90)
        assert run["status"] == "succeeded", run
        groups = client.get(f"{r.headers['location']}/groups", headers=auth(key)).json()
        assert groups["groups"]


def _niceness_after_lowering(settings: Settings, out: Any) -> None:
    from app.run_process import lower_priority

    before = os.nice(0)
    lower_priority(settings.run_nice)
    out.put(os.nice(0) - before)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX niceness")
def test_run_processes_yield_the_cpu_to_the_web_process(tmp_path: Path) -> None:
    """A run worker process lowers its priority by ``run_nice`` (0 leaves it unchanged)."""
    context = multiprocessing.get_context("spawn")
    for nice in (7, 0):
        queue = context.Queue()
        s = make_settings(tmp_path / "n.db", run_nice=nice)
        process = context.Process(target=_niceness_after_lowering, args=(s, queue))
        process.start()
        process.join(60)
        assert process.exitcode == 0
        assert queue.get(timeout=5) == min(nice, 19 - os.nice(0))  # the child starts at ours


def test_kring_bench_forwards_to_python_m_bench(tmp_path: Path) -> None:
    """`kring bench ...` runs the checkout's bench/ in a child: its commands and exit codes."""
    listed = kring("bench", "--help", db=tmp_path / "unused.db")
    assert listed.returncode == 0, listed.stderr
    assert all(name in listed.stdout for name in ("ccp", "smes", "service", "geo", "load"))
    assert "Usage: kring bench" in listed.stdout
    missing = kring("bench", "ccp", "Nope_01", "--dir", str(tmp_path), db=tmp_path / "u.db")
    assert missing.returncode == 2 and "no CCPLIB instance named 'Nope_01'" in missing.stderr


def test_kring_bench_without_a_checkout_says_so(tmp_path: Path) -> None:
    """Where bench/ is not importable (an installed wheel), `kring bench` says it needs a
    source checkout and exits 2."""
    import sysconfig

    root = Path(__file__).resolve().parents[2]
    for package in ("app", "matching", "geodata", "texts"):  # a "wheel": no bench/ beside app/
        (tmp_path / package).symlink_to(root / package)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{sysconfig.get_path('purelib')}"}
    done = subprocess.run(  # -S: no .pth files, so neither the editable install nor the checkout
        [sys.executable, "-S", "-c", "from app.cli import main; main()", "bench", "smes"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "need a source checkout" in done.stderr and "Traceback" not in done.stderr


def test_executor_reports_a_library_error_as_the_users_naming_its_field(tmp_path: Path) -> None:
    """A run whose stored settings the library refuses fails with the error's words and
    ``stats.error.field``, not as an internal error."""
    from sqlalchemy import select

    from app.db import open_session
    from app.models import Run, RunStatus
    from app.services.execution import execute_run
    from app.services.runs import claim

    s = make_settings(tmp_path / "e.db")
    upgrade(s)
    key = issue_key(s, "north", Role.member)
    with client_for(s) as client:
        with (DATA / "smes_small.csv").open("rb") as fh:
            files = {"file": ("s.csv", fh)}
            assert client.post("/api/v1/firms/import", files=files, headers=auth(key)).is_success
        body = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}
        done = client.post("/api/v1/runs", json=body, headers=auth(key)).json()
        with open_session(s) as db:  # a snapshot the API would refuse, as an old row could be
            good = db.scalars(select(Run).where(Run.id == done["id"])).one()
            bad = Run(organisation_id=good.organisation_id, purpose=good.purpose,
                      status=RunStatus.queued, params={**good.params, "max_pair_km": -5.0},
                      filters=good.filters, mode=good.mode)  # fmt: skip
            db.add(bad)
            db.commit()
            bad_id = bad.id
        lease = claim(settings=s, run_id=bad_id)
        assert lease is not None
        assert execute_run(run_id=bad_id, settings=s, attempt=lease.attempt) == RunStatus.failed
        run = client.get(f"/api/v1/runs/{bad_id}", headers=auth(key)).json()
    assert run["status"] == "failed"
    assert "max_pair_km" in run["error"] and "internal error" not in run["error"]
    assert run["stats"]["error"] == {"kind": "SettingsError", "field": "max_pair_km"}
