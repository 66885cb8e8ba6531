"""Entry point of a run's worker process under the process executor.

The child is spawned, so it imports what it runs; this module imports nothing heavy, so
the process lowers its CPU priority (``KRING_RUN_NICE``) before numpy, numba, SQLAlchemy
and the solver are imported — those imports take a core for a second or more, which
would otherwise be taken from the web process serving reads.

The child also dies with the process that started it, so that a killed server never
leaves an orphan solving (and storing) beside the run it re-queues after its restart: on
Linux the kernel sends it ``SIGKILL`` when its parent dies (``PR_SET_PDEATHSIG``), and
everywhere a watchdog thread ends it once its parent pid changes.  Should it survive
anyway, its lease (the attempt number) is stale and it stores nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
WATCH_S = 0.5


def lower_priority(nice: int) -> None:
    """Add ``nice`` to this process's niceness (POSIX; a no-op elsewhere or for 0)."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)


def _prctl(option: int, value: int | bytes) -> None:
    """Linux ``prctl(2)``; a no-op elsewhere."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(option, value, 0, 0, 0)


def name_process(run_id: int) -> None:
    """Name this process ``kring-run-<id>`` (``ps``, ``/proc/<pid>/comm``; Linux only)."""
    _prctl(PR_SET_NAME, f"kring-run-{run_id}".encode()[:15])


def die_with_parent(parent_pid: int, *, kernel_signal: bool = False) -> None:
    """End this process within ``WATCH_S`` of ``parent_pid`` (its parent) dying.

    With ``kernel_signal`` (Linux) the kernel also kills it at once (``PR_SET_PDEATHSIG``).
    That signal fires when the parent's *thread* that started this process ends, not only
    the parent process: use it only for children started from a thread that lives as long
    as the parent (the executor's dispatcher), never from a request's pool thread.
    """
    if kernel_signal:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="kring-parent-watch", daemon=True).start()


def main(
    run_id: int, nice: int, settings: object, attempt: int | None = None, parent_pid: int = 0
) -> None:
    """Tie this process to ``parent_pid``, lower its priority, then execute the run."""
    if parent_pid:  # spawned by the executor's dispatcher thread, which lives as long
        die_with_parent(parent_pid, kernel_signal=True)
    name_process(run_id)
    lower_priority(nice)
    # Deliberately late: the run's heavy imports (numpy, numba, SQLAlchemy, the solver) come
    # after ``nice`` above, so they do not take a core from the web process.
    from app.run_child import process_main

    process_main(run_id, settings, attempt)  # type: ignore[arg-type]
