"""A run's cohort: the organisation's firms that a run's filters select.

Shared by the run executor (:mod:`app.services.execution`) and group review
(:mod:`app.services.review`), which both import it, so neither imports the other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from app.models import Firm


def select_firms(*, db: Session, filters: dict[str, Any]) -> list[Firm]:
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
