"""``kring bench load``: a bounded loopback load test of the real server (bench/loadtest.py)."""

from __future__ import annotations

import typer


def bench_load(
    clients: int = typer.Option(50, min=1, help="Concurrent reading clients"),
    requests: int = typer.Option(5000, min=1, help="Read requests in all (the test stops)"),
    duration_s: float = typer.Option(60.0, min=1.0, help="Longest read phase (the test stops)"),
    firms: int = typer.Option(1500, min=20, help="Generated cohort size"),
    seed: int = typer.Option(..., help="Cohort and solver seed (required)"),
    run_time_limit_s: float = typer.Option(10.0, min=1.0, help="Time limit of each run"),
    think_ms: float = typer.Option(
        0.0, min=0.0, help="Mean pause of a client between requests (0: back to back)"
    ),
    workers: int = typer.Option(1, min=1, max=64, help="`kring serve --workers` (web processes)"),
    postgres: str | None = typer.Option(
        None,
        help="A PostgreSQL server URL (postgresql+psycopg://user@host:port/db): the test "
        "creates its own database there and drops it; default a fresh SQLite file",
    ),
    import_rows: int = typer.Option(
        50_000,
        min=0,
        help="Then: another organisation's /firms reads and /health, idle and during an "
        "import of this many firms by a second organisation (0: skip)",
    ),
    import_only: bool = typer.Option(False, help="Only the idle/during-import comparison"),
) -> None:
    """Reads of groups, GeoJSON and firms at N clients while a run executes and firms import;
    then reads of another organisation idle and during a 50,000-row import.

    Loopback only (127.0.0.1, a free port); a fresh SQLite file; stops by itself.
    """
    if not import_only:
        _main_load(clients, requests, duration_s, firms, seed, run_time_limit_s, think_ms, workers,
                   postgres)  # fmt: skip
    if import_rows:
        _import_load(import_rows, firms, seed, postgres)


def _import_load(rows: int, firms: int, seed: int, postgres: str | None) -> None:
    from bench.loadtest_import import ImportLoadConfig, run_import_load

    cfg = ImportLoadConfig(rows=rows, firms=firms, seed=seed, postgres_url=postgres)
    report = run_import_load(cfg)
    typer.echo(
        f"{cfg.clients} reader threads of organisation 'load' ({firms} firms, think "
        f"{cfg.think_ms:.0f} ms) page GET /firms, /health every 100 ms, "
        f"{'PostgreSQL' if postgres else 'SQLite'}; idle {report.idle.seconds:.1f} s, then "
        f"organisation 'bulk' imports: {report.import_note}"
    )
    typer.echo(
        "| phase | reads | errors | p50 ms | p95 ms | p99 ms | max ms "
        "| /health p50 ms | /health p95 ms | /health max ms |"
    )
    typer.echo("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for phase in (report.idle, report.during):
        name, n, errors, *ms = phase.row()
        typer.echo(f"| {name} | {n} | {errors} | " + " | ".join(f"{v:.0f}" for v in ms) + " |")


def _main_load(
    clients: int, requests: int, duration_s: float, firms: int, seed: int,
    run_time_limit_s: float, think_ms: float, workers: int, postgres: str | None,
) -> None:  # fmt: skip
    from bench.loadtest import LoadConfig, run_load_test

    cfg = LoadConfig(
        clients, requests, duration_s, firms, seed, run_time_limit_s, think_ms, workers, postgres
    )
    report = run_load_test(cfg)
    reads = len(report.samples)
    typer.echo(
        f"{clients} clients (think {think_ms:.0f} ms), {workers} web process(es), "
        f"{'PostgreSQL' if postgres else 'SQLite'}, "
        f"{reads} reads in {report.wall_s:.1f} s "
        f"({reads / max(report.wall_s, 1e-9):.0f}/s); {firms} firms, seed {seed}; "
        f"first run succeeded after {report.first_run_s:.1f} s"
    )
    typer.echo(
        f"during the reads: second run {report.second_run} "
        f"(seen running: {'yes' if report.second_run_seen_running else 'no'}), "
        f"CSV import {report.import_note}"
    )
    if report.server_cpu_s is not None:
        typer.echo(
            f"CPU during the reads: server processes {report.server_cpu_s:.1f} s "
            f"({1000 * report.server_cpu_s / max(reads, 1):.1f} ms per read; run workers are "
            f"separate processes), load-test client {report.client_cpu_s:.1f} s"
        )
    sizes = ", ".join(f"{name} {kb:.0f}" for name, kb in report.wire_kb().items())
    typer.echo(f"mean body kB as received (Accept-Encoding: gzip): {sizes}")
    typer.echo("| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | max ms |")
    typer.echo("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, errors, p50, p95, p99, top in report.table():
        typer.echo(f"| {name} | {n} | {errors} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {top:.0f} |")
    slow = report.slow_seconds()
    if slow:
        worst = "; ".join(f"+{sec} s: {n} reads, max {top:.0f} ms" for sec, n, top in slow[:5])
        typer.echo(f"reads over 1 s, by the second they began in: {worst}")
    events = "; ".join(f"+{at:.1f} s {what}" for at, what in report.events)
    typer.echo(f"writes: {events}")
    for line in report.errors:
        typer.echo(f"error: {line}")
