"""Runs on the Celery executor: plan windows, solve them, merge — all leased in the database.

Every unit of work of a run is a :class:`~app.models.RunWindow` row: windows ``0..k-1``
(regional windows of :func:`matching.engines.distributed.plan_windows`, or one ``whole``
window for a
small run, solved by :func:`app.services.execution.execute_run`) and the merge, number
``MERGE``.  A task first *claims* its row (a lease: ``pending``, or ``running`` with a
heartbeat older than ``lease_s``), keeps the heartbeat fresh while it works, and stores its
result keyed by (run, window) — so a redelivered or re-dispatched task never duplicates
work that finished, and a killed worker's window is taken over once its lease lapses.
:func:`stale_work` (called by the API's executor loop) finds what to dispatch again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update

from app.config import Settings
from app.convert import row_to_firm
from app.db import open_session
from app.models import Run, RunStatus, RunWindow, bind_organisation, utcnow
from app.services.execution import LeaseLostError, execute_run, load_inputs, store_success
from app.services.runs import claim_next, take_over
from matching import REPAIR_BASE, distributed, windowed

log = structlog.get_logger("kring.distributed")
MERGE = -1
"""Window number of a run's merge (windows count up from 0; repair part ``k`` of the merge is
``matching.REPAIR_BASE - k``)."""


def _stale(settings: Settings) -> Any:
    return utcnow() - timedelta(seconds=settings.lease_s)


def _instance(db: Any, run: Run) -> tuple[Any, Any, Any]:
    from matching import build_instance

    inputs = load_inputs(db=db, run=run)
    firms = [row_to_firm(r) for r in inputs.rows]
    instance, _ = build_instance(
        firms, inputs.competitors, inputs.partners, inputs.settings,
        locked=inputs.locked, pinned=inputs.pinned,
    )  # fmt: skip
    return instance, inputs, firms


def _split(
    settings: Settings, limit_s: float | None, n_windows: int, load_s: float
) -> dict[str, Any]:
    """Each window's time limit, so that the run's wall time stays within ``limit_s``.

    :func:`matching.distributed.window_time_limits` over ``settings.celery_workers``, with
    ``load_s`` (what loading the run's inputs took the planner) as each task's fixed cost;
    the numbers are stored on the windows' plans and reported in the run's stats.
    """
    if limit_s is None or n_windows <= 1:
        return {}
    split = distributed.window_time_limits(
        limit_s, n_windows, settings.celery_workers, task_s=load_s
    )
    return {
        "time_limit_s": split.window_s,
        "time_split": {
            "limit_s": limit_s,
            "load_s": round(load_s, 3),
            "workers": settings.celery_workers,
            "waves": split.waves,
            "window_s": round(split.window_s, 3),
            "repair_s": round(split.repair_s, 3),
            "expected_s": round(split.expected_s, 3),
        },
    }


def plan_run(*, settings: Settings, run_id: int) -> list[int]:
    """Claim a queued run and store its windows; return the window numbers to dispatch.

    Idempotent: a run already planned returns its unfinished windows (or the merge).
    """
    from matching import auto_windows, plan_windows

    with open_session(settings) as db:
        run = db.get(Run, run_id)
        if run is None:
            return []
        if run.status == RunStatus.queued and claim_next(settings=settings, run_id=run_id) is None:
            return []
        db.refresh(run)
        if run.status != RunStatus.running:
            return []
        run.heartbeat_at = utcnow()
        numbers = list(db.scalars(select(RunWindow.number).where(RunWindow.run_id == run_id)))
        if not numbers:
            bind_organisation(db, run.organisation_id)
            loading = time.monotonic()
            instance, inputs, _ = _instance(db, run)
            load_s = time.monotonic() - loading
            whole = not windowed(instance, parallel=True, n_windows=settings.windows)
            n_windows = settings.windows or auto_windows(int(instance.is_placeable.sum()))
            plans = [] if whole else plan_windows(instance, n_windows)
            split = _split(settings, inputs.settings.time_limit_s, len(plans), load_s)
            if len(plans) <= 1:
                db.add(RunWindow(run_id=run_id, number=0, status="pending", plan={"whole": True}))
            else:
                for p in plans:
                    db.add(RunWindow(run_id=run_id, number=p.number, heartbeat_at=utcnow(),
                                     plan={**p.to_dict(), **split}))  # fmt: skip
                db.add(RunWindow(run_id=run_id, number=MERGE, plan={"merge": True, **split}))
            db.flush()
            log.info("run_planned", run_id=run_id, windows=max(len(plans), 1), **split)
        db.execute(
            update(RunWindow)
            .where(RunWindow.run_id == run_id, RunWindow.status == "pending")
            .values(heartbeat_at=utcnow(), status="pending", progress=0.0)
        )
        db.commit()
        return pending_work(db=db, run_id=run_id)


def pending_work(*, db: Any, run_id: int) -> list[int]:
    """What a run waits for: unfinished windows, else unfinished repair parts, else the merge.

    Windows are numbered from 0, the merge is ``MERGE`` and the merge's border repair
    parts (stored by the merge's first pass) ``REPAIR_BASE - k``.
    """
    rows = db.execute(
        select(RunWindow.number, RunWindow.status).where(RunWindow.run_id == run_id)
    ).all()
    undone = [n for n, status in rows if status != "done"]
    for stage in (lambda n: n >= 0, lambda n: n <= REPAIR_BASE, lambda n: n == MERGE):
        todo = sorted(n for n in undone if stage(n))
        if todo:
            return todo
    return []


def claim_window(*, settings: Settings, run_id: int, number: int) -> bool:
    """Take the lease on one window (pending, or running with a lapsed heartbeat)."""
    with open_session(settings) as db:
        claimed = db.execute(
            update(RunWindow)
            .where(
                RunWindow.run_id == run_id,
                RunWindow.number == number,
                or_(
                    RunWindow.status == "pending",
                    (RunWindow.status == "running") & (RunWindow.heartbeat_at < _stale(settings)),
                ),
            )
            .values(status="running", heartbeat_at=utcnow(), attempts=RunWindow.attempts + 1)
        )
        db.commit()
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


@contextmanager
def heartbeat(*, settings: Settings, run_id: int, number: int) -> Iterator[None]:
    """Keep the window's (and run's) heartbeat fresh from a thread while the body runs."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(max(settings.lease_s / 4, 0.2)):
            with open_session(settings) as db:
                now = utcnow()
                db.execute(
                    update(RunWindow)
                    .where(RunWindow.run_id == run_id, RunWindow.number == number)
                    .values(heartbeat_at=now)
                )
                db.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=now))
                db.commit()

    thread = threading.Thread(target=beat, name=f"kring-beat-{run_id}-{number}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)


def _finish_window(settings: Settings, run_id: int, number: int, result: dict[str, Any]) -> None:
    with open_session(settings) as db:
        db.execute(
            update(RunWindow)
            .where(RunWindow.run_id == run_id, RunWindow.number == number)
            .values(status="done", result=result, progress=1.0, heartbeat_at=utcnow())
        )
        db.commit()


def cancel_requested(*, settings: Settings, run_id: int) -> bool:
    """Whether the run's cancellation was requested (read fresh from the database)."""
    with open_session(settings) as db:
        return bool(db.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def _stop_check(settings: Settings, run_id: int) -> Callable[[], bool]:
    """A cancellation check for the search that reads the database at most once a second."""
    state = {"at": 0.0, "stop": False}

    def check() -> bool:
        if not state["stop"] and time.monotonic() - state["at"] >= 1.0:
            state["at"] = time.monotonic()
            state["stop"] = cancel_requested(settings=settings, run_id=run_id)
        return bool(state["stop"])

    return check


def _progress_writer(settings: Settings, run_id: int, number: int) -> Callable[[float], None]:
    last = [0.0]

    def write(fraction: float) -> None:
        if time.monotonic() - last[0] < 1.0:
            return
        last[0] = time.monotonic()
        with open_session(settings) as db:
            db.execute(
                update(RunWindow)
                .where(RunWindow.run_id == run_id, RunWindow.number == number)
                .values(progress=min(max(fraction, 0.0), 1.0))
            )
            shares = list(db.scalars(select(RunWindow.progress).where(
                RunWindow.run_id == run_id, RunWindow.number >= 0)))  # fmt: skip
            overall = 0.9 * sum(shares) / max(len(shares), 1)
            db.execute(update(Run).where(Run.id == run_id).values(progress=overall))
            db.commit()

    return write


def solve_window_task(*, settings: Settings, run_id: int, number: int) -> list[int]:
    """Solve one claimed window (or repair part), store its result; return the work now due."""
    from matching import SolveParams, WindowPlan, solve_repair_part, solve_window

    with open_session(settings) as db:
        row = db.scalar(
            select(RunWindow).where(RunWindow.run_id == run_id, RunWindow.number == number)
        )
        run = db.get(Run, run_id)
        if row is None or run is None:
            return []
        if row.plan.get("whole"):  # a new lease: a former owner of this window is fenced off
            lease = take_over(settings=settings, run_id=run_id)
            if lease is not None:
                execute_run(run_id=run_id, settings=settings, attempt=lease.attempt)
            _finish_window(settings, run_id, number, {"whole": True})
            return []
        bind_organisation(db, run.organisation_id)
        instance, inputs, _ = _instance(db, run)
        plan, row_plan = WindowPlan.from_dict(row.plan), dict(row.plan)
    if number <= REPAIR_BASE:
        s = inputs.settings
        params = SolveParams(time_limit_s=s.time_limit_s, max_iterations=s.max_iterations,
                             seed=s.seed, should_stop=_stop_check(settings, run_id))  # fmt: skip
        part = solve_repair_part(instance, plan, params)
        _finish_window(settings, run_id, number, part.to_dict())
        log.info("repair_part_solved", run_id=run_id, part=number, groups=len(part.groups))
        with open_session(settings) as db:
            return pending_work(db=db, run_id=run_id)
    n_placeable = max(int(instance.is_placeable.sum()), 1)
    share = len(plan.core) / n_placeable
    budget = inputs.settings.max_iterations
    result = solve_window(
        instance,
        plan,
        seed=inputs.settings.seed,
        max_iterations=None if budget is None else max(1, round(budget * share)),
        time_limit_s=row_plan.get("time_limit_s", inputs.settings.time_limit_s),
        should_stop=_stop_check(settings, run_id),
        progress=_progress_writer(settings, run_id, number),
    )
    _finish_window(settings, run_id, number, result.to_dict())
    log.info("window_solved", run_id=run_id, window=number, groups=len(result.groups))
    with open_session(settings) as db:
        return pending_work(db=db, run_id=run_id)


def merge_task(*, settings: Settings, run_id: int) -> list[int]:
    """Merge the windows in two passes; return the repair parts to dispatch (first pass).

    First pass (the merge row has no repair plan yet): plan the border repair
    (:func:`matching.engines.distributed.plan_repair`), store its parts as windows numbered
    ``REPAIR_BASE - k`` and the plan on the merge row, release the merge row and return
    the parts (the last part to finish dispatches the merge again).  Second pass (every
    part done): assemble, verify and store (run ``succeeded``).  A run whose repair has no
    parts goes straight through.  A redelivered merge whose parts are not all done releases
    its lease and returns nothing.
    """
    from matching import (
        RepairPlan,
        SolveParams,
        WindowPlan,
        WindowResult,
        build_report,
        failed_rules,
        finish_merge,
    )
    from matching import plan_repair as plan_border_repair

    began = time.monotonic()
    with open_session(settings) as db:
        run = db.get(Run, run_id)
        if run is None or run.status != RunStatus.running:
            return []
        if run.cancel_requested:
            run.status, run.finished_at = RunStatus.cancelled, utcnow()
            db.commit()
            return []
        rows = list(db.scalars(select(RunWindow).where(RunWindow.run_id == run_id)))
        windows = sorted((r for r in rows if r.number >= 0), key=lambda r: r.number)
        merge_row = next(r for r in rows if r.number == MERGE)
        part_rows = [r for r in rows if r.number <= REPAIR_BASE]
        bind_organisation(db, run.organisation_id)
        instance, inputs, firms = _instance(db, run)
        s = inputs.settings
        params = SolveParams(time_limit_s=s.time_limit_s, max_iterations=s.max_iterations,
                             seed=s.seed)  # fmt: skip
        plans = [WindowPlan.from_dict(r.plan) for r in windows]
        results = [WindowResult.from_dict(r.result or {}) for r in windows]
        if "repair" not in merge_row.plan:
            repair = plan_border_repair(instance, plans, results)
            merge_row.plan = {**merge_row.plan, "repair": repair.to_dict()}
            if repair.parts:
                for p in repair.parts:
                    db.add(RunWindow(run_id=run_id, number=p.number, plan=p.to_dict(),
                                     heartbeat_at=utcnow()))  # fmt: skip
                merge_row.status = "pending"  # released: the last part dispatches it again
                db.commit()
                log.info("repair_planned", run_id=run_id, parts=len(repair.parts))
                return [p.number for p in repair.parts]
            db.flush()
        else:
            repair = RepairPlan.from_dict(merge_row.plan["repair"])
            if any(r.status != "done" for r in part_rows):  # a redelivered merge: not yet
                merge_row.status = "pending"
                db.commit()
                return []
        solved = [WindowResult.from_dict(r.result or {}) for r in part_rows]
        result = finish_merge(instance, repair, solved, params, started=began)
        extra = {
            "settings": s.to_dict(),
            "executor": "celery",
            **{k: v for k, v in merge_row.plan.items() if k == "time_split"},
            "windows": [
                {
                    "number": p.number,
                    "core": len(p.core),
                    "band": len(p.band),
                    "iterations": r.iterations,
                    "groups": len(r.groups),
                    "attempts": w.attempts,
                }
                for p, r, w in zip(plans, results, windows, strict=True)
            ],
            "repair": {
                "parts": len(repair.parts),
                "firms": sum(len(p.core) for p in repair.parts),
                "dissolved_groups": len(repair.dissolved),
            },
        }
        report = build_report(firms, instance, result, extra_stats=extra,
                              rules=failed_rules(firms, s))  # fmt: skip
        try:  # locks the run's row: a concurrent duplicate merge waits, then is refused
            store_success(db=db, run=run, report=report.to_dict(), rows=inputs.by_external_id,
                          began=began)  # fmt: skip
        except LeaseLostError:
            log.warning("run_store_refused", run_id=run_id, work="merge")
            return []
    _finish_window(settings, run_id, MERGE, {"merged": True})
    log.info("run_merged", run_id=run_id, windows=len(windows), repair_parts=len(part_rows))
    return []


def stale_work(*, settings: Settings) -> list[tuple[int, int | None]]:
    """(run, window) pairs to dispatch again; ``None`` means "plan the run".

    Queued runs not claimed within the lease (their message was lost, e.g. the API died
    before sending it), running runs without windows whose planner went silent, and windows
    (or the merge, once the windows are done) whose lease lapsed: those are set back to
    ``pending`` (their heartbeat restarts the wait) so the re-sent task can claim them.
    Cancelled runs whose work has gone silent are marked ``cancelled``.
    """
    stale = _stale(settings)
    out: list[tuple[int, int | None]] = []
    with open_session(settings) as db:
        queued = db.scalars(
            select(Run).where(Run.status == RunStatus.queued, Run.created_at < stale)
        )
        out += [(run.id, None) for run in queued]
        for run in db.scalars(select(Run).where(Run.status == RunStatus.running)):
            silent = (run.heartbeat_at or run.started_at or utcnow()) < stale
            if run.cancel_requested and silent:
                run.status, run.finished_at = RunStatus.cancelled, utcnow()
                continue
            due = pending_work(db=db, run_id=run.id)
            if not due:
                planned = db.scalar(select(RunWindow.id).where(RunWindow.run_id == run.id))
                if silent and planned is None:
                    run.heartbeat_at = utcnow()
                    out.append((run.id, None))
                continue
            windows = db.scalars(select(RunWindow).where(
                RunWindow.run_id == run.id, RunWindow.number.in_(due)))  # fmt: skip
            for w in windows:  # release a lapsed lease, so the re-sent task can claim it
                if w.heartbeat_at is None or w.heartbeat_at < stale:
                    w.status, w.heartbeat_at = "pending", utcnow()
                    out.append((run.id, w.number))
        db.commit()
    return out


def queued_and_cancelled(*, settings: Settings) -> tuple[list[int], dict[int, list[int]]]:
    """Queued run ids, and running runs asked to cancel with their window numbers."""
    with open_session(settings) as db:
        queued = list(db.scalars(select(Run.id).where(Run.status == RunStatus.queued)))
        cancelled: dict[int, list[int]] = {}
        ids = db.scalars(
            select(Run.id).where(Run.status == RunStatus.running, Run.cancel_requested.is_(True))
        )
        for run_id in ids:
            cancelled[run_id] = list(
                db.scalars(select(RunWindow.number).where(RunWindow.run_id == run_id))
            )
    return queued, cancelled
