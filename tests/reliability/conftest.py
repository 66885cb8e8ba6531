"""Reliability fixtures: a real `kring serve` process (process executor, SQLite file) that
tests kill with real signals, its run worker processes, and a small cohort."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from tests.app.conftest import DATA, auth, issue_key, make_settings

ROOT = Path(__file__).resolve().parents[2]
RUN = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 3, "seed": 1}
FINISHED = {"succeeded", "failed", "cancelled"}


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real `kring serve` process in its own session (so its workers can be killed too)."""

    def __init__(self, settings: Settings, log: Path, **env: str) -> None:
        self.settings, self.log, self.port = settings, log, free_port()
        self.env = {
            **os.environ,
            "KRING_DATABASE_URL": settings.database_url,
            "KRING_API_KEY_PEPPER": "test-pepper",
            "KRING_EXECUTOR": "process",
            "KRING_POLL_INTERVAL_S": "0.2",
            "KRING_RUN_NICE": "0",
            "KRING_LOG_LEVEL": "INFO",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        """Start the server and wait until it answers /health."""
        code = "from app.cli import main; main()"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, "serve", "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        raise AssertionError("server did not start:\n" + self.log.read_text()[-3000:])

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None
        return self.process.pid

    def kill(self, *, group: bool = False) -> None:
        """SIGKILL the server alone, or (``group``) the server and its workers."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.pid, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        self.process.wait(30)

    def client(self) -> httpx.Client:
        """An HTTP client on this server."""
        return httpx.Client(base_url=self.url, timeout=30)


def run_workers(pid: int) -> list[int]:
    """Process ids of the run worker processes that ``pid`` started (named kring-run-<id>)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and comm.startswith("kring-run-") and alive(int(entry.name)):
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check: Any, limit_s: float, what: str) -> Any:
    """Poll ``check()`` until it returns something truthy (or fail after ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {limit_s} s: {what}")


def get_run(client: httpx.Client, key: str, run_id: int) -> dict[str, Any]:
    """The run as the API shows it."""
    r = client.get(f"/api/v1/runs/{run_id}", headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def wait_finished(client: httpx.Client, key: str, run_id: int, limit_s: float) -> dict[str, Any]:
    """Poll until the run finished."""
    return wait_until(  # type: ignore[no-any-return]
        lambda: (run := get_run(client, key, run_id))["status"] in FINISHED and run,
        limit_s,
        f"run {run_id} finished",
    )


def start_run(client: httpx.Client, key: str, body: dict[str, Any] | None = None) -> int:
    """POST a run; its id."""
    r = client.post("/api/v1/runs", json=body or RUN, headers=auth(key))
    assert r.status_code == 202, r.text
    return int(r.json()["id"])


def solving_worker(
    server: Server, client: httpx.Client, key: str, run_id: int, attempt: int = 1
) -> int:
    """Wait until attempt ``attempt`` of run ``run_id`` is solving in a worker process of
    ``server``; its pid."""

    def ready() -> int | None:
        workers = run_workers(server.pid)
        run = get_run(client, key, run_id)
        solving = run["status"] == "running" and run["progress"] > 0
        solving = solving and run["attempts"] == attempt
        return workers[0] if workers and solving else None

    return int(wait_until(ready, 60, f"run {run_id} solving in a worker"))


@pytest.fixture
def cohort(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A migrated SQLite file with org "north" (member and manager keys) and 14 firms."""
    settings = make_settings(tmp_path / "kring.db")
    upgrade(settings)
    keys = {r.value: issue_key(settings, "north", r) for r in (Role.member, Role.manager)}
    keys["other"] = issue_key(settings, "south", Role.member)
    yield settings, keys
    dispose_engine(settings.database_url)


def import_firms(client: httpx.Client, key: str) -> None:
    """Import the small cohort (14 firms in Groningen)."""
    with (DATA / "smes_small.csv").open("rb") as fh:
        r = client.post("/api/v1/firms/import", files={"file": ("s.csv", fh)}, headers=auth(key))
    assert r.status_code == 200, r.text


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    """A list the test fills with servers; every one (and its workers) is killed at the end."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)  # orphans of a killed server too
            server.process.wait(30)
