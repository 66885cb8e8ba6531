"""``kring bench ccp``: the optimiser on the public CCPLIB capacitated-clustering instances."""

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this module's commands to the main app and the ``bench`` group."""
