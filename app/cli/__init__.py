"""The ``kring`` command line: one entry point, sub-commands registered per concern.

Each module registers its own commands, so the geography, matching and service
commands can grow independently.  Heavy imports happen inside the commands, so
``kring --help`` stays fast.

``kring bench ...`` runs ``python -m bench ...`` in a child process: the benchmarks live in
the top-level bench/ package of a source checkout (not in the wheel), and bench imports
app, so app never imports bench.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import typer

from app.cli import geo, matching, scale, service

# Not resolved: a copied or linked app/ looks for bench/ beside itself.
CHECKOUT = Path(__file__).absolute().parents[2]
NO_BENCH = (
    "the benchmarks need a source checkout of kring: bench/ is not part of the installed "
    "package. Clone the repository, run `make` there (it installs kring in development mode "
    "and puts bench/ on the import path), then run `kring bench ...` or `python -m bench ...`."
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="kring forms groups (kringen) of 10-15 Dutch SMEs with similar needs within 50 km.",
)

geo.register(app)
matching.register(app)
service.register(app)
scale.register(app)


def _bench_env() -> dict[str, str] | None:
    """The child's environment with bench/ importable, or None when there is no bench/."""
    named = {**os.environ, "KRING_BENCH_PROG": "kring bench"}
    if (CHECKOUT / "bench" / "__main__.py").is_file():
        path = os.pathsep.join(p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH")) if p)
        return {**named, "PYTHONPATH": path}
    if importlib.util.find_spec("bench") is not None:  # e.g. the checkout's .pth in the venv
        return named
    return None


@app.command(
    "bench",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Benchmarks: speed, memory and quality figures for BENCHMARKS.md (source checkout)."""
    env = _bench_env()
    if env is None:
        typer.echo(f"error: {NO_BENCH}", err=True)
        raise typer.Exit(2)
    code = subprocess.run([sys.executable, "-m", "bench", *ctx.args], env=env).returncode
    raise typer.Exit(code)


def main() -> None:
    """Run the ``kring`` command line."""
    app()
