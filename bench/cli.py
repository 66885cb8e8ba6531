"""The benchmark command line, run as ``python -m bench ...`` (or ``kring bench ...``).

bench/ is not shipped in the wheel: it imports app/ and matching/, nothing imports it.
Heavy imports happen inside the commands, so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Annotated

import typer

from bench import geo, load, scale

CHECKOUT = Path(__file__).resolve().parents[1]
# The CCPLIB zips live beside the checkout (not in it: they are not ours to ship).
CCPLIB_DIR = CHECKOUT.parent / "shared" / "benchmarks" / "ccp"

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Benchmarks: speed, memory and quality figures for BENCHMARKS.md.",
)


@app.command("ccp")
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
    directory: Path = typer.Option(
        CCPLIB_DIR, "--dir", envvar="KRING_CCPLIB_DIR", help="Folder with CCPLIB zips."
    ),
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


@app.command("smes")
def bench_smes(
    sizes: Annotated[str, typer.Option(help="Comma-separated cohort sizes.")] = "2000,10000,50000",
    seed: Annotated[int, typer.Option(help="Seed of cohorts and solver.")] = 1,
    time_limit: Annotated[
        float | None, typer.Option(help="kring time limit (s); default 15/45/240 by size.")
    ] = None,
    purposes: Annotated[
        str, typer.Option(help="Comma-separated: peer,training.")
    ] = "peer,training",
    methods: Annotated[str, typer.Option(help="Comma-separated: kring,kmeans.")] = "kring,kmeans",
    group_score: Annotated[
        str | None,
        typer.Option(help="kring's group score: pair_sum or member_mean; default by purpose."),
    ] = None,
    reach: Annotated[
        str | None,
        typer.Option(help="kring's reach rule: islands (default) or none (as before the rule)."),
    ] = None,
) -> None:
    """kring vs k-means-constrained on generated cohorts: violations, coverage, time, memory."""
    from bench.smes import bench_smes as run
    from bench.smes import format_rows
    from matching import GROUP_SCORES

    if group_score is not None and group_score not in GROUP_SCORES:
        raise typer.BadParameter(
            f"must be one of {', '.join(GROUP_SCORES)}", param_hint="--group-score"
        )
    chosen = [m.strip() for m in methods.split(",")]
    if "kmeans" in chosen and importlib.util.find_spec("k_means_constrained") is None:
        raise typer.BadParameter(
            "kmeans needs k-means-constrained: `pip install -e '.[bench]'` (or --methods kring)",
            param_hint="--methods",
        )

    rows = run(
        [int(s) for s in sizes.split(",")],
        seed=seed,
        time_limit=time_limit,
        purposes=[p.strip() for p in purposes.split(",")],
        methods=chosen,
        group_score=group_score,
        reach=reach,
    )
    typer.echo(format_rows(rows))


@app.command("service")
def bench_service(
    firms: int = typer.Option(2000, help="Generated cohort size"),
    time_limit_s: float = typer.Option(15.0, help="Run time limit"),
    seed: int = typer.Option(..., help="Cohort and solver seed (required)"),
) -> None:
    """Time the HTTP API on a fresh SQLite file: import, pairs, list, run, read groups."""
    from bench.service import bench_service as measure

    rows = measure(firms, time_limit_s, seed)
    typer.echo("| step | seconds | note |\n|---|---:|---|")
    for step, seconds, note in rows:
        typer.echo(f"| {step} | {seconds} | {note} |")


app.command("geo")(geo.bench_geo)
app.command("load")(load.bench_load)
app.command("scale")(scale.bench_scale)


def main() -> None:
    """Run the benchmark command line (``kring bench`` names itself so in the usage lines)."""
    app(prog_name=os.environ.get("KRING_BENCH_PROG", "python -m bench"))
