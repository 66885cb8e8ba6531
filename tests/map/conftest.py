"""Browser-test fixtures: a live kring server with a demo cohort and Debian's chromium.

The server is the real one (``kring demo --no-serve`` then ``kring serve``) on 127.0.0.1 at
a free port, with its own SQLite file and the demo's 1,500 firms (100+ groups, as a
programme manager sees them); the browser is ``/usr/bin/chromium`` driven by Playwright
(never a downloaded browser), each test with a fresh user-data directory.  One shared
server and run for the whole session; a second run (for comparisons) is made once, on
first use.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
DEMO_FIRMS = 1500
RUN_TIME_LIMIT_S = 6.0
KRING = [sys.executable, "-c", "from app.cli import main; main()"]
ACTIVE = ("queued", "running")
# The code the server runs (default: this checkout); a copy elsewhere can be pointed at.
SERVER_ROOT = Path(os.environ.get("KRING_MAP_TEST_ROOT", str(ROOT)))


@dataclass(frozen=True)
class LiveServer:
    """A running kring server with a demo organisation and one succeeded run."""

    base_url: str
    key: str  # the demo's member key
    run_id: int
    manager_key: str = ""

    def get(self, path: str) -> Any:
        """GET an API path with the demo key and return the decoded JSON."""
        response = httpx.get(self.base_url + path, headers={"X-API-Key": self.key}, timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any) -> Any:
        """POST JSON to an API path with the member key and return the decoded JSON."""
        headers = {"X-API-Key": self.key}
        response = httpx.post(self.base_url + path, json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def wait_for_run(self, run_id: int, timeout_s: float = 240) -> dict[str, Any]:
        """Poll a run until it has ended; returns its last RunRead."""
        _wait_for(lambda: self.get(f"/api/v1/runs/{run_id}")["status"] not in ACTIVE,
                  timeout_s, f"run {run_id}")  # fmt: skip
        run: dict[str, Any] = self.get(f"/api/v1/runs/{run_id}")
        return run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{what} not within {timeout_s} s")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Start kring on a free port with a demo cohort and wait until its first run succeeded."""
    folder = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "KRING_DATABASE_URL": f"sqlite:///{folder / 'kring.db'}",
        "KRING_EXECUTOR": "thread",
        "KRING_POLL_INTERVAL_S": "0.2",
        "KRING_LOG_LEVEL": "WARNING",
        "KRING_DEV_MODE": "true",  # `kring serve` refuses the built-in pepper otherwise
    }
    command = [*KRING, "demo", "--no-serve", "--firms", str(DEMO_FIRMS),
               "--time-limit-s", str(RUN_TIME_LIMIT_S)]  # fmt: skip
    demo = subprocess.run(
        command, env=env, cwd=SERVER_ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    lines = demo.stdout.strip().splitlines()
    key = lines[-1]
    manager_key = next(line for line in lines if line.startswith("kr_"))
    run_id = int(demo.stdout.split(" run ", 1)[1].split()[0])
    port = _free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [*KRING, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=SERVER_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    live = LiveServer(f"http://127.0.0.1:{port}", key, run_id, manager_key)
    try:
        _wait_for(lambda: httpx.get(live.base_url + "/health").is_success, 60, "server")
        assert live.wait_for_run(run_id)["status"] == "succeeded"
        yield live
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def other_run(live_server: LiveServer) -> int:
    """A second succeeded run of the demo cohort (40 km instead of 50), for comparisons."""
    body = {"purpose": "training", "time_limit_s": 4, "seed": 3, "constraints": {"max_pair_km": 40}}
    run_id: int = live_server.post("/api/v1/runs", body)["id"]
    assert live_server.wait_for_run(run_id)["status"] == "succeeded"
    return run_id


# package scope: the sync API keeps an event loop alive while it runs, which must not leak
# into later test packages that start their own loop (asyncio.run refuses inside one).
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Any]:
    """Playwright's driver, or a skip when chromium is missing outside CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs it (apt-get)")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def open_browser(playwright_driver: Any, tmp_path: Path) -> Iterator[Callable[[int, int], Any]]:
    """Open chromium with a fresh profile at a viewport size; returns the page."""
    contexts: list[Any] = []

    def _open(width: int = 1280, height: int = 800) -> Any:
        context = playwright_driver.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        contexts.append(context)
        return context.pages[0] if context.pages else context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The git-ignored folder for screenshots of the browser tests."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
