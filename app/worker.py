"""Celery wiring of the distributed executor (``KRING_EXECUTOR=celery``).

Start workers with ``kring worker`` (or ``celery -A app.worker worker``); the API only
sends task messages.  Three tasks, each idempotent and keyed by (run, window) through
:mod:`app.services.distributed`: ``kring.plan`` claims a run and stores its windows,
``kring.window`` solves one window or one part of the merge's border repair, and
``kring.merge`` plans that repair (first pass) or assembles, verifies and stores (second).
Messages are acknowledged late (after the task) and re-queued when a worker dies; a
window whose worker vanished without that is re-dispatched by the API's executor loop
once its database lease lapses.  Task ids are ``kring-<run>-<window>`` so that
cancelling a run can revoke them.
"""

from __future__ import annotations

from functools import lru_cache

import structlog
from celery import Celery

from app.config import Settings, get_settings
from app.logs import configure_logging
from app.run_process import lower_priority
from app.services import distributed
from app.services.runs import fail_run

log = structlog.get_logger("kring.worker")
PLAN = "plan"


def task_id(run_id: int, window: int | None) -> str:
    """The deterministic Celery task id of a run's planner (``None``) or window."""
    return f"kring-{run_id}-{PLAN if window is None else window}"


def configure(app: Celery, settings: Settings) -> Celery:
    """Apply kring's broker and reliability settings to a Celery app."""
    app.conf.update(
        broker_url=settings.broker_url,
        task_acks_late=True,  # a message is acknowledged only after its task finished
        task_reject_on_worker_lost=True,  # ... and re-queued when the worker process died
        worker_prefetch_multiplier=1,  # long tasks: never hold messages another worker could run
        task_ignore_result=True,  # results live in the database (run_window), keyed by window
        broker_transport_options={"visibility_timeout": max(3_600, 10 * settings.lease_s)},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


celery = Celery("kring")


def client(settings: Settings) -> Celery:
    """A Celery app that sends kring tasks to ``settings.broker_url`` (API side)."""
    return _client(settings.broker_url, settings.lease_s)


@lru_cache(maxsize=8)
def _client(broker_url: str, lease_s: float) -> Celery:
    settings = Settings.model_validate({"broker_url": broker_url, "lease_s": lease_s})
    return configure(Celery("kring", set_as_current=False), settings)


def dispatch(settings: Settings, run_id: int, windows: list[int] | None) -> None:
    """Send ``kring.plan`` (``windows`` is None) or one ``kring.window``/merge per window."""
    app = client(settings)
    if windows is None:
        app.send_task("kring.plan", args=[run_id], task_id=task_id(run_id, None))
        return
    for number in windows:
        name = "kring.merge" if number == distributed.MERGE else "kring.window"
        app.send_task(name, args=[run_id, number], task_id=task_id(run_id, number))


def revoke(settings: Settings, run_id: int, windows: list[int]) -> None:
    """Revoke a run's queued tasks (cancellation; running ones stop at their next check)."""
    ids = [task_id(run_id, None), *(task_id(run_id, w) for w in windows)]
    client(settings).control.revoke(ids)


def _guarded(settings: Settings, run_id: int, work: str) -> None:
    log.exception("task_crashed", run_id=run_id, work=work)
    fail_run(settings=settings, run_id=run_id, error="internal error; see the worker log")


@celery.task(name="kring.plan", acks_late=True)
def plan(run_id: int) -> None:
    """Claim and plan a run, then dispatch its windows."""
    settings = get_settings()
    try:
        dispatch(settings, run_id, distributed.plan_run(settings=settings, run_id=run_id))
    except Exception:
        _guarded(settings, run_id, "plan")


@celery.task(name="kring.window", acks_late=True)
def window(run_id: int, number: int) -> None:
    """Solve one window (under its lease); dispatch the merge when it was the last."""
    settings = get_settings()
    if not distributed.claim_window(settings=settings, run_id=run_id, number=number):
        return
    try:
        with distributed.heartbeat(settings=settings, run_id=run_id, number=number):
            due = distributed.solve_window_task(settings=settings, run_id=run_id, number=number)
        if due == [distributed.MERGE]:  # this was the last window or repair part
            dispatch(settings, run_id, due)
    except Exception:
        _guarded(settings, run_id, f"window {number}")


@celery.task(name="kring.merge", acks_late=True)
def merge(run_id: int, number: int = distributed.MERGE) -> None:
    """Merge a run's windows: plan the repair (dispatching its parts), or finish and store."""
    settings = get_settings()
    if not distributed.claim_window(settings=settings, run_id=run_id, number=number):
        return
    try:
        with distributed.heartbeat(settings=settings, run_id=run_id, number=number):
            parts = distributed.merge_task(settings=settings, run_id=run_id)
        dispatch(settings, run_id, parts)  # the border repair's parts (first pass), or none
    except Exception:
        _guarded(settings, run_id, "merge")


def main(concurrency: int = 1) -> None:
    """Run a Celery worker in this process (``kring worker``)."""
    settings = get_settings()
    configure_logging(settings)
    lower_priority(settings.run_nice)  # the prefork children inherit it
    configure(celery, settings)
    celery.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}",
                        "--pool=prefork", "--without-gossip", "--without-mingle"])  # fmt: skip


configure(celery, get_settings())
