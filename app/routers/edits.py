"""Hand edits of a run's groups: checked by the verifier, stored with who and when."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.deps import DbDep, LangDep, ManagerDep, ViewerDep
from app.errors import problem_responses
from app.schemas import EditCreate, EditHistory, EditRead, GroupLock
from app.services import edits

router = APIRouter(
    prefix="/runs", tags=["review"], responses=problem_responses(401, 403, 404, 409, 422, 500)
)
GroupNumber = Annotated[int, Path(description="The group's number in its run (as shown)")]


@router.post("/{run_id}/edits", operation_id="review-edit", response_model=EditRead)
def edit_groups(
    run_id: int,
    body: EditCreate,
    caller: ManagerDep,
    db: DbDep,
    lang: LangDep,
    dry_run: Annotated[
        bool, Query(description="Only check and show the effect; store nothing")
    ] = False,
) -> dict[str, Any]:
    """Move, swap, add, remove, split or merge; refused in words if it breaks a hard rule."""
    request = body.model_dump(exclude_none=True)
    return edits.edit(db=db, caller=caller, run_id=run_id, request=request, dry_run=dry_run,
                      lang=lang)  # fmt: skip


@router.get("/{run_id}/edits", operation_id="review-edits", response_model=EditHistory)
def edit_history(run_id: int, caller: ViewerDep, db: DbDep) -> dict[str, Any]:
    """The run's hand edits, oldest first, with the optimiser's original proposal."""
    return edits.history(db=db, run_id=run_id)


def _lock(db: DbDep, caller: ManagerDep, run_id: int, number: int, locked: bool) -> GroupLock:
    group = edits.set_lock(db=db, caller=caller, run_id=run_id, number=number, locked=locked)
    return GroupLock(run_id=group.run_id, number=group.number, locked=group.locked)


@router.post(
    "/{run_id}/groups/{group_number}/lock", operation_id="review-lock", response_model=GroupLock
)
def lock_group(run_id: int, group_number: GroupNumber, caller: ManagerDep, db: DbDep) -> GroupLock:
    """Lock a group: no edit touches it, and runs keeping this run's groups keep it exactly."""
    return _lock(db, caller, run_id, group_number, True)


@router.post(
    "/{run_id}/groups/{group_number}/unlock",
    operation_id="review-unlock",
    response_model=GroupLock,
)
def unlock_group(
    run_id: int, group_number: GroupNumber, caller: ManagerDep, db: DbDep
) -> GroupLock:
    """Unlock a group: edits may change it again."""
    return _lock(db, caller, run_id, group_number, False)
