"""A run's cohort: the organisation's firms that a run's filters select.

Shared by the run executor (:mod:`app.services.execution`), group review
(:mod:`app.services.review`) and run creation (:mod:`app.services.runs`, which refuses a
run that selects no firm), which all import it, so none imports another for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session

from app.models import Firm


def firm_query(*, filters: dict[str, Any]) -> Select[tuple[Firm]]:
    """The organisation's firms selected by a run's ``filters`` (unordered)."""
    query = select(Firm)
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
    return query


def select_firms(*, db: Session, filters: dict[str, Any]) -> list[Firm]:
    """Return the organisation's firms selected by a run's ``filters``."""
    return list(db.scalars(firm_query(filters=filters).order_by(Firm.id)).all())
