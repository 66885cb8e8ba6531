"""The ``kring`` command line: one entry point, sub-commands registered per concern.

Each module registers its own commands, so the geography, matching and service
commands can grow independently.  Heavy imports happen inside the commands, so
``kring --help`` stays fast.
"""

import typer

from app.cli import ccp, geo, load, matching, scale, service

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="kring forms groups (kringen) of 10-15 Dutch SMEs with similar needs within 50 km.",
)
bench = typer.Typer(
    no_args_is_help=True,
    help="Benchmarks: speed, memory and quality figures for BENCHMARKS.md.",
)
app.add_typer(bench, name="bench")

geo.register(app, bench)
matching.register(app, bench)
service.register(app, bench)
ccp.register(app, bench)
load.register(app, bench)
scale.register(app, bench)


def main() -> None:
    """Run the ``kring`` command line."""
    app()
