"""Constraint profiles: versioned sets of run settings (programme managers)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.deps import DbDep, ManagerDep, ViewerDep
from app.errors import problem_responses
from app.models import Profile, ProfileVersion
from app.schemas import (
    ProfileCreate,
    ProfileList,
    ProfileRead,
    ProfileVersionList,
    ProfileVersionRead,
)
from app.services import profiles as service
from app.services.profiles import TOP_LEVEL

router = APIRouter(
    prefix="/profiles", tags=["profiles"], responses=problem_responses(401, 403, 404, 409, 422, 500)
)


def _version(row: Profile | ProfileVersion) -> dict[str, object]:
    return {
        "version": row.version,
        "name": row.name,
        "purpose": row.purpose,
        "description": row.description,
        "scheme_id": row.scheme_id,
        "constraints": {k: v for k, v in row.settings.items() if k not in TOP_LEVEL},
        "filters": row.filters,
        "time_limit_s": row.settings.get("time_limit_s"),
        "seed": row.settings.get("seed"),
    }


def _read(profile: Profile) -> ProfileRead:
    return ProfileRead(
        id=profile.id,
        builtin=profile.builtin,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
        **_version(profile),  # type: ignore[arg-type]
    )


@router.get("", operation_id="profiles-list", response_model=ProfileList)
def list_profiles(caller: ViewerDep, db: DbDep) -> ProfileList:
    """Your profiles and the built-in ones (read-only), built-in first."""
    return ProfileList(items=[_read(p) for p in service.list_profiles(db=db, caller=caller)])


@router.post(
    "", operation_id="profiles-create", status_code=status.HTTP_201_CREATED,
    response_model=ProfileRead,
)  # fmt: skip
def create_profile(
    body: ProfileCreate, caller: ManagerDep, db: DbDep, response: Response
) -> ProfileRead:
    """Create a profile (version 1); impossible settings answer 422 naming the field."""
    profile = service.create_profile(db=db, caller=caller, body=body)
    response.headers["Location"] = f"/api/v1/profiles/{profile.id}"
    return _read(profile)


@router.get("/{profile_id}", operation_id="profiles-get", response_model=ProfileRead)
def get_profile(profile_id: int, caller: ViewerDep, db: DbDep) -> ProfileRead:
    """A profile at its current version."""
    return _read(service.get_profile(db=db, caller=caller, profile_id=profile_id))


@router.put("/{profile_id}", operation_id="profiles-update", response_model=ProfileRead)
def update_profile(
    profile_id: int, body: ProfileCreate, caller: ManagerDep, db: DbDep
) -> ProfileRead:
    """Save a new version of a profile (built-in profiles are read-only: 409)."""
    return _read(service.update_profile(db=db, caller=caller, profile_id=profile_id, body=body))


@router.delete(
    "/{profile_id}", operation_id="profiles-delete", status_code=status.HTTP_204_NO_CONTENT
)
def delete_profile(profile_id: int, caller: ManagerDep, db: DbDep) -> Response:
    """Delete a profile and its versions; runs keep their parameter snapshot."""
    service.delete_profile(db=db, caller=caller, profile_id=profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{profile_id}/versions", operation_id="profiles-versions", response_model=ProfileVersionList
)
def list_versions(profile_id: int, caller: ViewerDep, db: DbDep) -> ProfileVersionList:
    """Every saved version of a profile, oldest first."""
    rows = service.list_versions(db=db, caller=caller, profile_id=profile_id)
    items = [ProfileVersionRead(created_at=r.created_at, **_version(r)) for r in rows]  # type: ignore[arg-type]
    return ProfileVersionList(profile_id=profile_id, items=items)
