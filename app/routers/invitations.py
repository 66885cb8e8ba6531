"""The invitation pack of an accepted group: mail-merge list and invitation text."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.deps import DbDep, LangDep, MemberDep
from app.errors import problem_responses
from app.routers.edits import GroupNumber
from app.routers.runs import XLSX, DialectQuery
from app.schemas import InvitationPack
from app.services import invitations

router = APIRouter(
    prefix="/runs", tags=["review"], responses=problem_responses(401, 403, 404, 409, 422, 500)
)


@router.get(
    "/{run_id}/groups/{group_number}/invitation",
    operation_id="review-invitation",
    response_model=InvitationPack,
)
def get_invitation(
    run_id: int, group_number: GroupNumber, caller: MemberDep, db: DbDep, lang: LangDep
) -> dict[str, Any]:
    """An accepted group's invitation: subject, text, members with contacts (with consent)."""
    return invitations.invitation(db=db, run_id=run_id, number=group_number, lang=lang,
                                  sender=caller.holder)  # fmt: skip


def _file(body: bytes | str, name: str, media_type: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/{run_id}/groups/{group_number}/invitation.xlsx",
    operation_id="review-invitation-xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "Mail-merge list and text"}},
)
def get_invitation_xlsx(
    run_id: int, group_number: GroupNumber, caller: MemberDep, db: DbDep, lang: LangDep
) -> Response:
    """The invitation pack as a workbook: the mail-merge list and the invitation text."""
    pack = invitations.invitation(db=db, run_id=run_id, number=group_number, lang=lang,
                                  sender=caller.holder)  # fmt: skip
    name = f"run-{run_id}-group-{group_number}-invitation.xlsx"
    return _file(invitations.invitation_xlsx(pack=pack, lang=lang), name, XLSX)


@router.get(
    "/{run_id}/groups/{group_number}/invitation.csv",
    operation_id="review-invitation-csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One line per member"}},
)
def get_invitation_csv(
    run_id: int,
    group_number: GroupNumber,
    caller: MemberDep,
    db: DbDep,
    lang: LangDep,
    dialect: DialectQuery = "rfc4180",
) -> Response:
    """The mail-merge list as CSV (``dialect=excel-nl`` for Dutch Excel)."""
    pack = invitations.invitation(db=db, run_id=run_id, number=group_number, lang=lang,
                                  sender=caller.holder)  # fmt: skip
    name = f"run-{run_id}-group-{group_number}-invitation.csv"
    body = invitations.invitation_csv(pack=pack, lang=lang, dialect=dialect)
    return _file(body, name, "text/csv; charset=utf-8")
