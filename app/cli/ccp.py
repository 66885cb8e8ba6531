"""``kring bench ccp``: the optimiser on the public CCPLIB capacitated-clustering instances."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "ccp"


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this module's commands to the main app and the ``bench`` group."""

    @bench.command("ccp")
    def bench_ccp(
        instances: list[str] | None = typer.Argument(
            None, help="Instance names or prefixes (e.g. RanReal240_01, Sparse82); all if none."
        ),
        time_limit: float = typer.Option(
            60.0, "--time-limit", "--time-limit-s", min=0.1, help="Seconds per instance."
        ),
        seed: int = typer.Option(0, "--seed", help="Solver seed."),
        workers: int = typer.Option(
            1, "--workers", min=1, help="Processes per instance (populations of the search)."
        ),
        directory: Path = typer.Option(DEFAULT_DIR, "--dir", help="Folder with CCPLIB zips."),
    ) -> None:
        """Solve CCPLIB instances; print `name objective best_known gap_pct% seconds`."""
        from bench import ccp as benchmark

        try:
            files = benchmark.select(directory, list(instances or []))
        except FileNotFoundError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        rows = []
        for row in benchmark.run(files, time_limit, seed, workers):
            rows.append(row)
            typer.echo(row.line())
        typer.echo(benchmark.summary(rows))
