"""Entry point of a run's worker process under the process executor.

The child is spawned, so it imports what it runs; this module imports nothing heavy, so
the process lowers its CPU priority (``KRING_RUN_NICE``) before numpy, numba, SQLAlchemy
and the solver are imported — those imports take a core for a second or more, which
would otherwise be taken from the web process serving reads.
"""

from __future__ import annotations

import os


def lower_priority(nice: int) -> None:
    """Add ``nice`` to this process's niceness (POSIX; a no-op elsewhere or for 0)."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)


def main(run_id: int, nice: int, settings: object) -> None:
    """Lower this process's priority by ``nice``, then execute run ``run_id``."""
    lower_priority(nice)
    from app.jobs import process_main

    process_main(run_id, settings)  # type: ignore[arg-type]
