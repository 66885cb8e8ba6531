"""Review of a run: accept or reject groups, compare runs, why a firm was not placed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.deps import DbDep, LangDep, ManagerDep, ViewerDep
from app.errors import problem_responses
from app.models import Group, GroupStatus
from app.schemas import GroupDecision, RelaxationRead, ReviewCreate, RunComparison
from app.services import compare, review

router = APIRouter(
    prefix="/runs", tags=["review"], responses=problem_responses(401, 403, 404, 409, 422, 500)
)


def _decision(group: Group, decided_by: str | None = None) -> GroupDecision:
    return GroupDecision(
        run_id=group.run_id,
        number=group.number,
        status=group.status.value,
        comment=group.decision_comment,
        decided_at=group.decided_at,
        decided_by_key_id=group.decided_by_key_id,
        decided_by=decided_by,  # the holder of the deciding key
    )


def _decide(
    db: DbDep, caller: ManagerDep, run_id: int, number: int, status: GroupStatus,
    body: ReviewCreate | None,
) -> GroupDecision:  # fmt: skip
    """Decide; a body without ``comment`` (or no body) keeps the comment of a repeat."""
    sent = body is not None and "comment" in body.model_fields_set
    comment = body.comment if body is not None else None
    group = review.decide(
        db=db,
        caller=caller,
        run_id=run_id,
        number=number,
        status=status,
        comment=comment,
        keep_comment=not sent,
    )
    return _decision(group, caller.holder)


GroupNumber = Annotated[int, Path(description="The group's number in its run (as shown)")]


@router.post(
    "/{run_id}/groups/{group_number}/accept",
    operation_id="review-accept",
    response_model=GroupDecision,
)
def accept_group(
    run_id: int,
    group_number: GroupNumber,
    caller: ManagerDep,
    db: DbDep,
    body: ReviewCreate | None = None,
) -> GroupDecision:
    """Accept a group (optional comment; none sent keeps the comment); who and when."""
    return _decide(db, caller, run_id, group_number, GroupStatus.accepted, body)


@router.post(
    "/{run_id}/groups/{group_number}/reject",
    operation_id="review-reject",
    response_model=GroupDecision,
)
def reject_group(
    run_id: int,
    group_number: GroupNumber,
    caller: ManagerDep,
    db: DbDep,
    body: ReviewCreate | None = None,
) -> GroupDecision:
    """Reject a group (optional comment; none sent keeps the comment); who and when."""
    return _decide(db, caller, run_id, group_number, GroupStatus.rejected, body)


@router.get(
    "/{run_id}/compare/{other_run_id}", operation_id="review-compare", response_model=RunComparison
)
def compare_runs(
    run_id: int, other_run_id: int, caller: ViewerDep, db: DbDep, lang: LangDep
) -> dict[str, Any]:
    """Coverage and affinity deltas, matched groups, moved, new and dropped firms, settings."""
    return compare.compare_runs(db=db, run_id=run_id, other_run_id=other_run_id, lang=lang)


@router.get(
    "/{run_id}/unassigned/{external_id}/relaxation",
    operation_id="review-relaxation",
    response_model=RelaxationRead,
)
def relaxation(
    run_id: int,
    external_id: str,
    caller: ViewerDep,
    db: DbDep,
    lang: LangDep,
    tried: Annotated[
        bool, Query(description="Also list every candidate group tried (long; for diagnosis)")
    ] = False,
) -> dict[str, Any]:
    """The five best single changes of the run's settings that would place a left-out firm."""
    return review.relaxation(db=db, run_id=run_id, external_id=external_id, lang=lang, tried=tried)
