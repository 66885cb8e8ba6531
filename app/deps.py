"""FastAPI dependencies as ``Annotated`` aliases: settings, database session, caller, language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import get_db
from app.errors import ForbiddenError
from app.i18n import scope_lang, with_text
from app.jobs import RunExecutor
from app.models import Role, bind_organisation
from app.services.organisations import Caller, authenticate, is_platform_admin
from app.services.privacy import bind_audience

SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Session, Depends(get_db)]

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your API key")
_RANK = {Role.viewer: 0, Role.member: 1, Role.manager: 2, Role.admin: 3}


def get_caller(
    db: DbDep, settings: SettingsDep, key: Annotated[str | None, Security(_api_key)]
) -> Caller:
    """Authenticate the key; scope the session to its organisation and role's firm view."""
    caller = authenticate(db=db, key=key, settings=settings)
    bind_organisation(db, caller.organisation_id)
    bind_audience(session=db, role=caller.role)
    return caller


def require(minimum: Role) -> Callable[[Caller], Caller]:
    """Return a dependency admitting callers whose role is at least ``minimum``."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if _RANK[caller.role] < _RANK[minimum]:
            raise with_text(
                ForbiddenError(f"this needs the {minimum.value} role; your key is {caller.role}"),
                "problem.forbidden.role",
                needed=minimum.value,
                role=caller.role.value,
            )
        return caller

    check.minimum_role = minimum  # type: ignore[attr-defined]  # read by the route audit test
    return check


def declared_role(dependant: Any) -> Role | None:
    """The least role a route's dependency tree admits (viewer for any key; None: public)."""
    found: Role | None = None
    for dep in dependant.dependencies:
        role = getattr(dep.call, "minimum_role", None)
        if role is None and dep.call is get_caller:
            role = Role.viewer
        inner = declared_role(dep)
        for candidate in (role, inner):
            if candidate is not None and (found is None or _RANK[candidate] > _RANK[found]):
                found = candidate
    return found


def require_platform_admin(
    caller: Annotated[Caller, Depends(require(Role.admin))], db: DbDep
) -> Caller:
    """Admit only admins of the platform organisation (403 for every other key)."""
    if not is_platform_admin(db=db, caller=caller):
        raise with_text(
            ForbiddenError(
                "this is for platform admins (an admin key of the platform organisation)"
            ),
            "problem.forbidden.platform_admin",
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
ViewerDep = Annotated[Caller, Depends(require(Role.viewer))]
MemberDep = Annotated[Caller, Depends(require(Role.member))]
ManagerDep = Annotated[Caller, Depends(require(Role.manager))]
AdminDep = Annotated[Caller, Depends(require(Role.admin))]
PlatformAdminDep = Annotated[Caller, Depends(require_platform_admin)]


def get_lang(request: Request) -> str:
    """The answer's language, ``"nl"`` or ``"en"``, from ``Accept-Language`` (Dutch default)."""
    return scope_lang(request.scope)


LangDep = Annotated[str, Depends(get_lang)]


def get_executor(request: Request) -> RunExecutor:
    """The app's run executor (started in the lifespan)."""
    executor: RunExecutor = request.app.state.executor
    return executor


ExecutorDep = Annotated[RunExecutor, Depends(get_executor)]
