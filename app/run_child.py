"""What a run's worker process executes once :mod:`app.run_process` has tied it to its
parent and lowered its priority: the service's logging, then :func:`execute_run`.

A module of its own so that the light entry point imports it (and with it numpy, numba,
SQLAlchemy and the solver) only after ``nice``, and so that nothing here imports the
executor (:mod:`app.jobs`) that spawns the process.
"""

from __future__ import annotations

from app.config import Settings
from app.logs import configure_logging
from app.services.execution import execute_run


def process_main(run_id: int, settings: Settings, attempt: int | None = None) -> None:
    """Execute one run (attempt ``attempt``) in this worker process, with the service's logging."""
    configure_logging(settings)
    execute_run(run_id=run_id, settings=settings, attempt=attempt)
