"""The kring tables as typed SQLAlchemy 2 classes.

Every row that belongs to an organisation inherits :class:`OrgScoped`.  One session-level
hook (:func:`_scope_to_organisation`) adds ``organisation_id = <caller's>`` to every ORM
SELECT, UPDATE and DELETE on those tables once a session is bound to an organisation with
:func:`bind_organisation`, so no query can forget the scoping.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
)
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    relationship,
    with_loader_criteria,
)

from app.db import Base
from app.ids import column_default

ORG_KEY = "organisation_id"


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Role(enum.StrEnum):
    """What an API key may do; each role includes the ones below it."""

    viewer = "viewer"
    member = "member"
    manager = "manager"
    admin = "admin"


class RunStatus(enum.StrEnum):
    """Life cycle of a run."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class GroupStatus(enum.StrEnum):
    """A programme manager's decision on a proposed group."""

    proposed = "proposed"
    accepted = "accepted"
    rejected = "rejected"


class LinkSource(enum.StrEnum):
    """Where a competitor or partner link came from."""

    declared = "declared"
    inferred = "inferred"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


def _ts() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class Organisation(Base):
    """A branch organisation (or the platform operator); owns all other rows."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = _ts()
    # The platform operator's organisation: its admins create organisations and issue keys
    # for any organisation (``kring admin create-org NAME --platform``).
    is_platform: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# Names are unique whatever their case: "orga" is refused beside "OrgA".
Index("uq_organisation_lower_name", func.lower(Organisation.name), unique=True)


class OrgScoped:
    """Mixin: the row belongs to one organisation and is filtered to it automatically."""

    @declared_attr
    def organisation_id(cls) -> Mapped[int]:
        return mapped_column(
            ForeignKey("organisation.id", ondelete="CASCADE"), index=True, nullable=False
        )


class ApiKey(OrgScoped, Base):
    """An API key: only its peppered SHA-256 (HMAC) is stored; shown once, revocable, may expire."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True, default=column_default("api_key"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str | None] = mapped_column(String(200))
    # The person or system holding the key (keys from before holder names: "unnamed ...").
    holder: Mapped[str] = mapped_column(
        String(200), server_default="unnamed (issued before holder names)"
    )
    created_at: Mapped[datetime] = _ts()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Firm(OrgScoped, Base):
    """A member firm, geocoded on write; erased for good on DELETE."""

    __tablename__ = "firm"
    __table_args__ = (
        UniqueConstraint(ORG_KEY, "external_id"),
        CheckConstraint("digital_level IS NULL OR digital_level BETWEEN 1 AND 4", "digital"),
        CheckConstraint("employees IS NULL OR employees >= 0", "employees"),
        Index("ix_firm_org_province", ORG_KEY, "province"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    kvk_number: Mapped[str | None] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str] = mapped_column(String(7))
    pc4: Mapped[str] = mapped_column(String(4))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    precision: Mapped[str] = mapped_column(String(16))
    place: Mapped[str | None] = mapped_column(String(200))
    gemeente_code: Mapped[str | None] = mapped_column(String(8))
    gemeente_name: Mapped[str | None] = mapped_column(String(200))
    province_code: Mapped[str | None] = mapped_column(String(8))
    province: Mapped[str | None] = mapped_column(String(100))
    labour_market_region_code: Mapped[str | None] = mapped_column(String(8))
    labour_market_region: Mapped[str | None] = mapped_column(String(200))
    sbi_code: Mapped[str | None] = mapped_column(String(8))
    employees: Mapped[int | None] = mapped_column(Integer)
    digital_level: Mapped[int | None] = mapped_column(Integer)
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    weight: Mapped[int | None] = mapped_column(Integer)
    contact_person: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class _Link(OrgScoped):
    """A pair of firms of one organisation, stored with ``firm_a_id < firm_b_id``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_a_id: Mapped[int] = mapped_column(ForeignKey("firm.id", ondelete="CASCADE"))
    firm_b_id: Mapped[int] = mapped_column(ForeignKey("firm.id", ondelete="CASCADE"), index=True)
    source: Mapped[LinkSource] = mapped_column(
        _enum(LinkSource, "source"), default=LinkSource.declared
    )
    created_at: Mapped[datetime] = _ts()


class CompetitorLink(_Link, Base):
    """Two firms that must never share a group."""

    __tablename__ = "competitor_link"
    __table_args__ = (
        UniqueConstraint(ORG_KEY, "firm_a_id", "firm_b_id"),
        CheckConstraint("firm_a_id < firm_b_id", "ordered"),
    )


class PartnerLink(_Link, Base):
    """Two firms that know each other as supplier/customer (fine, even welcome, together)."""

    __tablename__ = "partner_link"
    __table_args__ = (
        UniqueConstraint(ORG_KEY, "firm_a_id", "firm_b_id"),
        CheckConstraint("firm_a_id < firm_b_id", "ordered"),
    )


class Profile(OrgScoped, Base):
    """A named, versioned set of run settings (managed by programme managers).

    The row holds the current version; every version (the first included) is kept in
    :class:`ProfileVersion`.  Built-in profiles (``builtin``) are read-only.
    """

    __tablename__ = "profile"
    __table_args__ = (UniqueConstraint(ORG_KEY, "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True, default=column_default("profile"))
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(16))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(Text)
    scheme_id: Mapped[str | None] = mapped_column(String(64))
    filters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ProfileVersion(OrgScoped, Base):
    """One version of a profile, as it was saved (never changed afterwards)."""

    __tablename__ = "profile_version"
    __table_args__ = (UniqueConstraint("profile_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profile.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(16))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(Text)
    scheme_id: Mapped[str | None] = mapped_column(String(64))
    filters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _ts()


class AuditEntry(OrgScoped, Base):
    """Who did what and when: profile edits, runs, group decisions."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_org_at", ORG_KEY, "at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True, default=column_default("audit_entry"))
    at: Mapped[datetime] = _ts()
    actor_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    resource: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Run(OrgScoped, Base):
    """One matching run: its parameter snapshot, progress, outcome and statistics."""

    __tablename__ = "run"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 1", "progress"),
        Index("ix_run_status", "status"),
        {"sqlite_autoincrement": True},  # ids are never reused (audit entries, URLs)
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=column_default("run"))
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[RunStatus] = mapped_column(
        _enum(RunStatus, "run_status"), default=RunStatus.queued
    )
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    best_objective: Mapped[float | None] = mapped_column(Float)
    """Unused since rel2 (it was ``placed * 10**6 + affinity``); kept for old rows."""
    progress_placed: Mapped[int | None] = mapped_column(Integer)
    """Firms placed in the best solution so far (the final count once succeeded)."""
    progress_placed_bound: Mapped[int | None] = mapped_column(Integer)
    """Tightest valid upper bound known on the firms any solution could place."""
    progress_mean_affinity: Mapped[float | None] = mapped_column(Float)
    """Mean over placed firms of their mean affinity to their group mates."""
    progress_phase: Mapped[str | None] = mapped_column(String(16))
    """loading, warming_up, building, solving, reporting, storing; null when not running."""
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="SET NULL"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL")
    )
    profile_version: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(8), default="full", server_default="full")
    keep_accepted_from: Mapped[int | None] = mapped_column(
        ForeignKey("run.id", ondelete="SET NULL")
    )
    seed_groups: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Hand edits applied to the run's groups (0: the optimiser's proposal as stored)."""
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The optimiser's original groups and unassigned firms, saved at the first hand edit."""
    created_at: Mapped[datetime] = _ts()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    groups: Mapped[list[Group]] = relationship(
        back_populates="run", order_by="Group.number", cascade="all, delete-orphan"
    )
    unassigned: Mapped[list[UnassignedFirm]] = relationship(
        order_by="UnassignedFirm.id", cascade="all, delete-orphan"
    )


class RunWindow(Base):
    """One regional window of a run on the Celery executor: plan, lease and result."""

    __tablename__ = "run_window"
    __table_args__ = (UniqueConstraint("run_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Group(OrgScoped, Base):
    """A proposed group (kring) of one run."""

    __tablename__ = "group"
    __table_args__ = (UniqueConstraint("run_id", "number"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    theme: Mapped[str | None] = mapped_column(String(64))
    diameter_km: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hull: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[GroupStatus] = mapped_column(
        _enum(GroupStatus, "group_status"), default=GroupStatus.proposed
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL")
    )
    decision_comment: Mapped[str | None] = mapped_column(Text)
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Locked by hand: no edit touches it, and later runs keep it exactly."""
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a hand edit last changed the members (``None``: as the optimiser proposed)."""

    run: Mapped[Run] = relationship(back_populates="groups")
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", order_by="GroupMember.position", cascade="all, delete-orphan"
    )


class GroupMember(OrgScoped, Base):
    """A firm in a group; after GDPR erasure only the fact that a member existed remains."""

    __tablename__ = "group_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firm.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    group: Mapped[Group] = relationship(back_populates="members")


class RunEdit(OrgScoped, Base):
    """One verified hand edit of a run's groups: what, by whom, when, before and after."""

    __tablename__ = "run_edit"
    __table_args__ = (UniqueConstraint("run_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    effects: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Per changed group: members and scores before and after (external ids)."""
    by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id", ondelete="SET NULL"))
    by_holder: Mapped[str] = mapped_column(String(128), default="")
    at: Mapped[datetime] = _ts()


class UnassignedFirm(OrgScoped, Base):
    """A firm a run left out, with the reason; erased like group members."""

    __tablename__ = "unassigned_firm"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firm.id", ondelete="SET NULL"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def bind_organisation(session: Session, organisation_id: int) -> None:
    """Scope every later ORM statement of ``session`` to ``organisation_id``."""
    session.info[ORG_KEY] = organisation_id


@event.listens_for(Session, "do_orm_execute")
def _scope_to_organisation(state: ORMExecuteState) -> None:
    org_id = state.session.info.get(ORG_KEY)
    if org_id is None or state.is_column_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                OrgScoped,
                lambda cls: cls.organisation_id == org_id,
                include_aliases=True,
            )
        )
