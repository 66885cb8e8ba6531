"""Scale-out fixtures: real PostgreSQL and Redis servers (.ci/services), Celery workers.

Outside CI the Celery tests are skipped when the servers cannot be started; in CI
(``CI=true``) that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.config import Settings
from app.db import dispose_engine
from app.migrate import upgrade
from tests.app.conftest import auth
from tests.pg import create_database

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 4.0


@pytest.fixture(scope="session")
def servers() -> dict[str, str]:
    """URLs of the loopback PostgreSQL server and Redis (started if needed)."""
    done = subprocess.run(
        [str(ROOT / ".ci" / "services"), "start"], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL/Redis are required in CI: {done.stderr}")
        pytest.skip(f"PostgreSQL/Redis not available: {done.stderr.strip()}")
    return dict(line.split("=", 1) for line in done.stdout.split())


def celery_settings(servers: dict[str, str], tag: str, db: int) -> Settings:
    """Settings of a fresh, migrated PostgreSQL database and its own Redis database."""
    settings = Settings.model_validate(
        {
            "database_url": create_database(servers["KRING_TEST_DATABASE_URL"], tag),
            "broker_url": servers["KRING_TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{db}",
            "executor": "celery",
            "api_key_pepper": SecretStr("test-pepper"),
            "windows": 4,
            "lease_s": LEASE_S,
            "poll_interval_s": 0.5,
            "max_time_limit_s": 600.0,
        }
    )
    upgrade(settings)
    redis.Redis.from_url(settings.broker_url).flushdb()
    return settings


def env_of(settings: Settings) -> dict[str, str]:
    """The environment a worker or API subprocess reads these settings from."""
    return {
        **os.environ,
        "KRING_DATABASE_URL": settings.database_url,
        "KRING_BROKER_URL": settings.broker_url,
        "KRING_EXECUTOR": "celery",
        "KRING_API_KEY_PEPPER": "test-pepper",
        "KRING_WINDOWS": str(settings.windows),
        "KRING_LEASE_S": str(settings.lease_s),
        "KRING_POLL_INTERVAL_S": str(settings.poll_interval_s),
        "KRING_MAX_TIME_LIMIT_S": str(settings.max_time_limit_s),
        "KRING_LOG_LEVEL": "WARNING",
    }


def start_worker(settings: Settings, name: str) -> subprocess.Popen[bytes]:
    """A real ``kring worker`` process (one Celery worker, concurrency 1)."""
    code = "from app.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "worker", "--concurrency", "1"],
        env={**env_of(settings), "CELERY_WORKER_NAME": name},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_tree(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal a process started by these fixtures and its children (its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(30)


@pytest.fixture
def workers(request: pytest.FixtureRequest) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A list the test fills with worker processes; all are killed afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        kill_tree(process)


def wait_run(client: TestClient | httpx.Client, key: str, run_id: int, limit_s: float) -> dict:  # type: ignore[type-arg]
    """Poll the run until it finished (or fail after ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    run: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}", headers=auth(key)).json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still {run.get('status')} after {limit_s} s")


def dispose(settings: Settings) -> None:
    """Close the test's pooled connections."""
    dispose_engine(settings.database_url)
