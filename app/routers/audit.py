"""The audit log: profile edits, runs, group decisions, with actor and time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import DbDep, ManagerDep
from app.errors import problem_responses
from app.schemas import AuditList, AuditRead
from app.services import audit as service
from app.services.organisations import holder_names

router = APIRouter(prefix="/audit", tags=["audit"], responses=problem_responses(401, 403, 422, 500))


@router.get("", operation_id="audit-list", response_model=AuditList)
def list_audit(
    caller: ManagerDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    action: Annotated[str | None, Query(description="e.g. profile.update, group.accept")] = None,
    resource: Annotated[str | None, Query(description="profile, run or group")] = None,
) -> AuditList:
    """Your organisation's audit entries, newest first (manager and admin)."""
    rows, total = service.list_entries(
        db=db, limit=limit, offset=offset, action=action, resource=resource
    )
    holders = holder_names(db=db, key_ids=(r.actor_key_id for r in rows))
    items = [
        AuditRead.model_validate(r, from_attributes=True).model_copy(
            update={"actor_holder": holders.get(r.actor_key_id or 0)}
        )
        for r in rows
    ]
    return AuditList(items=items, total=total, limit=limit, offset=offset)
