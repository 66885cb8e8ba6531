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

A run has one owner at a time: each claim increments ``run.attempts`` and hands that
number (the fencing token, :class:`app.services.runs.Lease`) to the worker, whose every
progress write and final store hold only ``WHERE attempts = token AND status = running``.
A worker whose run was re-queued and claimed again (say, an orphan of a killed server)
therefore stores nothing: it logs ``run_store_refused`` and exits.  Worker processes also
die with the server that started them (``PR_SET_PDEATHSIG`` on Linux, and a parent-pid
watchdog thread everywhere; :mod:`app.run_process`), so a requeued run does not run
beside its orphan.  A worker that dies (e.g. ``SIGKILL``) has its run re-queued, up to
``KRING_MAX_RUN_ATTEMPTS`` attempts in all, after which the run fails with the reason;
runs interrupted by a server stop count against the same bound.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from typing import Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError

from app import run_process  # light: the spawned child lowers its priority first
from app.config import Settings
from app.db import open_session
from app.services.distributed import queued_and_cancelled, stale_work
from app.services.execution import execute_run
from app.services.rendered import warm
from app.services.runs import Lease, claim, requeue_interrupted, retry_or_fail
from matching import warm_kernels

log = structlog.get_logger("kring.jobs")


class _Worker(Protocol):
    def is_alive(self) -> bool: ...
    def join(self, timeout: float | None = None) -> None: ...


def _warm_kernels() -> None:
    """Compile or load the solver's numba kernels once, so runs never pay for it."""
    log.info("solver_kernels_ready", seconds=round(warm_kernels(), 2))


def _death(code: int) -> str:
    """How a worker process ended, in words (a negative exit code is the signal)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process was killed ({name})"
    return f"the worker process died (exit {code})"


class RunExecutor:
    """Executes queued runs according to ``settings.executor``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._running: dict[int, tuple[_Worker, Lease]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Re-queue interrupted runs, then start dispatching (or drain inline)."""
        if self.settings.executor == "celery":  # workers own running runs: resume, not re-queue
            self._thread = threading.Thread(target=self._celery_loop, name="kring-sweeper")
            self._thread.daemon = True
            self._thread.start()
            return
        try:
            requeue_interrupted(settings=self.settings)
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
            # Late on purpose: importing app.worker creates the Celery app from the
            # environment, which only the Celery executor wants.
            from app.worker import dispatch

            try:
                dispatch(self.settings, run_id, None)
            except Exception:  # broker down: the run stays queued; the sweeper re-sends it
                log.exception("dispatch_failed", run_id=run_id)
        else:
            self._wake.set()

    def drain(self) -> None:
        """Execute queued runs one after another in this thread until none is left."""
        while (lease := claim(settings=self.settings)) is not None:
            execute_run(run_id=lease.run_id, settings=self.settings, attempt=lease.attempt)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop dispatching; worker processes are terminated (their runs re-queue later)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        with self._lock:
            for worker, _lease in self._running.values():
                if isinstance(worker, multiprocessing.process.BaseProcess):
                    worker.terminate()
                worker.join(timeout_s)

    def _reap(self) -> None:
        ended = []
        with self._lock:
            for run_id, (worker, lease) in list(self._running.items()):
                if worker.is_alive():
                    continue
                del self._running[run_id]
                code = getattr(worker, "exitcode", 0)
                if code not in (0, None):
                    log.error("worker_died", run_id=run_id, exitcode=code, attempt=lease.attempt)
                    retry_or_fail(settings=self.settings, lease=lease, cause=_death(code))
                else:
                    ended.append(run_id)
        for run_id in ended:  # outside the lock: submit() and stop() never wait for it
            self._warm(run_id)

    def _warm(self, run_id: int) -> None:
        """Fill this process's rendered-result cache for a run that just ended."""
        try:
            with open_session(self.settings) as db:
                if warm(db=db, run_id=run_id):
                    log.info("run_rendered", run_id=run_id)
        except Exception:  # a cache fill must never stop the executor
            log.exception("render_failed", run_id=run_id)

    def _spawn(self, lease: Lease) -> _Worker:
        run_id = lease.run_id
        if self.settings.executor == "process":
            context = multiprocessing.get_context("spawn")
            process = context.Process(
                target=run_process.main,
                args=(run_id, self.settings.run_nice, self.settings, lease.attempt, os.getpid()),
                name=f"kring-run-{run_id}",
            )
            process.start()
            return process
        thread = threading.Thread(
            target=execute_run,
            kwargs={"run_id": run_id, "settings": self.settings, "attempt": lease.attempt},
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
                    lease = claim(settings=self.settings)
                    if lease is None:
                        break
                    log.info("run_dispatched", run_id=lease.run_id, attempt=lease.attempt,
                             executor=self.settings.executor)  # fmt: skip
                    with self._lock:
                        self._running[lease.run_id] = (self._spawn(lease), lease)
            except Exception:
                log.exception("dispatcher_error")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()

    def _celery_loop(self) -> None:
        from app.worker import dispatch, revoke  # the Celery executor only (see submit)

        first = True
        revoked: set[int] = set()
        while not self._stopping.is_set():
            try:
                queued, cancelled = queued_and_cancelled(settings=self.settings)
                for run_id in queued if first else []:
                    dispatch(self.settings, run_id, None)  # a message lost with a killed API
                first = False
                for run_id, windows in cancelled.items():
                    if run_id not in revoked:
                        revoke(self.settings, run_id, windows)
                        revoked.add(run_id)
                for run_id, window in stale_work(settings=self.settings):
                    log.info("run_redispatched", run_id=run_id, window=window)
                    dispatch(self.settings, run_id, None if window is None else [window])
            except Exception:
                log.exception("sweeper_error")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()
