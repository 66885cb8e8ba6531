"""The run executor: claims queued runs from the database and executes them.

``KRING_EXECUTOR`` picks how, over the same :func:`execute_run`:

* ``process`` (default) — a dispatcher thread starts one worker process per run (up to
  ``KRING_WORKERS`` at a time), so solving never competes with the web server for the GIL;
* ``thread`` — the same dispatcher, with worker threads;
* ``inline`` — runs execute synchronously when submitted (tests, scripts);
* ``celery`` — runs go to Celery workers over Redis (:mod:`app.worker`); this loop only
  re-dispatches work whose lease lapsed and revokes the tasks of cancelled runs, so a
  killed API or worker loses no run (:mod:`app.services.distributed`).

On start, runs left ``running`` by a stopped process are re-queued.  Runs are read from
the database, never from memory, so a restart loses nothing.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError

from app.config import Settings
from app.services.execution import execute_run
from app.services.runs import claim_next, fail_run, requeue_interrupted

log = structlog.get_logger("kring.jobs")


class _Worker(Protocol):
    def is_alive(self) -> bool: ...
    def join(self, timeout: float | None = None) -> None: ...


def lower_priority(settings: Settings) -> None:
    """Add ``settings.run_nice`` to this process's niceness (POSIX; a no-op elsewhere).

    The solver is CPU-bound for its whole time limit; on a small machine it would otherwise
    take its share of the cores from the web process and API reads would queue behind it.
    """
    from app.run_process import lower_priority as lower

    lower(settings.run_nice)


def process_main(run_id: int, settings: Settings) -> None:
    """Execute one run in this (worker) process, with the service's logging."""
    from app.logs import configure_logging

    configure_logging(settings)
    execute_run(run_id, settings)


def _warm_kernels() -> None:
    """Compile or load the solver's numba kernels once, so runs never pay for it."""
    from matching.warmup import warm_kernels  # heavy import: off the start-up path

    log.info("solver_kernels_ready", seconds=round(warm_kernels(), 2))


class RunExecutor:
    """Executes queued runs according to ``settings.executor``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._running: dict[int, _Worker] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Re-queue interrupted runs, then start dispatching (or drain inline)."""
        if self.settings.executor == "celery":  # workers own running runs: resume, not re-queue
            self._thread = threading.Thread(target=self._celery_loop, name="kring-sweeper")
            self._thread.daemon = True
            self._thread.start()
            return
        try:
            requeue_interrupted(self.settings)
        except SQLAlchemyError:
            log.error("executor_database_unavailable", hint="run `kring db upgrade`")
            return
        if self.settings.executor == "inline":
            self.drain()
            return
        threading.Thread(target=_warm_kernels, name="kring-warmup", daemon=True).start()
        self._thread = threading.Thread(target=self._loop, name="kring-dispatcher", daemon=True)
        self._thread.start()

    def submit(self, run_id: int) -> None:
        """Tell the executor that run ``run_id`` is queued."""
        if self.settings.executor == "inline":
            self.drain()
        elif self.settings.executor == "celery":
            from app.worker import dispatch

            try:
                dispatch(self.settings, run_id, None)
            except Exception:  # broker down: the run stays queued; the sweeper re-sends it
                log.exception("dispatch_failed", run_id=run_id)
        else:
            self._wake.set()

    def drain(self) -> None:
        """Execute queued runs one after another in this thread until none is left."""
        while (run_id := claim_next(self.settings)) is not None:
            execute_run(run_id, self.settings)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop dispatching; worker processes are terminated (their runs re-queue later)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        with self._lock:
            for worker in self._running.values():
                if isinstance(worker, multiprocessing.process.BaseProcess):
                    worker.terminate()
                worker.join(timeout_s)

    def _reap(self) -> None:
        ended = []
        with self._lock:
            for run_id, worker in list(self._running.items()):
                if worker.is_alive():
                    continue
                del self._running[run_id]
                code = getattr(worker, "exitcode", 0)
                if code not in (0, None):
                    log.error("worker_died", run_id=run_id, exitcode=code)
                    fail_run(self.settings, run_id, f"the worker process died (exit {code})")
                else:
                    ended.append(run_id)
        for run_id in ended:  # outside the lock: submit() and stop() never wait for it
            self._warm(run_id)

    def _warm(self, run_id: int) -> None:
        """Fill this process's rendered-result cache for a run that just ended."""
        from app.db import open_session
        from app.services.rendered import warm

        try:
            with open_session(self.settings) as db:
                if warm(db, run_id):
                    log.info("run_rendered", run_id=run_id)
        except Exception:  # a cache fill must never stop the executor
            log.exception("render_failed", run_id=run_id)

    def _spawn(self, run_id: int) -> _Worker:
        if self.settings.executor == "process":
            from app import run_process  # light: the child lowers its priority first

            context = multiprocessing.get_context("spawn")
            process = context.Process(
                target=run_process.main,
                args=(run_id, self.settings.run_nice, self.settings),
                name=f"kring-run-{run_id}",
            )
            process.start()
            return process
        thread = threading.Thread(
            target=execute_run,
            args=(run_id, self.settings),
            name=f"kring-run-{run_id}",
            daemon=True,
        )
        thread.start()
        return thread

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._reap()
                while len(self._running) < self.settings.workers and not self._stopping.is_set():
                    run_id = claim_next(self.settings)
                    if run_id is None:
                        break
                    log.info("run_dispatched", run_id=run_id, executor=self.settings.executor)
                    with self._lock:
                        self._running[run_id] = self._spawn(run_id)
            except Exception:
                log.exception("dispatcher_error")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()

    def _celery_loop(self) -> None:
        from app.services.distributed import queued_and_cancelled, stale_work
        from app.worker import dispatch, revoke

        first = True
        revoked: set[int] = set()
        while not self._stopping.is_set():
            try:
                queued, cancelled = queued_and_cancelled(self.settings)
                for run_id in queued if first else []:
                    dispatch(self.settings, run_id, None)  # a message lost with a killed API
                first = False
                for run_id, windows in cancelled.items():
                    if run_id not in revoked:
                        revoke(self.settings, run_id, windows)
                        revoked.add(run_id)
                for run_id, window in stale_work(self.settings):
                    log.info("run_redispatched", run_id=run_id, window=window)
                    dispatch(self.settings, run_id, None if window is None else [window])
            except Exception:
                log.exception("sweeper_error")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()
