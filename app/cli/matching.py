"""``kring`` sub-commands for matching: ``solve``, ``generate`` and ``bench smes``.

Heavy imports happen inside the commands, so ``kring --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

BAD_INPUT = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(BAD_INPUT)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename (all or nothing)."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate(
    outdir: Annotated[
        Path, typer.Argument(help="Directory for smes.csv, competitors.csv, partners.csv.")
    ],
    n: Annotated[int, typer.Option("--n", help="Number of firms.")] = 2000,
    provinces: Annotated[
        str, typer.Option(help="Comma-separated provinces to draw PC4 centroids from.")
    ] = "Groningen,Fryslân,Drenthe",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cohort).")] = 1,
) -> None:
    """Generate a realistic synthetic SME cohort (smes.csv + competitors.csv + partners.csv)."""
    from geodata.errors import GeodataError
    from matching.firms import firms_to_csv, pairs_to_csv
    from matching.generate import GenerateError, generate_cohort

    names = tuple(p.strip() for p in provinces.split(",") if p.strip())
    try:
        cohort = generate_cohort(n, names, seed=seed)
    except (GenerateError, GeodataError) as exc:
        raise _fail(str(exc)) from None
    _write_atomic(outdir / "smes.csv", firms_to_csv(cohort.firms))
    _write_atomic(outdir / "competitors.csv", pairs_to_csv(cohort.competitors))
    _write_atomic(outdir / "partners.csv", pairs_to_csv(cohort.partners))
    typer.echo(
        f"{len(cohort.firms)} firms, {len(cohort.competitors)} competitor pairs, "
        f"{len(cohort.partners)} partner pairs -> {outdir}"
    )


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this module's commands to the main app and the ``bench`` group."""
    app.command("generate")(generate)
