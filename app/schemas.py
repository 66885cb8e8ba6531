"""Request and response models of the HTTP API (kept apart from the ORM classes).

Firm values are only type-checked here; their rules (need codes, postcode, SBI code,
employees, digital level, KvK number) live in :mod:`matching.firms` and are applied to
JSON and CSV input alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Purpose = Literal["training", "subsidy", "peer"]
RunStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
RoleName = Literal["viewer", "member", "manager", "admin"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- organisations and keys -------------------------------------------------------------


class OrganisationCreate(_Strict):
    """A new organisation and the role of its first key."""

    name: str = Field(min_length=1, max_length=200)
    role: RoleName = "member"


class ApiKeyCreate(_Strict):
    """A new key for the caller's organisation."""

    role: RoleName = "member"
    label: str = Field("", max_length=200)


class ApiKeyIssued(BaseModel):
    """A created key: ``key`` is shown only in this response."""

    organisation_id: int
    organisation_name: str
    role: RoleName
    key_id: int
    key: str


class CallerRead(BaseModel):
    """Who the key belongs to."""

    organisation_id: int
    organisation_name: str
    role: RoleName


# --- needs ------------------------------------------------------------------------------


class NeedRead(BaseModel):
    """One need of the fixed taxonomy."""

    code: str
    theme: str
    label_nl: str
    label_en: str
    joint_training: bool
    joint_subsidy: bool
    sensitivity: str


class NeedList(BaseModel):
    """The needs taxonomy."""

    items: list[NeedRead]


# --- firms ------------------------------------------------------------------------------


class FirmCreate(_Strict):
    """A firm to create or update (matched on ``external_id``); same fields as the CSV."""

    external_id: str = Field(max_length=64, description="Your id, unique in your organisation")
    name: str = Field(max_length=300)
    postcode: str = Field(max_length=16, description="PC4 `9711` or PC6 `9711 AB`")
    sbi_code: str = Field(max_length=16, description="SBI 2008 code, e.g. `4120` or `41.20`")
    employees: int = Field(description="Number of employees, >= 0")
    digital_level: int = Field(description="Digital ladder level 1-4")
    needs: list[str] = Field(description="Need codes (GET /needs), most important first")
    lat: float | None = Field(None, description="Optional WGS84 latitude (with lon)")
    lon: float | None = Field(None, description="Optional WGS84 longitude (with lat)")
    kvk_number: str | None = Field(None, description="KvK number, exactly 8 digits")
    weight: int | None = Field(None, description="Optional weight >= 0, e.g. staff to train")
    consent_to_share: bool = Field(False, description="The firm consents to share its data")


class FirmUpdate(_Strict):
    """Fields to change on one firm; omitted fields keep their value."""

    name: str | None = Field(None, max_length=300)
    postcode: str | None = Field(None, max_length=16)
    sbi_code: str | None = Field(None, max_length=16)
    employees: int | None = None
    digital_level: int | None = None
    needs: list[str] | None = None
    lat: float | None = None
    lon: float | None = None
    kvk_number: str | None = None
    weight: int | None = None
    consent_to_share: bool | None = None


class FirmRead(BaseModel):
    """A stored, geocoded firm."""

    model_config = ConfigDict(from_attributes=True)

    external_id: str
    name: str
    kvk_number: str | None
    postcode: str
    pc4: str
    lat: float
    lon: float
    precision: str
    place: str | None
    gemeente_code: str | None
    gemeente_name: str | None
    province: str | None
    labour_market_region: str | None
    sbi_code: str | None
    employees: int | None
    digital_level: int | None
    needs: list[str]
    weight: int | None
    consent_to_share: bool
    created_at: datetime
    updated_at: datetime


class FirmList(BaseModel):
    """One page of firms."""

    items: list[FirmRead]
    total: int
    limit: int
    offset: int


class FirmWriteResult(BaseModel):
    """What a bulk write did."""

    created: int
    updated: int
    external_ids: list[str]


# --- links ------------------------------------------------------------------------------


class LinkCreate(_Strict):
    """A pair of firms by external id."""

    sme_a: str = Field(min_length=1, max_length=64)
    sme_b: str = Field(min_length=1, max_length=64)


class LinkRead(BaseModel):
    """A stored pair."""

    sme_a: str
    sme_b: str
    source: str
    created_at: datetime


class LinkList(BaseModel):
    """One page of pairs."""

    items: list[LinkRead]
    total: int
    limit: int
    offset: int


class LinkWriteResult(BaseModel):
    """What a bulk link write did."""

    created: int
    existing: int


# --- runs -------------------------------------------------------------------------------


class RunConstraints(_Strict):
    """Constraint overrides for one run (omitted: the defaults of ``matching.RunSettings``)."""

    min_size: int | None = Field(None, ge=2, le=100, description="Smallest group (10)")
    max_size: int | None = Field(None, ge=2, le=100, description="Largest group (15)")
    max_pair_km: float | None = Field(
        None, gt=0, le=300, description="Largest distance between any two members (50)"
    )
    min_weight: int | None = Field(None, ge=0, description="Least total member weight")
    max_weight: int | None = Field(None, ge=0, description="Most total member weight")
    infer_competitors_km: float | None = Field(
        None, gt=0, le=100, description="Same SBI class within this distance = competitors"
    )
    min_theme_share: float | None = Field(
        None, gt=0, le=1, description="Share of members with the group theme (1.0)"
    )
    max_same_division: int | None = Field(None, ge=1, description="Most members per SBI division")
    allowed_themes: list[str] | None = Field(None, description="Need codes allowed as theme")
    eligible_provinces: list[str] | None = Field(None, description="Subsidy: eligible provinces")
    eligible_max_employees: int | None = Field(None, ge=0, description="Subsidy: largest firm")
    max_iterations: int | None = Field(None, ge=0, description="Search iteration budget")


class RunFilters(_Strict):
    """Which of the organisation's firms take part (all when omitted)."""

    provinces: list[str] | None = Field(None, description="Province names")
    gemeente_codes: list[str] | None = Field(None, description="CBS codes, e.g. GM0014")
    needs: list[str] | None = Field(None, description="Firms with any of these needs")
    sbi_prefixes: list[str] | None = Field(None, description="SBI code prefixes")
    external_ids: list[str] | None = Field(None, description="Exactly these firms")
    consent_only: bool = Field(False, description="Only firms that consent to share")


class RunCreate(_Strict):
    """A matching run to start."""

    purpose: Purpose = "training"
    profile_id: int | None = Field(None, description="A stored profile's settings")
    constraints: RunConstraints | None = None
    filters: RunFilters | None = None
    time_limit_s: float | None = Field(None, gt=0, description="Wall-clock limit in seconds")
    seed: int | None = Field(None, ge=0, description="Random seed (reproducible runs)")


class RunRead(BaseModel):
    """A run's status, progress and outcome."""

    id: int
    purpose: str
    status: RunStatusName
    progress: float = Field(description="0-1")
    best_objective: float | None
    profile_id: int | None
    params: dict[str, Any] = Field(description="The full parameter snapshot")
    filters: dict[str, Any]
    stats: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunList(BaseModel):
    """One page of runs, newest first."""

    items: list[RunRead]
    total: int
    limit: int
    offset: int


class MemberRead(BaseModel):
    """A group member; ``erased`` members keep no data."""

    external_id: str | None
    erased: bool
    name: str | None = None
    postcode: str | None = None
    gemeente_name: str | None = None
    province: str | None = None
    sbi_code: str | None = None
    employees: int | None = None
    needs: list[str] | None = None


class GroupRead(BaseModel):
    """A proposed group (kring) with its explanation."""

    id: int
    number: int
    status: Literal["proposed", "accepted", "rejected"]
    theme: str | None
    diameter_km: float | None
    score: float | None = Field(description="Mean pairwise affinity of the members")
    explanation: str | None = Field(description="Why these firms form a group")
    details: dict[str, Any] | None = Field(
        description="theme_label, shared_needs, employees, sectors, centroid, diameter_pair"
    )
    members: list[MemberRead]


class UnassignedRead(BaseModel):
    """A firm the run left out, and why."""

    external_id: str | None
    erased: bool
    reason: str


class RunGroups(BaseModel):
    """A run's groups, unassigned firms and statistics."""

    run_id: int
    status: RunStatusName
    groups: list[GroupRead]
    unassigned: list[UnassignedRead]
    stats: dict[str, Any] | None


# --- health -----------------------------------------------------------------------------


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    detail: str | None = None
    revision: str | None = None
