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


def _ints(text: str, option: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise typer.BadParameter("comma-separated integers", param_hint=option) from exc


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


def _smes_quality(
    matrix: bool, curve: str | None, sizes: list[int], purposes: list[str], seed: int,
    time_limit: float | None, options: dict[str, str | None], distance: float | None = None,
) -> None:  # fmt: skip
    """The --matrix and --time-limits modes of `bench smes` (kring only)."""
    from bench import matrix as quality
    from bench.smes import default_time_limit

    try:
        if curve is not None:
            limits = [float(x) for x in curve.split(",") if x.strip()]
            rows = quality.time_curve(region=options["region"] or "north", seed=seed,
                                      variant=options["variant"] or "base", n=sizes[0],
                                      purpose=purposes[0], limits=limits,
                                      group_score=options["group_score"],
                                      reach=options["reach"], distance=distance)  # fmt: skip
            typer.echo(quality.format_curve(rows))
            return
        rows = quality.bench_matrix(
            regions=_words(options["regions"] or ",".join(quality.REGIONS)),
            seeds=_ints(options["seeds"] or "1,2,3", "--seeds"),
            variants=_words(options["variants"] or ",".join(quality.VARIANTS)),
            sizes=sizes, purposes=purposes,
            time_limit=lambda n: default_time_limit(n) if time_limit is None else time_limit,
            group_score=options["group_score"], reach=options["reach"], distance=distance,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(quality.format_matrix(rows) + "\n\n" + quality.format_summary(rows))


@app.command("smes")
def bench_smes(
    sizes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated cohort sizes; default 2000,10000,50000 (2000 with "
            "--matrix or --time-limits; the curve uses the first)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of cohorts and solver.")] = 1,
    time_limit: Annotated[
        float | None, typer.Option(help="kring time limit (s); default 15/45/240 by size.")
    ] = None,
    purposes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: peer,training; default both (peer with --matrix "
            "or --time-limits)."
        ),
    ] = None,
    methods: Annotated[str, typer.Option(help="Comma-separated: kring,kmeans.")] = "kring,kmeans",
    group_score: Annotated[
        str | None,
        typer.Option(help="kring's group score: pair_sum or member_mean; default by purpose."),
    ] = None,
    reach: Annotated[
        str | None,
        typer.Option(help="kring's reach rule: islands (default) or none (as before the rule)."),
    ] = None,
    matrix: Annotated[
        bool,
        typer.Option(
            "--matrix",
            help="kring's quality matrix: regions x seeds x need variants "
            "at --sizes, one fresh process per cell; prints every row, then per metric "
            "the median and the worst cell.",
        ),
    ] = False,
    regions: Annotated[
        str | None,
        typer.Option(
            help="--matrix regions: north (Groningen, Fryslân, Drenthe), randstad "
            "(Zuid-Holland, Utrecht), zeeland, national (all 12); default all."
        ),
    ] = None,
    seeds: Annotated[
        str | None, typer.Option(help="--matrix seeds, comma-separated; default 1,2,3.")
    ] = None,
    variants: Annotated[
        str | None,
        typer.Option(
            help="--matrix need variants: base (1-4 needs, sector bias 1), strong "
            "(bias 2), weak (bias 0.5), many (2-6 needs); default all."
        ),
    ] = None,
    time_limits: Annotated[
        str | None,
        typer.Option(
            help="Time-to-quality curve instead: comma-separated limits (s), e.g. "
            "1,3,8,20,60, on one cohort (--region, --seed, --variant, first size)."
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="--time-limits region (default north).")
    ] = None,
    variant: Annotated[
        str | None, typer.Option(help="--time-limits need variant (default base).")
    ] = None,
    distance_weight: Annotated[
        float | None,
        typer.Option(
            help="--matrix/--time-limits compactness weight affinity.distance "
            "(default: its default)."
        ),
    ] = None,
) -> None:
    """kring vs k-means-constrained on generated cohorts: violations, coverage, time, memory.

    --matrix and --time-limits: kring's quality over regions, seeds and need variants, or time.
    """
    from matching import GROUP_SCORES

    if group_score is not None and group_score not in GROUP_SCORES:
        raise typer.BadParameter(
            f"must be one of {', '.join(GROUP_SCORES)}", param_hint="--group-score"
        )
    quality = matrix or time_limits is not None
    sizes_n = _ints(sizes or ("2000" if quality else "2000,10000,50000"), "--sizes")
    chosen_purposes = _words(purposes or ("peer" if quality else "peer,training"))
    if quality:
        options = {"regions": regions, "seeds": seeds, "variants": variants, "region": region,
                   "variant": variant, "group_score": group_score, "reach": reach}  # fmt: skip
        _smes_quality(matrix, time_limits, sizes_n, chosen_purposes, seed, time_limit, options,
                      distance_weight)  # fmt: skip
        return
    _smes_compare(sizes_n, chosen_purposes, _words(methods), seed, time_limit, group_score, reach)


def _smes_compare(
    sizes: list[int], purposes: list[str], methods: list[str], seed: int,
    time_limit: float | None, group_score: str | None, reach: str | None,
) -> None:  # fmt: skip
    """The default mode of `bench smes`: kring vs k-means-constrained."""
    from bench.smes import bench_smes as run
    from bench.smes import format_rows

    if "kmeans" in methods and importlib.util.find_spec("k_means_constrained") is None:
        raise typer.BadParameter(
            "kmeans needs k-means-constrained: `pip install -e '.[bench]'` (or --methods kring)",
            param_hint="--methods",
        )
    rows = run(sizes, seed=seed, time_limit=time_limit, purposes=purposes, methods=methods,
               group_score=group_score, reach=reach)  # fmt: skip
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
