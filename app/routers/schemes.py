"""The subsidy scheme catalogue (data files in ``matching/sme/data/schemes``)."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import ViewerDep
from app.errors import problem_responses
from app.schemas import SchemeList
from app.services import schemes as service

router = APIRouter(prefix="/schemes", tags=["schemes"], responses=problem_responses(401, 403, 500))


@router.get("", operation_id="schemes-list", response_model=SchemeList)
def list_schemes(caller: ViewerDep) -> SchemeList:
    """Subsidy schemes: eligibility, funded needs, partner bounds; verify against the regulation."""
    return SchemeList(items=service.list_schemes())
