"""Organisations and API keys: creation, hashing and authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import ConflictError, NotFoundError, UnauthorizedError
from app.models import ApiKey, Organisation, Role, utcnow

KEY_PREFIX = "kr_"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the key's organisation, role and id."""

    organisation_id: int
    role: Role
    key_id: int


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key; ``key`` is shown once and never stored."""

    organisation_id: int
    organisation_name: str
    role: Role
    key_id: int
    key: str


def hash_key(key: str, settings: Settings) -> str:
    """Return the peppered SHA-256 (HMAC) of ``key`` as 64 hex digits."""
    pepper = settings.api_key_pepper.get_secret_value().encode()
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def create_key(
    db: Session,
    *,
    organisation: Organisation,
    role: Role,
    settings: Settings,
    label: str = "",
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Create a random 256-bit key for ``organisation`` and store only its hash."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        organisation_id=organisation.id,
        role=role,
        key_hash=hash_key(key, settings),
        prefix=key[:10],
        label=label or None,
        expires_at=expires_at,
    )
    db.add(row)
    db.flush()
    return IssuedKey(organisation.id, organisation.name, role, row.id, key)


def create_organisation(
    db: Session, *, name: str, role: Role, settings: Settings, label: str = ""
) -> IssuedKey:
    """Create an organisation and its first key; 409 when the name is taken."""
    if db.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise ConflictError(f"an organisation named {name!r} already exists")
    org = Organisation(name=name)
    db.add(org)
    db.flush()
    issued = create_key(db, organisation=org, role=role, settings=settings, label=label)
    db.commit()
    return issued


def find_organisation(db: Session, name: str) -> Organisation | None:
    """Return the organisation called ``name``, if any."""
    return db.scalar(select(Organisation).where(Organisation.name == name))


def authenticate(db: Session, key: str | None, settings: Settings) -> Caller:
    """Return the caller behind ``key``; 401 for a missing, unknown or revoked key."""
    if not key:
        raise UnauthorizedError("send your API key in the X-API-Key header")
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key, settings)))
    if row is None or row.revoked_at is not None or _expired(row.expires_at):
        raise UnauthorizedError("the API key is unknown, revoked or expired")
    return Caller(row.organisation_id, Role(row.role), row.id)


def _expired(expires_at: datetime | None) -> bool:
    if expires_at is None:
        return False
    if expires_at.tzinfo is None:  # SQLite returns naive UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at <= datetime.now(UTC)


def revoke_key(db: Session, key_id: int) -> ApiKey:
    """Revoke key ``key_id`` at once (idempotent); 404 when there is no such key."""
    row = db.get(ApiKey, key_id)
    if row is None:
        raise NotFoundError("API key", key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    db.commit()
    return row


def list_keys(db: Session, organisation: Organisation) -> list[ApiKey]:
    """Return the keys of ``organisation`` (hashes and prefixes only), oldest first."""
    query = select(ApiKey).where(ApiKey.organisation_id == organisation.id).order_by(ApiKey.id)
    return list(db.scalars(query))
