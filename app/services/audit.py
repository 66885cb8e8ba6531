"""The audit log: who changed a profile, started a run, accepted or rejected a group, when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEntry
from app.services.organisations import Caller


def record(
    *, db: Session, caller: Caller, action: str, resource: str, resource_id: object, **details: Any
) -> AuditEntry:
    """Add an audit entry to the caller's unit of work (committed with the change itself)."""
    entry = AuditEntry(
        organisation_id=caller.organisation_id,
        actor_key_id=caller.key_id,
        actor_role=caller.role.value,
        action=action,
        resource=resource,
        resource_id=str(resource_id),
        details=details,
    )
    db.add(entry)
    return entry


def list_entries(
    *, db: Session, limit: int, offset: int, action: str | None = None, resource: str | None = None
) -> tuple[list[AuditEntry], int]:
    """One page of the organisation's audit entries, newest first, and the total."""
    query = select(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if resource is not None:
        query = query.where(AuditEntry.resource == resource)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total
