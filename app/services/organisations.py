"""Organisations and API keys: creation, hashing, authentication and who may issue keys.

A *platform admin* holds an ``admin`` key of the platform organisation (``is_platform``,
set by ``kring admin create-org NAME --platform``): only platform admins create
organisations and issue keys for organisations other than their own.  Every key names its
holder (a person or a system), shown with the decisions and audit entries made with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, said
from app.i18n import with_text
from app.models import ApiKey, Organisation, Role, utcnow

KEY_PREFIX = "kr_"
SYSTEM_HOLDER = "system"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the key's organisation, role, id and holder."""

    organisation_id: int
    role: Role
    key_id: int
    holder: str = ""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key; ``key`` is shown once and never stored."""

    organisation_id: int
    organisation_name: str
    role: Role
    key_id: int
    key: str
    holder: str = SYSTEM_HOLDER


def hash_key(*, key: str, settings: Settings) -> str:
    """Return the peppered SHA-256 (HMAC) of ``key`` as 64 hex digits."""
    pepper = settings.api_key_pepper.get_secret_value().encode()
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def create_key(
    *,
    db: Session,
    organisation: Organisation,
    role: Role,
    settings: Settings,
    holder: str = SYSTEM_HOLDER,
    label: str = "",
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Create a random 256-bit key for ``organisation`` and store only its hash."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        organisation_id=organisation.id,
        role=role,
        key_hash=hash_key(key=key, settings=settings),
        prefix=key[:10],
        label=label or None,
        holder=holder,
        expires_at=expires_at,
    )
    db.add(row)
    db.flush()
    return IssuedKey(organisation.id, organisation.name, role, row.id, key, holder)


def create_organisation(
    *,
    db: Session,
    name: str,
    role: Role,
    settings: Settings,
    holder: str = SYSTEM_HOLDER,
    label: str = "",
    platform: bool = False,
) -> IssuedKey:
    """Create an organisation and its first key; 409 when the name is taken in any case."""
    if find_organisation(db=db, name=name) is not None:
        raise said(ConflictError, "problem.conflict.organisation_name", name=repr(name))
    try:
        org = Organisation(name=name, is_platform=platform)
        db.add(org)
        db.flush()
        issued = create_key(
            db=db, organisation=org, role=role, settings=settings, holder=holder, label=label
        )
        db.commit()
    except IntegrityError:  # created at the same moment by another request
        db.rollback()
        raise said(ConflictError, "problem.conflict.organisation_name", name=repr(name)) from None
    return issued


def find_organisation(*, db: Session, name: str) -> Organisation | None:
    """Return the organisation called ``name`` (compared case-insensitively), if any."""
    exact = db.scalar(select(Organisation).where(Organisation.name == name))
    if exact is not None:
        return exact
    folded = name.casefold()  # SQLite's lower() folds ASCII only: compare here
    return next((o for o in db.scalars(select(Organisation)) if o.name.casefold() == folded), None)


def is_platform_admin(*, db: Session, caller: Caller) -> bool:
    """Whether ``caller`` holds an admin key of the platform organisation."""
    org = db.get(Organisation, caller.organisation_id)
    return caller.role == Role.admin and org is not None and org.is_platform


def issue_key(
    *,
    db: Session,
    caller: Caller,
    organisation: str | None,
    role: Role,
    holder: str,
    label: str,
    settings: Settings,
) -> IssuedKey:
    """Issue a key for the caller's organisation or, for platform admins, any organisation.

    Another organisation named by a caller who is not a platform admin is 403 whether or
    not it exists (nothing is revealed); an unknown one named by a platform admin is 404.
    """
    own = db.get(Organisation, caller.organisation_id)
    assert own is not None
    target = own
    if organisation is not None and organisation.casefold() != own.name.casefold():
        if not is_platform_admin(db=db, caller=caller):
            raise with_text(
                ForbiddenError("only platform admins issue keys for other organisations"),
                "problem.forbidden.other_organisation",
            )
        found = find_organisation(db=db, name=organisation)
        if found is None:
            raise NotFoundError("organisation", repr(organisation))
        target = found
    issued = create_key(
        db=db, organisation=target, role=role, settings=settings, holder=holder, label=label
    )
    db.commit()
    return issued


def authenticate(*, db: Session, key: str | None, settings: Settings) -> Caller:
    """Return the caller behind ``key``; 401 for a missing, unknown or revoked key."""
    if not key:
        raise with_text(
            UnauthorizedError("send your API key in the X-API-Key header"),
            "problem.unauthorized.missing",
        )
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key=key, settings=settings)))
    if row is None or row.revoked_at is not None or _expired(row.expires_at):
        raise with_text(
            UnauthorizedError("the API key is unknown, revoked or expired"),
            "problem.unauthorized.unknown",
        )
    return Caller(row.organisation_id, Role(row.role), row.id, row.holder)


def _expired(expires_at: datetime | None) -> bool:
    if expires_at is None:
        return False
    if expires_at.tzinfo is None:  # SQLite returns naive UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at <= datetime.now(UTC)


def revoke_key(*, db: Session, key_id: int) -> ApiKey:
    """Revoke key ``key_id`` at once (idempotent); 404 when there is no such key."""
    row = db.get(ApiKey, key_id)
    if row is None:
        raise NotFoundError("API key", key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    db.commit()
    return row


def list_keys(*, db: Session, organisation: Organisation) -> list[ApiKey]:
    """Return the keys of ``organisation`` (hashes and prefixes only), oldest first."""
    query = (
        select(ApiKey)
        .where(ApiKey.organisation_id == organisation.id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    return list(db.scalars(query))


def holder_names(*, db: Session, key_ids: Iterable[int | None]) -> dict[int, str]:
    """The holder of each key id given (keys of the session's organisation)."""
    wanted = {i for i in key_ids if i is not None}
    if not wanted:
        return {}
    rows = db.execute(select(ApiKey.id, ApiKey.holder).where(ApiKey.id.in_(wanted)))
    return {key_id: holder for key_id, holder in rows}
