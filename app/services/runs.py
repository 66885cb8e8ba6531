"""Runs: creation with a validated parameter snapshot, listing, cancellation, queueing.

The executor (:mod:`app.jobs`) claims queued runs with :func:`claim_next` and executes
them with :func:`app.services.execution.execute_run`; :func:`requeue_interrupted` puts
runs that were ``running`` when the process stopped back in the queue.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import open_session
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.models import Profile, Run, RunStatus, utcnow
from app.schemas import RunCreate
from app.services.organisations import Caller
from geodata.boundaries import normalise_province
from geodata.errors import GeodataError
from matching.needs import is_need_code
from matching.settings import RunSettings, SettingsError

log = structlog.get_logger("kring.runs")
FINISHED = (RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled)


def _invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, [{"row": None, "field": field, "message": message}])


def _snapshot(db: Session, body: RunCreate, settings: Settings) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if body.profile_id is not None:
        profile = db.scalar(select(Profile).where(Profile.id == body.profile_id))
        if profile is None:
            raise NotFoundError("profile", body.profile_id)
        values.update(profile.settings)
    values["purpose"] = body.purpose
    if body.constraints is not None:
        values.update(body.constraints.model_dump(exclude_none=True))
    time_limit = body.time_limit_s or values.get("time_limit_s") or settings.default_time_limit_s
    if time_limit > settings.max_time_limit_s:
        limit = settings.max_time_limit_s
        raise _invalid("time_limit_s", f"{time_limit} s exceeds the limit of {limit} s")
    values["time_limit_s"] = time_limit
    if body.seed is not None:
        values["seed"] = body.seed
    try:
        return RunSettings.from_dict(values).to_dict()
    except SettingsError as exc:
        raise _invalid(f"constraints.{exc.field}", exc.reason) from None


def _filters(body: RunCreate) -> dict[str, Any]:
    if body.filters is None:
        return {}
    filters = body.filters.model_dump(exclude_none=True)
    try:
        if "provinces" in filters:
            filters["provinces"] = [normalise_province(p) for p in filters["provinces"]]
    except GeodataError as exc:
        raise _invalid("filters.provinces", str(exc)) from None
    unknown = [c for c in filters.get("needs", []) if not is_need_code(c)]
    if unknown:
        raise _invalid("filters.needs", f"unknown need code(s): {', '.join(unknown)}")
    return filters


def create_run(db: Session, caller: Caller, body: RunCreate, settings: Settings) -> Run:
    """Validate the request into a parameter snapshot and queue a run."""
    run = Run(
        organisation_id=caller.organisation_id,
        purpose=body.purpose,
        status=RunStatus.queued,
        profile_id=body.profile_id,
        params=_snapshot(db, body, settings),
        filters=_filters(body),
        created_by_key_id=caller.key_id,
    )
    db.add(run)
    db.commit()
    log.info("run_queued", run_id=run.id, organisation_id=caller.organisation_id)
    return run


def get_run(db: Session, run_id: int) -> Run:
    """Return the caller's run or raise 404."""
    run = db.scalar(select(Run).where(Run.id == run_id))
    if run is None:
        raise NotFoundError("run", run_id)
    return run


def list_runs(db: Session, *, limit: int, offset: int) -> tuple[list[Run], int]:
    """Return one page of runs, newest first, and the total."""
    total = db.scalar(select(func.count()).select_from(Run)) or 0
    runs = db.scalars(select(Run).order_by(Run.id.desc()).limit(limit).offset(offset)).all()
    return list(runs), total


def cancel_run(db: Session, run_id: int) -> Run:
    """Cancel a queued run at once, or ask a running one to stop; 409 when finished."""
    run = get_run(db, run_id)
    if run.status in FINISHED:
        raise ConflictError(f"run {run_id} has already {run.status.value}")
    if run.status == RunStatus.queued:
        run.status, run.finished_at = RunStatus.cancelled, utcnow()
    run.cancel_requested = True
    db.commit()
    log.info("run_cancel_requested", run_id=run_id)
    return run


def claim_next(settings: Settings) -> int | None:
    """Atomically move the oldest queued run to ``running``; return its id (or None)."""
    with open_session(settings) as db:
        while True:
            run_id = db.scalar(
                select(Run.id).where(Run.status == RunStatus.queued).order_by(Run.id).limit(1)
            )
            if run_id is None:
                return None
            claimed = db.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.queued)
                .values(status=RunStatus.running, started_at=utcnow(), attempts=Run.attempts + 1)
            )
            db.commit()
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return run_id


def requeue_interrupted(settings: Settings) -> int:
    """Put runs left ``running`` by a stopped process back in the queue; return how many."""
    with open_session(settings) as db:
        result = db.execute(
            update(Run)
            .where(Run.status == RunStatus.running)
            .values(status=RunStatus.queued, progress=0.0, started_at=None)
        )
        db.commit()
        count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        log.info("runs_requeued", count=count)
    return count


def fail_run(settings: Settings, run_id: int, error: str) -> None:
    """Mark a run failed (e.g. its worker process died) unless it already finished."""
    with open_session(settings) as db:
        db.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.running)
            .values(status=RunStatus.failed, error=error, finished_at=utcnow())
        )
        db.commit()
