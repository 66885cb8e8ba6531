"""Executing one run: load the firms, call the optimiser, store the verified groups.

:func:`execute_run` runs in a worker (process, thread, or inline in tests) with its own
sessions; it never trusts the request that created the run.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.convert import row_to_firm
from app.db import open_session
from app.models import (
    CompetitorLink,
    Firm,
    Group,
    GroupMember,
    PartnerLink,
    Run,
    RunStatus,
    UnassignedFirm,
    bind_organisation,
    utcnow,
)
from app.services import review
from app.services.cohort import select_firms
from app.services.links import links_of
from app.services.runs import Lease
from geodata.errors import GeodataError
from matching import (
    MatchingError,
    Progress,
    RunSettings,
    UnverifiedSolutionError,
    build_instance,
    solve_firms,
    unassigned_reasons,
)

log = structlog.get_logger("kring.execution")
THROTTLE_S = 1.0


class LeaseLostError(Exception):
    """This worker's lease on the run is no longer current: it must not write, and ends."""


class _Reporter:
    """Throttled progress writes, cancellation and lease checks from inside the optimiser.

    Every write holds only while the lease does (``WHERE id AND attempts AND running``);
    once it fails, the search is asked to stop and nothing more is written.
    """

    def __init__(self, settings: Settings, lease: Lease) -> None:
        self.settings, self.lease = settings, lease
        self._written = self._checked = self._fraction = 0.0
        self._phase = ""
        self._stop = False
        self.lost = False

    def _lose(self) -> None:
        if not self.lost:
            log.warning("run_lease_lost", run_id=self.lease.run_id, attempt=self.lease.attempt)
        self.lost = self._stop = True

    def progress(self, report: Progress) -> None:
        """Write a progress report: at most once a second, except when the phase changes.

        The fraction never goes back; a field the report leaves ``None`` keeps its value.
        """
        now = time.monotonic()
        changed = str(report.phase) != self._phase
        if self.lost or (not changed and now - self._written < THROTTLE_S):
            return
        self._written, self._phase = now, str(report.phase)
        self._fraction = max(self._fraction, min(max(float(report.fraction), 0.0), 0.99))
        values: dict[str, Any] = {"progress": self._fraction, "progress_phase": self._phase}
        parts = {"progress_placed": report.placed, "progress_placed_bound": report.placed_bound,
                 "progress_mean_affinity": report.mean_affinity}  # fmt: skip
        values.update((k, v) for k, v in parts.items() if v is not None)
        self._write(values)

    def phase(self, name: str) -> None:
        """Enter a phase of the service's own (``loading``, ``storing``): written at once."""
        if not self.lost and name != self._phase:
            self._phase, self._written = name, time.monotonic()
            self._write({"progress_phase": name})

    def _write(self, values: dict[str, Any]) -> None:
        values["heartbeat_at"] = utcnow()
        with open_session(self.settings) as db:
            done = db.execute(update(Run).where(*self.lease.owns()).values(**values))
            db.commit()
        if not done.rowcount:  # type: ignore[attr-defined]
            self._lose()

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._stop and now - self._checked >= THROTTLE_S:
            self._checked = now
            with open_session(self.settings) as db:
                row = db.execute(
                    select(Run.cancel_requested, Run.attempts, Run.status).where(
                        Run.id == self.lease.run_id
                    )
                ).first()
            if row is None or row[1] != self.lease.attempt or row[2] != RunStatus.running:
                self._lose()
            elif row[0]:
                self._stop = True
        return self._stop


_GROUP_COLUMNS = {"id", "members", "theme", "diameter_km", "explanation", "hull", "mean_affinity"}


def _group(run: Run, number: int, data: dict[str, Any], rows: dict[str, Firm]) -> Group:
    group = Group(
        organisation_id=run.organisation_id,
        run_id=run.id,
        number=number,
        theme=data.get("theme"),
        diameter_km=data.get("diameter_km"),
        score=data.get("mean_affinity"),
        explanation=data.get("explanation"),
        details={k: v for k, v in data.items() if k not in _GROUP_COLUMNS},
        hull=data.get("hull"),
    )
    for position, external_id in enumerate(data["members"]):
        row = rows[external_id]
        group.members.append(
            GroupMember(
                organisation_id=run.organisation_id,
                firm_id=row.id,
                position=position,
                external_id=row.external_id,
                lat=row.lat,
                lon=row.lon,
            )
        )
    return group


def _store_report(db: Session, run: Run, report: dict[str, Any], rows: dict[str, Firm]) -> None:
    status = db.scalar(select(Run.status).where(Run.id == run.id))
    if status == RunStatus.succeeded:  # its groups may carry decisions: never replaced
        raise LeaseLostError(f"run {run.id} already succeeded")
    db.execute(delete(Group).where(Group.run_id == run.id))
    db.execute(delete(UnassignedFirm).where(UnassignedFirm.run_id == run.id))
    for number, data in enumerate(report["groups"], start=1):
        db.add(_group(run, number, data, rows))
    for item in report["unassigned"]:
        row = rows[item["id"]]
        db.add(
            UnassignedFirm(
                organisation_id=run.organisation_id,
                run_id=run.id,
                firm_id=row.id,
                external_id=row.external_id,
                reason=str(item["reason"]),
                rule=item.get("rule"),
            )
        )


@dataclass
class RunInputs:
    """What the optimiser needs for one run, loaded from the database."""

    rows: list[Firm]
    competitors: list[tuple[str, str]]
    partners: list[tuple[str, str]]
    settings: RunSettings
    locked: Any
    pinned: Any

    @property
    def by_external_id(self) -> dict[str, Firm]:
        """The firm rows by external id."""
        return {r.external_id: r for r in self.rows}


def load_inputs(*, db: Session, run: Run) -> RunInputs:
    """Load a run's firms, pairs, settings and kept groups (also used by Celery workers)."""
    rows, locked, pinned = review.seed_inputs(
        db=db, run=run, rows=select_firms(db=db, filters=run.filters)
    )
    by_id = {r.id: r for r in rows}
    pairs = {
        name: [
            (by_id[a].external_id, by_id[b].external_id)
            for a, b in links_of(db=db, model=model, firm_ids=set(by_id))
        ]
        for name, model in (("competitors", CompetitorLink), ("partners", PartnerLink))
    }
    settings = RunSettings.from_dict(run.params)
    return RunInputs(rows, pairs["competitors"], pairs["partners"], settings, locked, pinned)


EARLY_CHECK_MAX_FIRMS = 3000
"""Cohorts up to this size get the cheap placement bound before the search."""
EARLY_LIMIT_S = 0.5
"""The search budget of a run whose bound places nobody (it only reports the reasons)."""
NOBODY = (
    "No group can be formed: the cheap placement bound places no firm (too few firms "
    "within reach of each other for the minimum group size, or competitors in the way); "
    "the run ended at once instead of searching for its time limit."
)


def _nobody_placeable(inputs: RunInputs) -> bool:
    """Whether the cheap, valid upper bound on the firms placeable is zero."""
    if not inputs.rows or inputs.locked or inputs.pinned:
        return False
    if len(inputs.rows) < inputs.settings.min_size:
        return True
    if len(inputs.rows) > EARLY_CHECK_MAX_FIRMS:
        return False
    firms = [row_to_firm(r) for r in inputs.rows]
    instance, _ = build_instance(firms, inputs.competitors, inputs.partners, inputs.settings)
    _, bound, _ = unassigned_reasons(instance, list(range(instance.n_firms)))
    return bound == 0


def _solve(db: Session, run: Run, reporter: _Reporter) -> tuple[dict[str, Any], dict[str, Firm]]:
    reporter.phase("loading")
    inputs = load_inputs(db=db, run=run)
    settings, early = inputs.settings, _nobody_placeable(inputs)
    if early:
        limit = min(settings.time_limit_s or EARLY_LIMIT_S, EARLY_LIMIT_S)
        settings = dataclasses.replace(settings, time_limit_s=limit, max_iterations=None)
        log.info("run_nobody_placeable", run_id=run.id, firms=len(inputs.rows))
    report = solve_firms(
        [row_to_firm(r) for r in inputs.rows],
        inputs.competitors,
        inputs.partners,
        settings,
        progress=reporter.progress,
        should_stop=reporter.should_stop,
        locked=inputs.locked,
        pinned=inputs.pinned,
    ).to_dict()
    if early:
        report["stats"]["settings"] = inputs.settings.to_dict()  # as requested
        report["stats"]["finished_early"] = {"code": "nobody_placeable", "reason": NOBODY}
    reporter.phase("storing")
    return report, inputs.by_external_id


def _finish(settings: Settings, lease: Lease, **values: Any) -> bool:
    """End the run with ``values`` if ``lease`` is still its owner; whether it was."""
    with open_session(settings) as db:
        ended = {"finished_at": utcnow(), "progress_phase": None, **values}
        done = db.execute(update(Run).where(*lease.owns()).values(**ended))
        db.commit()
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _cancel_requested(settings: Settings, run_id: int) -> bool:
    with open_session(settings) as db:
        return bool(db.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def take(*, db: Session, lease: Lease) -> None:
    """Lock the run's row for this transaction, or raise when ``lease`` is not current.

    A concurrent store by another owner waits for this transaction and then finds the
    lease gone; on SQLite the write takes the database's write lock.
    """
    held = db.execute(update(Run).where(*lease.owns()).values(heartbeat_at=utcnow()))
    if not held.rowcount:  # type: ignore[attr-defined]
        db.rollback()
        raise LeaseLostError(f"run {lease.run_id} attempt {lease.attempt} is no longer running")


DEBUG_STATS = ("upper_bound_placed", "upper_bound_method", "solver_bound_placed")
"""The raw bounds ``placed_bound`` is the minimum of: kept under ``stats["debug"]``."""


def readable_stats(*, stats: dict[str, Any]) -> dict[str, Any]:
    """``stats`` with the raw bounds moved under ``debug``: one bound (``placed_bound``)."""
    out = {k: v for k, v in stats.items() if k not in DEBUG_STATS}
    out["debug"] = {**stats.get("debug", {}), **{k: stats[k] for k in DEBUG_STATS if k in stats}}
    return out


def store_success(
    *,
    db: Session,
    run: Run,
    report: dict[str, Any],
    rows: dict[str, Firm],
    began: float,
    lease: Lease | None = None,
) -> None:
    """Store a verified report's groups and mark the run ``succeeded`` (one transaction).

    Only while ``lease`` (default: the run's current attempt) is the run's owner and the
    run is ``running``: otherwise :class:`LeaseLostError` and nothing is written.
    """
    take(db=db, lease=lease or Lease(run.id, run.attempts))
    _store_report(db, run, report, rows)
    review.carry_decisions(db=db, run=run)
    wall_s = round(time.monotonic() - began, 3)
    stats = readable_stats(stats={**report["stats"], "wall_time_s": wall_s})
    run.status, run.progress, run.stats = RunStatus.succeeded, 1.0, stats
    run.progress_placed, run.progress_placed_bound = stats.get("placed"), stats.get("placed_bound")
    run.progress_mean_affinity, run.progress_phase = stats.get("mean_affinity"), None
    run.finished_at = utcnow()
    db.commit()


def current_lease(*, settings: Settings, run_id: int) -> Lease | None:
    """The lease of a running run as it stands now (inline and Celery executors)."""
    with open_session(settings) as db:
        row = db.execute(select(Run.attempts, Run.status).where(Run.id == run_id)).first()
    if row is None or row[1] != RunStatus.running:
        return None
    return Lease(run_id, int(row[0]))


def execute_run(*, run_id: int, settings: Settings, attempt: int | None = None) -> RunStatus | None:
    """Execute a claimed (``running``) run to ``succeeded``, ``failed`` or ``cancelled``.

    ``attempt`` is the fencing token of the claim (default: the run's current attempt).
    Groups are stored only when the optimiser's solution passed :func:`matching.core.verify`
    (the pipeline raises otherwise), in the same transaction as the final status, and only
    while this attempt still owns the run: a worker whose lease was lost (its run was
    re-queued after a restart, or taken over) writes nothing, logs ``run_store_refused``
    and returns ``None``.
    """
    if attempt is not None:
        lease: Lease | None = Lease(run_id, attempt)
    else:
        lease = current_lease(settings=settings, run_id=run_id)
    if lease is None:
        return None
    try:
        return _execute(lease, settings)
    except LeaseLostError as exc:
        log.warning("run_store_refused", run_id=run_id, attempt=lease.attempt, reason=str(exc))
        return None


def _execute(lease: Lease, settings: Settings) -> RunStatus | None:
    run_id = lease.run_id
    reporter = _Reporter(settings, lease)
    began = time.monotonic()
    try:
        with open_session(settings) as db:
            run = db.get(Run, run_id)
            if run is None or run.status != RunStatus.running or run.attempts != lease.attempt:
                raise LeaseLostError("the run is not running under this attempt")
            bind_organisation(db, run.organisation_id)
            log.info("run_started", run_id=run_id, organisation_id=run.organisation_id,
                     attempt=lease.attempt)  # fmt: skip
            report, rows = _solve(db, run, reporter)
            if reporter.lost:
                raise LeaseLostError("the lease was lost while solving")
            if _cancel_requested(settings, run_id):
                if not _finish(settings, lease, status=RunStatus.cancelled):
                    raise LeaseLostError("the lease was lost before cancelling")
                log.info("run_cancelled", run_id=run_id)
                return RunStatus.cancelled
            store_success(db=db, run=run, report=report, rows=rows, began=began, lease=lease)
        log.info("run_succeeded", run_id=run_id, groups=len(report["groups"]))
        return RunStatus.succeeded
    except LeaseLostError:
        raise
    except UnverifiedSolutionError:  # a library error, but a bug: never the user's
        return _crashed(settings, lease)
    except (MatchingError, GeodataError) as exc:
        error, stats = users_error(exc=exc)
        if not _finish(settings, lease, status=RunStatus.failed, error=error, stats=stats):
            raise LeaseLostError("the lease was lost before failing") from None
        log.warning("run_failed", run_id=run_id, error=type(exc).__name__, field=exc.field)
        return RunStatus.failed
    except Exception:
        return _crashed(settings, lease)


def users_error(*, exc: MatchingError | GeodataError) -> tuple[str, dict[str, Any]]:
    """A library error as the user's: its words naming the field, and the run's
    ``stats.error`` (``{"kind": the error class, "field": the offending input or null}``)."""
    words = str(exc)
    if exc.field and exc.field not in words:
        words = f"{exc.field}: {words}"
    return words, {"error": {"kind": type(exc).__name__, "field": exc.field}}


def _crashed(settings: Settings, lease: Lease) -> RunStatus:
    """Fail a run that a bug ended; the traceback goes to the log, not to the user."""
    log.exception("run_crashed", run_id=lease.run_id)
    if not _finish(settings, lease, status=RunStatus.failed,
                   error="internal error; see the server log"):  # fmt: skip
        raise LeaseLostError("the lease was lost before failing") from None
    return RunStatus.failed
