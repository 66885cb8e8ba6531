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
from app.errors import ConflictError, NotFoundError
from app.models import Run, RunStatus, utcnow
from app.schemas import RunCreate
from app.services import audit, profiles, review
from app.services.organisations import Caller
from app.services.profiles import invalid, validate_filters, validate_settings

log = structlog.get_logger("kring.runs")
FINISHED = (RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled)


def _base_values(db: Session, caller: Caller, body: RunCreate) -> tuple[dict[str, Any], Any]:
    """Settings and filters from the profile (at the requested version), if any."""
    if body.profile_id is None:
        if body.profile_version is not None:
            raise invalid("profile_version", "needs a profile_id")
        return {}, None
    profile = profiles.resolve(db, caller, body.profile_id, body.profile_version)
    values = dict(profile.settings)
    values["purpose"] = profile.purpose
    if profile.scheme_id is not None:
        values["scheme_id"] = profile.scheme_id
    return values, profile.filters


def _snapshot(
    db: Session, caller: Caller, body: RunCreate, settings: Settings
) -> tuple[dict[str, Any], dict[str, Any]]:
    values, profile_filters = _base_values(db, caller, body)
    if "purpose" in body.model_fields_set or "purpose" not in values:
        values["purpose"] = body.purpose
    if body.scheme_id is not None:
        values["scheme_id"] = body.scheme_id
    if body.constraints is not None:
        overrides = body.constraints.model_dump(exclude_none=True)
        if "affinity" in overrides and isinstance(values.get("affinity"), dict):
            overrides["affinity"] = {**values["affinity"], **overrides["affinity"]}
        values.update(overrides)
    time_limit = body.time_limit_s or values.get("time_limit_s") or settings.default_time_limit_s
    if time_limit > settings.max_time_limit_s:
        limit = settings.max_time_limit_s
        raise invalid("time_limit_s", f"{time_limit} s exceeds the limit of {limit} s")
    values["time_limit_s"] = time_limit
    if body.seed is not None:
        values["seed"] = body.seed
    if body.filters is not None or "filters" in body.model_fields_set:
        filters = validate_filters(body.filters)
    else:
        filters = dict(profile_filters or {})
    return validate_settings(values), filters


def create_run(db: Session, caller: Caller, body: RunCreate, settings: Settings) -> Run:
    """Validate the request into a parameter snapshot and queue a run.

    With ``keep_accepted_from`` the accepted groups of that run are kept exactly; with
    ``mode="fill"`` only firms new since that run are placed (see :mod:`app.services.review`).
    """
    params, filters = _snapshot(db, caller, body, settings)
    seed = None
    if body.mode == "fill" and body.keep_accepted_from is None:
        raise invalid("keep_accepted_from", "mode 'fill' needs the run to fill up")
    if body.keep_accepted_from is not None:
        seed, filters = review.seed_groups(db, body.keep_accepted_from, body.mode, params, filters)
    run = Run(
        organisation_id=caller.organisation_id,
        purpose=params["purpose"],
        status=RunStatus.queued,
        profile_id=body.profile_id,
        profile_version=None,
        params=params,
        filters=filters,
        created_by_key_id=caller.key_id,
        mode=body.mode,
        keep_accepted_from=body.keep_accepted_from,
        seed_groups=seed,
    )
    if body.profile_id is not None:
        run.profile_version = (
            body.profile_version or profiles.get_profile(db, caller, body.profile_id).version
        )
    db.add(run)
    db.flush()
    audit.record(db, caller, "run.create", "run", run.id, purpose=run.purpose,
                 profile_id=run.profile_id, profile_version=run.profile_version,
                 mode=run.mode, keep_accepted_from=run.keep_accepted_from)  # fmt: skip
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


def cancel_run(db: Session, run_id: int, caller: Caller | None = None) -> Run:
    """Cancel a queued run at once, or ask a running one to stop; 409 when finished."""
    run = get_run(db, run_id)
    if run.status in FINISHED:
        raise ConflictError(f"run {run_id} has already {run.status.value}")
    if run.status == RunStatus.queued:
        run.status, run.finished_at = RunStatus.cancelled, utcnow()
    run.cancel_requested = True
    if caller is not None:
        audit.record(db, caller, "run.cancel", "run", run_id, status=run.status.value)
    db.commit()
    log.info("run_cancel_requested", run_id=run_id)
    return run


def claim_next(settings: Settings, run_id: int | None = None) -> int | None:
    """Atomically move the oldest queued run (or run ``run_id``) to ``running``; return its id.

    On PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``, so
    concurrent claimers (API processes, Celery workers) never wait on or take the same run;
    on SQLite (which ignores the clause) the guarded ``UPDATE`` alone decides.
    """
    with open_session(settings) as db:
        while True:
            query = select(Run.id).where(Run.status == RunStatus.queued)
            if run_id is not None:
                query = query.where(Run.id == run_id)
            candidate = db.scalar(query.order_by(Run.id).limit(1).with_for_update(skip_locked=True))
            if candidate is None:
                return None
            claimed = db.execute(
                update(Run)
                .where(Run.id == candidate, Run.status == RunStatus.queued)
                .values(status=RunStatus.running, started_at=utcnow(), attempts=Run.attempts + 1)
            )
            db.commit()
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return candidate


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
