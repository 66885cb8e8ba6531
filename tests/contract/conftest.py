"""Contract fixtures: a live kring server (uvicorn subprocess, SQLite file) and a Python
client generated from the committed ``openapi/openapi.json`` with openapi-python-client.

The generated package lives in a temporary folder and is imported from there; it never
enters the repository.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings
from app.db import dispose_engine, open_session
from app.migrate import upgrade
from app.models import Role
from app.services.organisations import create_organisation

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"
PACKAGE = "kring_contract_client"
PEPPER = "contract-pepper"
KRING = [sys.executable, "-c", "from app.cli import main; main()"]
# File responses the generator only reads as bytes when told (its default reads text/* as
# str and skips vendor media types such as xlsx): openapi-python-client's documented option.
GENERATOR_CONFIG = f"""\
package_name_override: {PACKAGE}
project_name_override: kring-contract-client
post_hooks: []
content_type_overrides:
  text/csv: application/octet-stream
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
"""


@dataclass(frozen=True)
class Server:
    """A live kring server and a member key of its one organisation."""

    base_url: str
    key: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited at start-up (see server.log)"
        try:
            if httpx.get(url + "/health", timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server not healthy within {timeout_s} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``kring serve`` on a free loopback port with a migrated SQLite file and a member key."""
    folder = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{folder / 'kring.db'}"
    settings = Settings.model_validate({"database_url": url, "api_key_pepper": SecretStr(PEPPER)})
    upgrade(settings)
    with open_session(settings) as db:
        key = create_organisation(db=db, name="contract", role=Role.member, settings=settings).key
    dispose_engine(url)
    env = {
        **os.environ,
        "KRING_DATABASE_URL": url,
        "KRING_API_KEY_PEPPER": PEPPER,
        "KRING_EXECUTOR": "thread",
        "KRING_POLL_INTERVAL_S": "0.2",
        "KRING_LOG_LEVEL": "WARNING",
    }
    port = _free_port()
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [*KRING, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", process, 60)
            yield Server(f"http://127.0.0.1:{port}", key)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package openapi-python-client generates from openapi/openapi.json."""
    generator = Path(sys.executable).with_name("openapi-python-client")
    if not generator.exists():
        found = shutil.which("openapi-python-client")
        assert found, "openapi-python-client is missing: pip install -e '.[dev]'"
        generator = Path(found)
    folder = tmp_path_factory.mktemp("generated")
    output, config = folder / PACKAGE, folder / "config.yaml"
    config.write_text(GENERATOR_CONFIG, encoding="utf-8")
    command = [str(generator), "generate", "--path", str(SPEC), "--meta", "none",
               "--output-path", str(output), "--config", str(config)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]
