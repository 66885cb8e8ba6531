"""``kring bench load``: a bounded load test of the real server on the loopback interface.

It starts ``kring serve`` (uvicorn, process executor) on 127.0.0.1 and a free port with a
fresh SQLite file migrated by ``kring db upgrade``, creates an organisation with a member
and a viewer key, imports a generated cohort and its competitor pairs over HTTP and lets a
first run succeed.  Then ``clients`` concurrent clients read ``GET /runs/{id}/groups``,
``GET /runs/{id}/groups.geojson`` and pages of ``GET /firms`` while a second run executes
and a CSV import of further firms happens.  Every client stops after its share of
``requests`` or at ``duration_s``, whichever comes first, and the server is stopped.

Nothing leaves the machine: the server listens on 127.0.0.1 only and the clients talk to
it there.  Needs the dev extra (httpx).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from app.config import Settings

HOST = "127.0.0.1"
SETTLE_S = 3.0  # between the first run's success and the load phase
PEPPER = "kring-load-test-pepper"
ENDPOINTS = ("GET /runs/{id}/groups", "GET /runs/{id}/groups.geojson", "GET /firms?limit=100")


@dataclass(frozen=True)
class LoadConfig:
    """What one load test does; see the module docstring."""

    clients: int = 50
    requests: int = 5000
    duration_s: float = 60.0
    firms: int = 1500
    seed: int = 1
    run_time_limit_s: float = 10.0
    think_ms: float = 0.0
    server_workers: int = 1
    postgres_url: str | None = None  # a server: the test creates and drops its own database

    def __post_init__(self) -> None:
        if self.clients < 1 or self.requests < 1 or self.duration_s <= 0 or self.firms < 20:
            raise ValueError("clients, requests >= 1, duration_s > 0 and firms >= 20")
        if self.think_ms < 0:
            raise ValueError("think_ms >= 0")
        if self.server_workers < 1:
            raise ValueError("server_workers >= 1")


@dataclass
class Sample:
    """One request: endpoint label, wall seconds, HTTP status (0: exception), body bytes
    as received (compressed when the server sent ``Content-Encoding: gzip``)."""

    endpoint: str
    seconds: float
    status: int
    wire_bytes: int = 0
    started_s: float = 0.0  # since the load phase began


@dataclass
class LoadReport:
    """Read samples plus what happened to the concurrent writes."""

    config: LoadConfig
    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    first_run_s: float = 0.0
    second_run: str = ""
    second_run_seen_running: bool = False
    import_note: str = ""
    server_cpu_s: float | None = None
    client_cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)  # (s since start, what)

    def slow_seconds(self, over_ms: float = 1000.0) -> list[tuple[int, int, float]]:
        """``(second, reads begun in it slower than over_ms, their max ms)``, worst first."""
        slow: dict[int, list[float]] = {}
        for s in self.samples:
            if s.seconds * 1000 > over_ms:
                slow.setdefault(int(s.started_s), []).append(s.seconds * 1000)
        rows = [(sec, len(ms), max(ms)) for sec, ms in slow.items()]
        return sorted(rows, key=lambda r: -r[2])

    def table(self) -> list[tuple[str, int, int, float, float, float, float]]:
        """``(endpoint, requests, errors, p50, p95, p99, max)`` in ms, per endpoint, overall."""
        rows = []
        for name in (*ENDPOINTS, "all reads"):
            picked = [s for s in self.samples if name == "all reads" or s.endpoint == name]
            if not picked:
                continue
            ms = sorted(s.seconds * 1000 for s in picked)
            errors = sum(1 for s in picked if not 200 <= s.status < 300)
            rows.append((name, len(picked), errors, *percentiles(ms), ms[-1]))
        return rows

    def wire_kb(self) -> dict[str, float]:
        """Mean response body size per endpoint in kB, as received (before decompression)."""
        means = {}
        for name in ENDPOINTS:
            sizes = [s.wire_bytes for s in self.samples if s.endpoint == name and s.status]
            if sizes:
                means[name] = statistics.fmean(sizes) / 1000
        return means


def _run_async(coro: Any) -> Any:
    """Run ``coro`` to completion on a fresh event loop in its own thread.

    The caller's thread may already run an event loop (an async test runner, Playwright's
    sync API in the same pytest session, a notebook), where ``asyncio.run`` refuses to start.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of ``values`` (inclusive method; one value is its own percentile)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``; else None)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux ``/proc``; else none)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(stat.parent.name))
    return found


def tree_cpu_s(pids: Sequence[int]) -> dict[int, float]:
    """CPU seconds so far of each of ``pids`` that still exists."""
    return {pid: cpu for pid in pids if (cpu := process_cpu_s(pid)) is not None}


def kring_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def load_keys(settings: Settings) -> tuple[str, str]:
    """Create the load-test organisation with a member and a viewer key."""
    from app.db import dispose_engine, open_session
    from app.models import Organisation, Role
    from app.services.organisations import create_key, create_organisation

    with open_session(settings) as db:
        issued = create_organisation(db=db, name="load", role=Role.member, settings=settings)
        organisation = db.get(Organisation, issued.organisation_id)
        assert organisation is not None
        viewer = create_key(db=db, organisation=organisation, role=Role.viewer, settings=settings)
        db.commit()
    dispose_engine(settings.database_url)
    return issued.key, viewer.key


class Server:
    """``kring serve`` in a subprocess (its own process group), stopped on exit."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path, workers: int = 1) -> None:
        self.base = f"http://{HOST}:{port}"
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            kring_command("serve", "--host", HOST, "--port", str(port), "--workers", str(workers)),
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Poll ``/health`` until the server answers."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        """SIGTERM (graceful: the executor stops its workers), then kill the group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()


def _wait_run(client: httpx.Client, url: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        run: dict[str, Any] = client.get(url).json()
        if run["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return run
        time.sleep(0.25)


async def _reader(
    client: httpx.AsyncClient,
    number: int,
    quota: int,
    deadline: float,
    urls: dict[str, tuple[str, dict[str, str]]],
    samples: list[Sample],
    errors: list[str],
    think_s: float,
    origin: float,
) -> None:
    """One client: round-robin over the endpoints until its quota or the deadline.

    Between requests it waits ``think_s`` times a uniform 0.5-1.5 (0: back to back); with a
    think time it also starts after a uniform 0-``think_s`` delay (a ramp-up, like locust's
    spawn rate), so the clients do not all fire their first read in the same millisecond.
    """
    rng = random.Random(number)
    if think_s:  # ramp-up: users arrive over one think time, not all in the same millisecond
        await asyncio.sleep(rng.uniform(0, think_s))
    for i in range(quota):
        if time.monotonic() >= deadline:
            return
        name = ENDPOINTS[(number + i) % len(ENDPOINTS)]
        url, headers = urls[name]
        if name.startswith("GET /firms"):
            url = f"{url}&offset={100 * rng.randrange(10)}"
        began = time.perf_counter()
        try:
            r = await client.get(url, headers=headers)
            await r.aread()
            status, wire = r.status_code, r.num_bytes_downloaded
        except httpx.HTTPError as exc:
            status, wire = 0, 0
            if len(errors) < 5:
                errors.append(f"{name}: {type(exc).__name__}")
        took = time.perf_counter() - began
        samples.append(Sample(name, took, status, wire, time.monotonic() - took - origin))
        if status and not 200 <= status < 300 and len(errors) < 5:
            errors.append(f"{name}: HTTP {status}")
        if think_s:
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


async def _writes(
    client: httpx.AsyncClient,
    member: dict[str, str],
    csv_text: str,
    cfg: LoadConfig,
    events: list[tuple[float, str]],
    origin: float,
) -> tuple[str, str, bool]:
    """Start the second run, import more firms, watch the run; return notes."""

    def event(what: str) -> None:
        events.append((time.monotonic() - origin, what))

    body = {"time_limit_s": cfg.run_time_limit_s, "seed": cfg.seed + 1}
    event("second run posted")
    r = await client.post("/api/v1/runs", json=body, headers=member)
    run_url = r.headers["location"]
    await asyncio.sleep(0.5)
    began = time.perf_counter()
    files = {"file": ("more.csv", csv_text, "text/csv")}
    event("import began")
    imp = await client.post("/api/v1/firms/import", files=files, headers=member)
    took = time.perf_counter() - began
    event("import answered")
    note = f"HTTP {imp.status_code}, {imp.json().get('created')} firms created, {took:.2f} s"
    seen_running = False
    deadline = time.monotonic() + cfg.duration_s + cfg.run_time_limit_s * 4 + 60
    status = ""
    while time.monotonic() < deadline:
        status = (await client.get(run_url, headers=member)).json()["status"]
        if status == "running" and not seen_running:
            event("second run seen running")
        seen_running = seen_running or status == "running"
        if status in ("succeeded", "failed", "cancelled"):
            event(f"second run seen {status}")
            break
        await asyncio.sleep(0.5)
    return status, note, seen_running


async def _load_phase(
    base: str, keys: tuple[str, str], run_id: int, extra_csv: str, cfg: LoadConfig
) -> LoadReport:
    report = LoadReport(cfg)
    member, viewer = {"X-API-Key": keys[0]}, {"X-API-Key": keys[1]}
    limits = httpx.Limits(max_connections=cfg.clients + 4, max_keepalive_connections=cfg.clients)
    gzip_like_browsers = {"Accept-Encoding": "gzip, deflate"}  # httpx's default, made explicit
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=60.0, headers=gzip_like_browsers
    ) as client:
        origin = time.monotonic() + 1.0  # the load phase's clock starts with the reads
        writes = asyncio.create_task(_writes(client, member, extra_csv, cfg, report.events, origin))
        await asyncio.sleep(1.0)  # the second run is claimed and solving; the import begins
        began = time.monotonic()
        deadline = began + cfg.duration_s
        readers = []
        for n in range(cfg.clients):
            who = member if n % 2 == 0 else viewer
            urls = {
                ENDPOINTS[0]: (f"/api/v1/runs/{run_id}/groups", who),
                ENDPOINTS[1]: (f"/api/v1/runs/{run_id}/groups.geojson", who),
                ENDPOINTS[2]: ("/api/v1/firms?limit=100", member),
            }
            quota = cfg.requests // cfg.clients + (1 if n < cfg.requests % cfg.clients else 0)
            think_s = cfg.think_ms / 1000
            readers.append(
                _reader(
                    client,
                    n,
                    quota,
                    deadline,
                    urls,
                    report.samples,
                    report.errors,
                    think_s,
                    began,
                )
            )
        await asyncio.gather(*readers)
        report.wall_s = time.monotonic() - began
        report.second_run, report.import_note, report.second_run_seen_running = await writes
    return report


@contextlib.contextmanager
def fresh_database(cfg: LoadConfig, tmp: str) -> Iterator[str]:
    """A fresh SQLite file in ``tmp``, or a fresh database on ``cfg.postgres_url`` (dropped)."""
    if cfg.postgres_url is None:
        yield f"sqlite:///{Path(tmp) / 'load.db'}"
        return
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    server = make_url(cfg.postgres_url)
    admin = server.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    name = f"kring_load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def run_load_test(cfg: LoadConfig) -> LoadReport:
    """Set up a server with one finished run, run the load phase, stop the server."""
    from matching.sme.firms import firms_to_csv, pairs_to_csv
    from matching.sme.generate import generate_cohort

    extra = max(20, cfg.firms // 10)
    cohort = generate_cohort(cfg.firms + extra, seed=cfg.seed)
    first, more = cohort.firms[: cfg.firms], cohort.firms[cfg.firms :]
    ids = {f.external_id for f in first}
    pairs = [p for p in cohort.competitors if p[0] in ids and p[1] in ids]
    with (
        tempfile.TemporaryDirectory(prefix="kring-load-") as tmp,
        fresh_database(cfg, tmp) as db_url,
    ):
        env = {**os.environ, "KRING_DATABASE_URL": db_url, "KRING_API_KEY_PEPPER": PEPPER,
               "KRING_EXECUTOR": "process", "KRING_POLL_INTERVAL_S": "0.5"}  # fmt: skip
        subprocess.run(kring_command("db", "upgrade"), env=env, check=True, capture_output=True)
        keys = load_keys(Settings(database_url=db_url, api_key_pepper=SecretStr(PEPPER)))
        server = Server(env, free_port(), Path(tmp) / "server.log", cfg.server_workers)
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.base, headers={"X-API-Key": keys[0]}) as c:
                files = {"file": ("smes.csv", firms_to_csv(first), "text/csv")}
                c.post("/api/v1/firms/import", files=files, timeout=300).raise_for_status()
                files = {"file": ("pairs.csv", pairs_to_csv(pairs), "text/csv")}
                c.post("/api/v1/competitors", files=files, timeout=300).raise_for_status()
                began = time.monotonic()
                body = {"time_limit_s": cfg.run_time_limit_s, "seed": cfg.seed}
                r = c.post("/api/v1/runs", json=body)
                r.raise_for_status()
                run = _wait_run(c, r.headers["location"], cfg.run_time_limit_s * 4 + 120)
                if run["status"] != "succeeded":
                    raise RuntimeError(f"first run {run['status']}: {run.get('error')}")
                first_run_s = time.monotonic() - began
            # settle: the executor reaps the first run's worker (poll 0.5 s) and renders its
            # groups for the cache (~1-1.5 s of the server's CPU); measure after that
            time.sleep(SETTLE_S)
            # the server and its web workers (no run worker is alive now: the first run is
            # done and the second starts in the load phase)
            web = [server.proc.pid, *child_pids(server.proc.pid)]
            server_cpu, client_cpu = tree_cpu_s(web), time.process_time()
            report = _run_async(_load_phase(server.base, keys, run["id"], firms_to_csv(more), cfg))
            report.first_run_s = first_run_s
            report.client_cpu_s = time.process_time() - client_cpu
            after = tree_cpu_s(web)
            if server.proc.pid in server_cpu and server.proc.pid in after:
                report.server_cpu_s = sum(
                    after[p] - server_cpu[p] for p in after if p in server_cpu
                )
        finally:
            server.stop()
    return report
