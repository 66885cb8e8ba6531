"""The needs taxonomy, the caller, and administration (organisations and keys)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.deps import AdminDep, CallerDep, DbDep, PlatformAdminDep, SettingsDep
from app.errors import problem_responses
from app.models import Organisation, Role
from app.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    CallerRead,
    NeedList,
    NeedRead,
    OrganisationCreate,
)
from app.services.organisations import IssuedKey, create_organisation, issue_key
from matching import NEEDS

router = APIRouter(responses=problem_responses(401, 403, 422, 500))


def _issued(key: IssuedKey) -> ApiKeyIssued:
    return ApiKeyIssued(
        organisation_id=key.organisation_id,
        organisation_name=key.organisation_name,
        role=key.role.value,
        key_id=key.key_id,
        holder=key.holder,
        key=key.key,
    )


@router.get("/needs", tags=["needs"], operation_id="needs-list", response_model=NeedList)
def list_needs() -> NeedList:
    """The needs taxonomy: codes, Dutch and English labels, theme, T/S flags, sensitivity."""
    return NeedList(items=[NeedRead.model_validate(n.to_dict()) for n in NEEDS])


@router.get("/me", tags=["admin"], operation_id="admin-me", response_model=CallerRead)
def me(caller: CallerDep, db: DbDep) -> CallerRead:
    """The organisation, role and holder of the API key."""
    org = db.get(Organisation, caller.organisation_id)
    assert org is not None
    return CallerRead(
        organisation_id=org.id,
        organisation_name=org.name,
        role=caller.role.value,
        holder=caller.holder,
    )


@router.post(
    "/organisations",
    tags=["admin"],
    operation_id="admin-create-organisation",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyIssued,
    responses=problem_responses(409),
)
def post_organisation(
    body: OrganisationCreate, caller: PlatformAdminDep, db: DbDep, settings: SettingsDep
) -> ApiKeyIssued:
    """Create an organisation and its first API key (platform admins; the key is shown once)."""
    issued = create_organisation(
        db=db, name=body.name, role=Role(body.role), settings=settings, holder=body.holder
    )
    return _issued(issued)


@router.post(
    "/api-keys",
    tags=["admin"],
    operation_id="admin-create-key",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyIssued,
    responses=problem_responses(404),
)
def post_api_key(
    body: ApiKeyCreate, caller: AdminDep, db: DbDep, settings: SettingsDep
) -> ApiKeyIssued:
    """Create an API key for your organisation, or any one for platform admins (shown once)."""
    issued = issue_key(
        db=db,
        caller=caller,
        organisation=body.organisation,
        role=Role(body.role),
        holder=body.holder,
        label=body.label,
        settings=settings,
    )
    return _issued(issued)
