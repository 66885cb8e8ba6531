"""Executing one run: load the firms, call the optimiser, store the verified groups.

:func:`execute_run` runs in a worker (process, thread, or inline in tests) with its own
sessions; it never trusts the request that created the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import String, cast, delete, or_, select, update
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
from app.services.links import links_of
from matching.errors import MatchingError
from matching.settings import RunSettings

log = structlog.get_logger("kring.execution")
THROTTLE_S = 1.0


def select_firms(db: Session, filters: dict[str, Any]) -> list[Firm]:
    """Return the organisation's firms selected by a run's ``filters``."""
    query = select(Firm).order_by(Firm.id)
    if provinces := filters.get("provinces"):
        query = query.where(Firm.province.in_(provinces))
    if codes := filters.get("gemeente_codes"):
        query = query.where(Firm.gemeente_code.in_(codes))
    if ids := filters.get("external_ids"):
        query = query.where(Firm.external_id.in_(ids))
    if filters.get("consent_only"):
        query = query.where(Firm.consent_to_share.is_(True))
    if prefixes := filters.get("sbi_prefixes"):
        query = query.where(or_(*(Firm.sbi_code.startswith(p, autoescape=True) for p in prefixes)))
    if needs := filters.get("needs"):
        query = query.where(or_(*(cast(Firm.needs, String).like(f'%"{n}"%') for n in needs)))
    return list(db.scalars(query).all())


class _Reporter:
    """Throttled progress writes and cancellation checks from inside the optimiser."""

    def __init__(self, settings: Settings, run_id: int) -> None:
        self.settings, self.run_id = settings, run_id
        self._written = self._checked = 0.0
        self._stop = False

    def progress(self, fraction: float, best_objective: float | None = None) -> None:
        now = time.monotonic()
        if now - self._written < THROTTLE_S:
            return
        self._written = now
        values: dict[str, Any] = {"progress": min(max(float(fraction), 0.0), 0.99)}
        if best_objective is not None:
            values["best_objective"] = float(best_objective)
        with open_session(self.settings) as db:
            db.execute(update(Run).where(Run.id == self.run_id).values(**values))
            db.commit()

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._stop and now - self._checked >= THROTTLE_S:
            self._checked = now
            with open_session(self.settings) as db:
                self._stop = bool(
                    db.scalar(select(Run.cancel_requested).where(Run.id == self.run_id))
                )
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


def load_inputs(db: Session, run: Run) -> RunInputs:
    """Load a run's firms, pairs, settings and kept groups (also used by Celery workers)."""
    rows, locked, pinned = review.seed_inputs(db, run, select_firms(db, run.filters))
    by_id = {r.id: r for r in rows}
    pairs = {
        name: [
            (by_id[a].external_id, by_id[b].external_id) for a, b in links_of(db, model, set(by_id))
        ]
        for name, model in (("competitors", CompetitorLink), ("partners", PartnerLink))
    }
    settings = RunSettings.from_dict(run.params)
    return RunInputs(rows, pairs["competitors"], pairs["partners"], settings, locked, pinned)


def _solve(db: Session, run: Run, reporter: _Reporter) -> tuple[dict[str, Any], dict[str, Firm]]:
    from matching.pipeline import solve_firms  # heavy import (OR-Tools): only in workers

    inputs = load_inputs(db, run)
    report = solve_firms(
        [row_to_firm(r) for r in inputs.rows],
        inputs.competitors,
        inputs.partners,
        inputs.settings,
        progress=reporter.progress,
        should_stop=reporter.should_stop,
        locked=inputs.locked,
        pinned=inputs.pinned,
    )
    return report.to_dict(), inputs.by_external_id


def _finish(settings: Settings, run_id: int, **values: Any) -> None:
    with open_session(settings) as db:
        db.execute(update(Run).where(Run.id == run_id).values(finished_at=utcnow(), **values))
        db.commit()


def _cancel_requested(settings: Settings, run_id: int) -> bool:
    with open_session(settings) as db:
        return bool(db.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def store_success(
    db: Session, run: Run, report: dict[str, Any], rows: dict[str, Firm], began: float
) -> None:
    """Store a verified report's groups and mark the run ``succeeded`` (one transaction)."""
    _store_report(db, run, report, rows)
    review.carry_decisions(db, run)
    stats = {**report["stats"], "wall_time_s": round(time.monotonic() - began, 3)}
    run.status, run.progress, run.stats = RunStatus.succeeded, 1.0, stats
    objective = stats.get("objective")
    if isinstance(objective, int | float):
        run.best_objective = float(objective)
    run.finished_at = utcnow()
    db.commit()


def execute_run(run_id: int, settings: Settings) -> RunStatus:
    """Execute a claimed (``running``) run to ``succeeded``, ``failed`` or ``cancelled``.

    Groups are stored only when the optimiser's solution passed :func:`matching.verify`
    (the pipeline raises otherwise), in the same transaction as the final status.
    """
    reporter = _Reporter(settings, run_id)
    began = time.monotonic()
    try:
        with open_session(settings) as db:
            run = db.get(Run, run_id)
            if run is None or run.status != RunStatus.running:
                return RunStatus(run.status) if run else RunStatus.failed
            bind_organisation(db, run.organisation_id)
            log.info("run_started", run_id=run_id, organisation_id=run.organisation_id)
            report, rows = _solve(db, run, reporter)
            if _cancel_requested(settings, run_id):
                _finish(settings, run_id, status=RunStatus.cancelled)
                log.info("run_cancelled", run_id=run_id)
                return RunStatus.cancelled
            store_success(db, run, report, rows, began)
        log.info("run_succeeded", run_id=run_id, groups=len(report["groups"]))
        return RunStatus.succeeded
    except MatchingError as exc:
        _finish(settings, run_id, status=RunStatus.failed, error=str(exc))
        log.warning("run_failed", run_id=run_id, error=type(exc).__name__)
        return RunStatus.failed
    except Exception:
        _finish(
            settings, run_id, status=RunStatus.failed, error="internal error; see the server log"
        )
        log.exception("run_crashed", run_id=run_id)
        return RunStatus.failed
