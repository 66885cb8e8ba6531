"""One organisation's large import never stalls the server for the others: a real `kring serve`
process on a SQLite file, real parallel clients (threads with httpx) on loopback."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from bench.loadtest import Server, free_port
from matching.sme.firms import firms_to_csv
from matching.sme.generate import generate_cohort
from tests.app.conftest import auth, issue_key, make_settings

ROWS = 50_000  # KRING_MAX_ROWS' default: the largest import a request may carry


def _poll(base: str, url: str, key: str | None, stop: threading.Event, out: list) -> None:  # type: ignore[type-arg]
    """GET ``url`` back to back (50 ms apart) until ``stop``; append (began, seconds, status)."""
    headers = auth(key) if key else {}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while not stop.is_set():
            began = time.monotonic()
            status = client.get(url).status_code
            out.append((began, time.monotonic() - began, status))
            time.sleep(0.05)


@pytest.mark.slow
def test_health_and_other_organisations_answer_during_a_50000_row_import(tmp_path: Path) -> None:
    """While org A imports 50,000 firms (within the row and body limits; the production
    executor, so in the import process), /health answers within 1 s every time and org B's
    reads keep succeeding; the import itself succeeds."""
    settings: Settings = make_settings(tmp_path / "loop.db")
    assert settings.max_rows == ROWS and settings.database_url.startswith("sqlite")
    upgrade(settings)
    importer, reader = issue_key(settings, "a", Role.member), issue_key(settings, "b", Role.member)
    dispose_engine(settings.database_url)
    cohort = generate_cohort(ROWS + 200, seed=5)
    big = firms_to_csv(cohort.firms[:ROWS]).encode()
    assert len(big) < settings.max_body_bytes
    env = {**os.environ, "KRING_DATABASE_URL": settings.database_url, "KRING_EXECUTOR": "process",
           "KRING_API_KEY_PEPPER": "test-pepper", "KRING_LOG_LEVEL": "WARNING"}  # fmt: skip
    server = Server(env, free_port(), tmp_path / "server.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base, headers=auth(reader), timeout=60) as b:
            files = {"file": ("b.csv", firms_to_csv(cohort.firms[ROWS:]), "text/csv")}
            assert b.post("/api/v1/firms/import", files=files).status_code == 200
        stop = threading.Event()
        health: list[tuple[float, float, int]] = []
        reads: list[tuple[float, float, int]] = []
        pollers = [
            threading.Thread(target=_poll, args=(server.base, "/health", None, stop, health)),
            *(
                threading.Thread(
                    target=_poll,
                    args=(server.base, "/api/v1/firms?limit=100", reader, stop, reads),
                )
                for _ in range(3)
            ),
        ]
        for thread in pollers:
            thread.start()
        time.sleep(0.5)
        began = time.monotonic()
        with httpx.Client(base_url=server.base, headers=auth(importer), timeout=300) as a:
            r = a.post("/api/v1/firms/import", files={"file": ("a.csv", big, "text/csv")})
        ended = time.monotonic()
        stop.set()
        for thread in pollers:
            thread.join(60)
    finally:
        server.stop()
    assert r.status_code == 200, r.text[:300]
    assert r.json()["created"] == ROWS
    during = [(s, status) for at, s, status in health if began <= at <= ended]
    assert len(during) >= 5, (len(during), ended - began)
    assert all(status == 200 for _, status in during)
    worst = max(s for s, _ in during)
    assert worst < 1.0, f"/health took {worst:.2f} s during a {ended - began:.1f} s import"
    reads_during = [status for at, _, status in reads if began <= at <= ended]
    assert reads_during and set(reads_during) == {200}


@pytest.mark.slow
def test_import_process_reports_bad_rows_as_422_and_imports_good_files(tmp_path: Path) -> None:
    """With the production executor a bad file or JSON record is still a 422 listing its rows,
    nothing stored; good ones after it are stored (the import process survives a rejection)."""
    settings = make_settings(tmp_path / "bad.db")
    upgrade(settings)
    key = issue_key(settings, "a", Role.member)
    dispose_engine(settings.database_url)
    env = {**os.environ, "KRING_DATABASE_URL": settings.database_url, "KRING_EXECUTOR": "process",
           "KRING_API_KEY_PEPPER": "test-pepper", "KRING_LOG_LEVEL": "WARNING"}  # fmt: skip
    good = firms_to_csv(generate_cohort(30, seed=2).firms)
    bad = good.replace(",9", ",0", 1)  # the first firm's postcode no longer exists
    server = Server(env, free_port(), tmp_path / "server.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base, headers=auth(key), timeout=120) as c:
            r = c.post("/api/v1/firms/import", files={"file": ("bad.csv", bad, "text/csv")})
            assert r.status_code == 422, r.text[:300]
            assert r.headers["content-type"] == "application/problem+json"
            assert any(e["row"] == 1 for e in r.json()["errors"]), r.text[:300]
            assert c.get("/api/v1/firms").json()["total"] == 0
            r = c.post("/api/v1/firms/import", files={"file": ("good.csv", good, "text/csv")})
            assert r.status_code == 200 and r.json()["created"] == 30, r.text[:300]
            record = {"external_id": "j1", "name": "Json BV", "postcode": "0726",
                      "sbi_code": "6201", "employees": 5, "digital_level": 2,
                      "needs": ["dig.cybersecurity"]}  # fmt: skip
            r = c.post("/api/v1/firms", json=[record])
            assert r.status_code == 422 and r.json()["errors"][0]["row"] == 1, r.text[:300]
            r = c.post("/api/v1/firms", json=[{**record, "postcode": "9711"}])
            assert r.status_code == 200 and r.json()["created"] == 1, r.text[:300]
    finally:
        server.stop()
