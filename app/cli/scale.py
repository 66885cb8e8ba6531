"""``kring worker``: a Celery worker (``kring bench scale`` lives in bench/scale.py)."""

from __future__ import annotations

import typer


def worker(
    concurrency: int = typer.Option(1, min=1, help="Worker processes (one window each)."),
) -> None:
    """Run a Celery worker for KRING_EXECUTOR=celery (broker: KRING_BROKER_URL)."""
    from app.worker import main

    main(concurrency)


def register(app: typer.Typer) -> None:
    """Add ``kring worker`` to the main app."""
    app.command("worker")(worker)
