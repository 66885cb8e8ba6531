"""Runs: creation with a validated parameter snapshot, listing, cancellation, queueing.

The executor (:mod:`app.jobs`) claims queued runs with :func:`claim_next` and executes
them with :func:`app.services.execution.execute_run`; :func:`requeue_interrupted` puts
runs that were ``running`` when the process stopped back in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session, aliased

from app.config import Settings
from app.db import open_session
from app.errors import ConflictError, NotFoundError, invalid, said
from app.models import Firm, Organisation, Run, RunStatus, utcnow
from app.schemas import RunCreate
from app.services import audit, profiles, review
from app.services.cohort import firm_query
from app.services.organisations import Caller
from app.services.profiles import validate_filters, validate_settings
from texts import Msg

log = structlog.get_logger("kring.runs")
FINISHED = (RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled)


def _base_values(db: Session, caller: Caller, body: RunCreate) -> tuple[dict[str, Any], Any]:
    """Settings and filters from the profile (at the requested version), if any."""
    if body.profile_id is None:
        if body.profile_version is not None:
            raise invalid("profile_version", "problem.invalid-input.profile_version_alone")
        return {}, None
    profile = profiles.resolve(
        db=db, caller=caller, profile_id=body.profile_id, version=body.profile_version
    )
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
    if time_limit > (limit := max_time_limit_s(db=db, caller=caller, settings=settings)):
        raise invalid("time_limit_s", "problem.invalid-input.time_limit",
                      asked=f"{time_limit:g}", limit=f"{limit:g}")  # fmt: skip
    values["time_limit_s"] = time_limit
    if body.seed is not None:
        values["seed"] = body.seed
    if body.filters is not None or "filters" in body.model_fields_set:
        filters = validate_filters(body.filters)
    else:
        filters = dict(profile_filters or {})
    _check_external_ids(db, filters)
    return validate_settings(values), filters


def max_time_limit_s(*, db: Session, caller: Caller, settings: Settings) -> float:
    """The caller's organisation's largest ``time_limit_s`` (its override, or the default)."""
    if not settings.organisation_max_time_limit_s:
        return settings.max_time_limit_s
    name = db.scalar(select(Organisation.name).where(Organisation.id == caller.organisation_id))
    return settings.organisation_max_time_limit_s.get(name or "", settings.max_time_limit_s)


def _check_firms(db: Session, filters: dict[str, Any]) -> None:
    """422 when the organisation has no firms yet, or its filters select none."""
    if db.scalar(select(Firm.id).limit(1)) is None:
        raise invalid("firms", "problem.invalid-input.no_firms")
    if (
        filters
        and db.scalar(firm_query(filters=filters).with_only_columns(Firm.id).limit(1)) is None
    ):
        raise invalid("filters", "problem.invalid-input.no_selected_firms")


def _check_external_ids(db: Session, filters: dict[str, Any]) -> None:
    """422 naming the ``filters.external_ids`` that are not firms of the caller's organisation."""
    wanted = list(dict.fromkeys(filters.get("external_ids") or []))
    if not wanted:
        return
    known: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        known.update(db.scalars(select(Firm.external_id).where(Firm.external_id.in_(chunk))))
    unknown = [i for i in wanted if i not in known]
    if unknown:
        more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        shown = ", ".join(unknown[:20]) + more
        key = "problem.invalid-input.unknown_external_ids"
        raise invalid("filters.external_ids", key, ids=shown)


def create_run(*, db: Session, caller: Caller, body: RunCreate, settings: Settings) -> Run:
    """Validate the request into a parameter snapshot and queue a run.

    With ``keep_accepted_from`` the accepted groups of that run are kept exactly; with
    ``mode="fill"`` only firms new since that run are placed (see :mod:`app.services.review`).
    """
    params, filters = _snapshot(db, caller, body, settings)
    seed = None
    if body.mode == "fill" and body.keep_accepted_from is None:
        raise invalid("keep_accepted_from", "problem.invalid-input.fill_needs_run")
    chosen = filters
    if body.keep_accepted_from is not None:
        seed, filters = review.seed_groups(
            db=db,
            base_run_id=body.keep_accepted_from,
            mode=body.mode,
            params=params,
            filters=filters,
        )
    _check_firms(db, chosen)  # last: the request's own mistakes are named first
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
            body.profile_version
            or profiles.get_profile(db=db, caller=caller, profile_id=body.profile_id).version
        )
    db.add(run)
    db.flush()
    audit.record(db=db, caller=caller, action="run.create", resource="run", resource_id=run.id,
                 purpose=run.purpose, profile_id=run.profile_id,
                 profile_version=run.profile_version, mode=run.mode,
                 keep_accepted_from=run.keep_accepted_from)  # fmt: skip
    db.commit()
    log.info("run_queued", run_id=run.id, organisation_id=caller.organisation_id)
    return run


def get_run(*, db: Session, run_id: int) -> Run:
    """Return the caller's run or raise 404."""
    run = db.scalar(select(Run).where(Run.id == run_id))
    if run is None:
        raise NotFoundError("run", run_id)
    return run


def list_runs(*, db: Session, limit: int, offset: int) -> tuple[list[Run], int]:
    """Return one page of runs, newest first, and the total."""
    total = db.scalar(select(func.count()).select_from(Run)) or 0
    runs = db.scalars(
        select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(runs), total


def cancel_run(*, db: Session, run_id: int, caller: Caller | None = None) -> Run:
    """Cancel a queued run at once, or ask a running one to stop; 409 when finished."""
    run = get_run(db=db, run_id=run_id)
    if run.status in FINISHED:
        status = Msg.of(f"map.run_status.{run.status.value}")
        raise said(ConflictError, "problem.conflict.run_finished", run=run_id, status=status)
    if run.status == RunStatus.queued:
        run.status, run.finished_at = RunStatus.cancelled, utcnow()
    run.cancel_requested = True
    if caller is not None:
        audit.record(
            db=db,
            caller=caller,
            action="run.cancel",
            resource="run",
            resource_id=run_id,
            status=run.status.value,
        )
    db.commit()
    log.info("run_cancel_requested", run_id=run_id)
    return run


@dataclass(frozen=True, slots=True)
class Lease:
    """Ownership of a running run: its id and the attempt number (the fencing token).

    Every claim increments ``run.attempts``; a worker writes progress and its result only
    ``WHERE id = run_id AND attempts = attempt AND status = 'running'`` (:meth:`owns`), so
    once a run was re-queued and claimed again, its former owner's writes change nothing.
    """

    run_id: int
    attempt: int

    def owns(self) -> tuple[ColumnElement[bool], ...]:
        """The WHERE clauses that hold only while this lease is the run's current one."""
        return (Run.id == self.run_id, Run.attempts == self.attempt,
                Run.status == RunStatus.running)  # fmt: skip


def _fair_candidates(settings: Settings) -> Select[tuple[int, int]]:
    """Queued runs in claiming order: round-robin over organisations, oldest run first.

    The organisation whose latest claim is oldest (never claimed: first) goes first; with
    ``max_running_per_organisation`` an organisation at its limit is passed over.
    """
    other = aliased(Run)
    last_claim = (
        select(func.max(other.started_at))
        .where(other.organisation_id == Run.organisation_id)
        .correlate(Run)
        .scalar_subquery()
    )
    query = select(Run.id, Run.attempts).where(Run.status == RunStatus.queued)
    if limit := settings.max_running_per_organisation:
        running = (
            select(func.count(other.id))
            .where(other.organisation_id == Run.organisation_id, other.status == RunStatus.running)
            .correlate(Run)
            .scalar_subquery()
        )
        query = query.where(running < limit)
    return query.order_by(last_claim.asc().nulls_first(), Run.created_at, Run.id)


def claim(*, settings: Settings, run_id: int | None = None) -> Lease | None:
    """Atomically move the next queued run (or run ``run_id``) to ``running``; its lease.

    The next run is picked fairly across organisations (:func:`_fair_candidates`).  On
    PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``, so concurrent
    claimers (API processes, Celery workers) never wait on or take the same run; on SQLite
    (which ignores the clause) the guarded ``UPDATE`` alone decides.
    """
    with open_session(settings) as db:
        while True:
            query = _fair_candidates(settings)
            if run_id is not None:
                query = query.where(Run.id == run_id)
            row = db.execute(query.limit(1).with_for_update(skip_locked=True, of=Run)).first()
            if row is None:
                return None
            candidate, attempts = row
            claimed = db.execute(
                update(Run)
                .where(
                    Run.id == candidate, Run.status == RunStatus.queued, Run.attempts == attempts
                )
                .values(
                    status=RunStatus.running,
                    started_at=utcnow(),
                    attempts=attempts + 1,
                    heartbeat_at=utcnow(),
                )
            )
            db.commit()
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return Lease(candidate, attempts + 1)


def claim_next(*, settings: Settings, run_id: int | None = None) -> int | None:
    """Claim the next queued run (or run ``run_id``) like :func:`claim`; return its id."""
    lease = claim(settings=settings, run_id=run_id)
    return None if lease is None else lease.run_id


def take_over(*, settings: Settings, run_id: int) -> Lease | None:
    """A new lease on a running run (Celery: a window's new owner); the former one lapses."""
    with open_session(settings) as db:
        done = db.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.running)
            .values(attempts=Run.attempts + 1, heartbeat_at=utcnow())
        )
        attempt = db.scalar(select(Run.attempts).where(Run.id == run_id))
        db.commit()
    if not done.rowcount or attempt is None:  # type: ignore[attr-defined]
        return None
    return Lease(run_id, attempt)


def queue_positions(*, db: Session) -> dict[int, int]:
    """Every queued run's place in the queue (1 = claimed next), across organisations.

    Simulates :func:`_fair_candidates` claim by claim (the per-organisation limit aside).
    """
    table = Run.__table__  # Core columns: the queue spans every organisation
    queued = db.execute(
        select(table.c.id, table.c.organisation_id)
        .where(table.c.status == RunStatus.queued.value)
        .order_by(table.c.created_at, table.c.id)  # ids are random (app.ids)
    ).all()
    orgs = {org for _, org in queued}
    last = dict.fromkeys(orgs, 0.0)
    claimed_at = db.execute(
        select(table.c.organisation_id, func.max(table.c.started_at))
        .where(table.c.organisation_id.in_(orgs))
        .group_by(table.c.organisation_id)
    ).all()
    for org, at in claimed_at:
        last[org] = 0.0 if at is None else 1.0 + _aware(at).timestamp()
    waiting: dict[int, list[tuple[int, int]]] = {}  # org -> (place in creation order, run id)
    for place, (run_id, org) in enumerate(queued):
        waiting.setdefault(org, []).append((place, run_id))
    positions: dict[int, int] = {}
    clock = max(last.values(), default=0.0)
    while waiting:
        org = min(waiting, key=lambda o: (last[o], waiting[o][0]))
        positions[waiting[org].pop(0)[1]] = len(positions) + 1
        clock += 1.0
        last[org] = clock
        if not waiting[org]:
            del waiting[org]
    return positions


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _give_up(attempts: int, cause: str) -> str:
    return f"{cause} on each of {attempts} attempts; the run is not retried again"


def requeue_interrupted(*, settings: Settings) -> int:
    """Put runs left ``running`` by a stopped process back in the queue; return how many.

    Their former workers lose their lease (the next claim increments ``attempts``).  A run
    that already had ``max_run_attempts`` attempts fails instead, with the reason.
    """
    limit = settings.max_run_attempts
    with open_session(settings) as db:
        base = update(Run).where(Run.status == RunStatus.running)
        failed = db.execute(
            base.where(Run.attempts >= limit).values(
                status=RunStatus.failed,
                finished_at=utcnow(),
                error=_give_up(limit, "the server stopped while the run was running"),
            )
        )
        result = db.execute(
            base.where(Run.attempts < limit).values(
                status=RunStatus.queued, progress=0.0, started_at=None
            )
        )
        db.commit()
        count = int(result.rowcount)  # type: ignore[attr-defined]
    if count or failed.rowcount:  # type: ignore[attr-defined]
        log.info("runs_requeued", count=count, failed=failed.rowcount)  # type: ignore[attr-defined]
    return count


def retry_or_fail(*, settings: Settings, lease: Lease, cause: str) -> RunStatus | None:
    """After the worker holding ``lease`` died: re-queue the run, or fail it after the bound.

    Returns the run's new status, or ``None`` when the lease was no longer current.
    """
    final = lease.attempt >= settings.max_run_attempts
    values: dict[str, Any] = (
        {"status": RunStatus.failed, "finished_at": utcnow(),
         "error": _give_up(lease.attempt, cause)}
        if final
        else {"status": RunStatus.queued, "progress": 0.0, "started_at": None}
    )  # fmt: skip
    with open_session(settings) as db:
        done = db.execute(update(Run).where(*lease.owns()).values(**values))
        db.commit()
    if not done.rowcount:  # type: ignore[attr-defined]
        return None
    log.warning("run_retried" if not final else "run_given_up", run_id=lease.run_id,
                attempt=lease.attempt, cause=cause)  # fmt: skip
    return RunStatus(values["status"])


def fail_run(*, settings: Settings, run_id: int, error: str) -> None:
    """Mark a run failed (e.g. its worker process died) unless it already finished."""
    with open_session(settings) as db:
        db.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.running)
            .values(status=RunStatus.failed, error=error, finished_at=utcnow())
        )
        db.commit()
