"""``kring bench load``'s import phase: reads of another organisation during a large import.

A fresh ``kring serve`` (same setup as :mod:`bench.loadtest`: loopback, a free port, a fresh
SQLite file or PostgreSQL database) holds two organisations: "load" with a generated cohort,
whose ``clients`` threads page through ``GET /firms`` (think time between reads), and
"bulk", which imports ``rows`` generated firms in one ``POST /firms/import``.  A thread also
pings ``GET /health`` every 100 ms.  The same readers and pinger run twice: ``idle_s``
seconds with nothing else happening (the idle row), then for as long as the import takes.
Needs the dev extra (httpx).
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from app.config import Settings
from bench.loadtest import (
    PEPPER,
    LoadConfig,
    Sample,
    Server,
    free_port,
    fresh_database,
    kring_command,
    load_keys,
    percentiles,
)

READS = "GET /firms?limit=100"
HEALTH = "GET /health"


@dataclass(frozen=True)
class ImportLoadConfig:
    """What the import phase does; see the module docstring."""

    rows: int = 50_000
    clients: int = 10
    firms: int = 1500
    think_ms: float = 100.0
    idle_s: float = 10.0
    seed: int = 1
    postgres_url: str | None = None

    def __post_init__(self) -> None:
        if self.rows < 1 or self.clients < 1 or self.firms < 100 or self.idle_s <= 0:
            raise ValueError("rows, clients >= 1, firms >= 100, idle_s > 0")


@dataclass
class Phase:
    """Samples of one phase: the readers' and the /health pinger's."""

    name: str
    seconds: float = 0.0
    reads: list[Sample] = field(default_factory=list)
    health: list[Sample] = field(default_factory=list)

    def row(self) -> tuple[str, int, int, float, float, float, float, float, float, float]:
        """``(phase, reads, errors, p50, p95, p99, max, health p50, p95, max)``, in ms."""
        ms = sorted(s.seconds * 1000 for s in self.reads) or [0.0]
        hs = sorted(s.seconds * 1000 for s in self.health) or [0.0]
        errors = sum(1 for s in [*self.reads, *self.health] if not 200 <= s.status < 300)
        h50, h95, _ = percentiles(hs)
        return (self.name, len(self.reads), errors, *percentiles(ms), ms[-1], h50, h95, hs[-1])


@dataclass
class ImportLoadReport:
    """The idle and the during-import phase, and what the import answered."""

    config: ImportLoadConfig
    idle: Phase
    during: Phase
    import_note: str = ""


def _loop(
    base: str, url: Callable[[random.Random], str], key: str | None, pause_s: float, seed: int,
    stop: threading.Event, out: list[Sample], label: str,
) -> None:  # fmt: skip
    """GET ``url(rng)`` until ``stop``, ``pause_s`` x U(0.5, 1.5) apart; append samples."""
    rng = random.Random(seed)
    headers = {"X-API-Key": key} if key else {}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        while not stop.is_set():
            began = time.perf_counter()
            try:
                status = client.get(url(rng)).status_code
            except httpx.HTTPError:
                status = 0
            out.append(Sample(label, time.perf_counter() - began, status))
            time.sleep(pause_s * rng.uniform(0.5, 1.5))


def _phase(
    name: str, base: str, key: str, cfg: ImportLoadConfig, work: Callable[[], object]
) -> Phase:
    """Run the readers and the pinger while ``work()`` runs; return their samples."""
    phase, stop = Phase(name), threading.Event()
    pages = max(1, cfg.firms // 100)

    def page(rng: random.Random) -> str:
        return f"/api/v1/firms?limit=100&offset={100 * rng.randrange(pages)}"

    think = cfg.think_ms / 1000
    threads = [
        threading.Thread(target=_loop, args=(base, page, key, think, n, stop, phase.reads, READS))
        for n in range(cfg.clients)
    ]
    threads.append(
        threading.Thread(
            target=_loop,
            args=(base, lambda _: "/health", None, 0.1, -1, stop, phase.health, HEALTH),
        )
    )
    for thread in threads:
        thread.start()
    time.sleep(think)  # every reader has begun
    began = time.perf_counter()
    work()
    phase.seconds = time.perf_counter() - began
    stop.set()
    for thread in threads:
        thread.join(120)
    return phase


def run_import_load(cfg: ImportLoadConfig) -> ImportLoadReport:
    """Set up the two organisations on a fresh server, run both phases, stop the server."""
    from matching.sme.firms import firms_to_csv
    from matching.sme.generate import generate_cohort

    cohort = generate_cohort(cfg.firms + cfg.rows, seed=cfg.seed)
    small = firms_to_csv(cohort.firms[: cfg.firms])
    big = firms_to_csv(cohort.firms[cfg.firms :]).encode()
    shared = LoadConfig(postgres_url=cfg.postgres_url)
    with (
        tempfile.TemporaryDirectory(prefix="kring-import-") as tmp,
        fresh_database(shared, tmp) as url,
    ):
        env = {**os.environ, "KRING_DATABASE_URL": url, "KRING_API_KEY_PEPPER": PEPPER,
               "KRING_EXECUTOR": "process", "KRING_LOG_LEVEL": "WARNING"}  # fmt: skip
        subprocess.run(kring_command("db", "upgrade"), env=env, check=True, capture_output=True)
        settings = Settings(database_url=url, api_key_pepper=SecretStr(PEPPER))
        reader, _ = load_keys(settings)
        bulk = _bulk_key(settings)
        server = Server(env, free_port(), Path(tmp) / "server.log")
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.base, timeout=600) as c:
                files = {"file": ("load.csv", small, "text/csv")}
                c.post("/api/v1/firms/import", files=files, headers={"X-API-Key": reader})
            idle = _phase("idle", server.base, reader, cfg, lambda: time.sleep(cfg.idle_s))
            answer: list[str] = []

            def bulk_import() -> None:
                began = time.perf_counter()
                with httpx.Client(base_url=server.base, timeout=600) as c:
                    files = {"file": ("bulk.csv", big, "text/csv")}
                    r = c.post("/api/v1/firms/import", files=files, headers={"X-API-Key": bulk})
                took = time.perf_counter() - began
                created = r.json().get("created") if r.status_code == 200 else r.text[:200]
                answer.append(f"HTTP {r.status_code}, {created} firms created, {took:.1f} s")

            name = f"reads of another organisation during a {cfg.rows:,}-row import"
            during = _phase(name, server.base, reader, cfg, bulk_import)
        finally:
            server.stop()
        logged = [line for line in (Path(tmp) / "server.log").read_text().splitlines()
                  if "error" in line.lower()][-3:]  # fmt: skip
    note = f"{answer[0]} ({len(big) / 1e6:.1f} MB)" if answer else "no answer"
    if logged and not note.startswith("HTTP 200"):
        note += "; server log: " + " | ".join(logged)
    return ImportLoadReport(cfg, idle, during, note)


def _bulk_key(settings: Settings) -> str:
    """A member key of a second organisation, "bulk" (the importer)."""
    from app.db import dispose_engine, open_session
    from app.models import Role
    from app.services.organisations import create_organisation

    with open_session(settings) as db:
        key = create_organisation(db=db, name="bulk", role=Role.member, settings=settings).key
    dispose_engine(settings.database_url)
    return key
