"""Request and response models of the HTTP API (kept apart from the ORM classes).

Firm values are only type-checked here; their rules (need codes, postcode, SBI code,
employees, digital level, KvK number) live in :mod:`matching.sme.firms` and are applied to
JSON and CSV input alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from matching import (
    AFFINITY_FIELDS,
    MAX_FIRM_COUNT,
    MAX_LENGTHS,
    REASONS,
    Scheme,
    setting_field,
    setting_fields,
)
from matching import Field as SettingField
from texts import t

_PURPOSE = setting_field("purpose")
Purpose = Literal[_PURPOSE.choices]  # type: ignore[valid-type]
RunStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
RunReadStatus = Literal["queued", "running", "cancelling", "succeeded", "failed", "cancelled"]
RunPhase = Literal["loading", "warming_up", "building", "solving", "reporting", "storing"]
RoleName = Literal["viewer", "member", "manager", "admin"]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
"""A stored time: UTC, always with an offset (SQLite returns naive values)."""


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class _Strict(BaseModel):
    """A request model: unknown members and NUL characters (any text field) are 422."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if _has_nul(value):
            raise ValueError("must not contain a NUL character")
        return value


# --- organisations and keys -------------------------------------------------------------


_Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
"""A name people read: 1-200 characters, no control characters, trimmed."""


class OrganisationCreate(_Strict):
    """A new organisation and its first key (platform admins only)."""

    name: _Name = Field(description="Unique whatever its case: 'orga' is refused beside 'OrgA'")
    role: RoleName = "member"
    holder: _Name = Field(description="Who holds the first key: a person or a system")


class ApiKeyCreate(_Strict):
    """A new key for your organisation (platform admins: for any organisation)."""

    holder: _Name = Field(description="Who holds the key: a person or a system")
    role: RoleName = "member"
    label: str = Field("", max_length=200)
    organisation: _Name | None = Field(
        None,
        description="Platform admins: the name of the organisation to issue the key for "
        "(default: your own)",
    )


class ApiKeyIssued(BaseModel):
    """A created key: ``key`` is shown only in this response."""

    organisation_id: int
    organisation_name: str
    role: RoleName
    key_id: int
    holder: str
    key: str


class CallerRead(BaseModel):
    """Who the key belongs to."""

    organisation_id: int
    organisation_name: str
    role: RoleName
    holder: str = Field(description="Who holds the key: a person or a system")


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

    external_id: str = Field(
        max_length=MAX_LENGTHS["external_id"],
        description="Your id, unique in your organisation; no `/` or control characters",
    )
    name: str = Field(max_length=MAX_LENGTHS["name"])
    postcode: str = Field(max_length=16, description="PC4 `9711` or PC6 `9711 AB`")
    sbi_code: str = Field(max_length=16, description="SBI 2008 code, e.g. `4120` or `41.20`")
    employees: int = Field(description=f"Number of employees, 0-{MAX_FIRM_COUNT:,}")
    digital_level: int = Field(description="Digital ladder level 1-4")
    needs: list[str] = Field(description="Need codes (GET /needs), most important first")
    lat: float | None = Field(None, description="Optional WGS84 latitude (with lon)")
    lon: float | None = Field(None, description="Optional WGS84 longitude (with lat)")
    kvk_number: str | None = Field(None, description="KvK number, exactly 8 digits")
    weight: int | None = Field(
        None, description=f"Optional weight 0-{MAX_FIRM_COUNT:,}, e.g. staff to train"
    )
    contact_person: str | None = Field(
        None, max_length=MAX_LENGTHS["contact_person"], description="Who to invite"
    )
    email: str | None = Field(
        None, max_length=MAX_LENGTHS["email"], description="Contact e-mail (checked, normalised)"
    )
    phone: str | None = Field(
        None, max_length=32, description="Contact phone, Dutch or international (normalised)"
    )
    consent_to_share: bool = Field(False, description="The firm consents to share its data")


class FirmUpdate(_Strict):
    """Fields to change on one firm; omitted fields keep their value."""

    name: str | None = Field(None, max_length=MAX_LENGTHS["name"])
    postcode: str | None = Field(None, max_length=16)
    sbi_code: str | None = Field(None, max_length=16)
    employees: int | None = None
    digital_level: int | None = None
    needs: list[str] | None = None
    lat: float | None = None
    lon: float | None = None
    kvk_number: str | None = None
    weight: int | None = None
    contact_person: str | None = Field(None, max_length=MAX_LENGTHS["contact_person"])
    email: str | None = Field(None, max_length=MAX_LENGTHS["email"])
    phone: str | None = Field(None, max_length=32)
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
    contact_person: str | None = Field(None, description="Shown only with consent_to_share")
    email: str | None = Field(None, description="Shown only with consent_to_share")
    phone: str | None = Field(None, description="Shown only with consent_to_share")
    consent_to_share: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @model_validator(mode="after")
    def _contact_only_with_consent(self) -> FirmRead:
        if not self.consent_to_share:
            self.contact_person = self.email = self.phone = None
        return self


class FirmList(BaseModel):
    """One page of firms."""

    items: list[FirmRead]
    total: int
    limit: int
    offset: int


class ReadAsRead(BaseModel):
    """How an uploaded file was read: CSV with its encoding and delimiter, or an xlsx sheet."""

    format: Literal["csv", "xlsx"]
    encoding: str | None = Field(None, description="CSV: utf-8, cp1252 or utf-16")
    delimiter: str | None = Field(None, description="CSV: ',', ';' or a tab")
    sheet: str | None = Field(None, description="xlsx: the sheet read")


class FirmWriteResult(BaseModel):
    """What a bulk write did."""

    created: int
    updated: int
    external_ids: list[str]


class FirmImportResult(FirmWriteResult):
    """What a file import did, and how the file was read."""

    read_as: ReadAsRead
    ignored_columns: list[str] = Field(
        default_factory=list,
        description="Header cells that name no kring column (e.g. plaats, adres), as "
        "written: skipped, their values not stored",
    )
    notice: str | None = Field(
        None, description="The skipped columns in a sentence, in the request's language"
    )


# --- links ------------------------------------------------------------------------------


class LinkCreate(_Strict):
    """A pair of firms by external id."""

    sme_a: str = Field(min_length=1, max_length=MAX_LENGTHS["sme_a"])
    sme_b: str = Field(min_length=1, max_length=MAX_LENGTHS["sme_b"])


class LinkRead(BaseModel):
    """A stored pair."""

    sme_a: str
    sme_b: str
    source: str
    created_at: UtcDatetime


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


# Run settings: every schema field below is generated from the setting's one definition, a
# matching ``Field`` (bounds, default, English description; the Dutch one as
# ``x-description-nl``): the run-level ones of ``matching.sme.fields`` and every registered
# rule's, so a new rule's settings appear under ``constraints`` with no edit here.

TOP_LEVEL = ("purpose", "scheme_id", "time_limit_s", "seed")
"""Settings that are request members of their own; the others live under ``constraints``."""
NOT_OFFERED = ("max_neighbours",)
"""Settings the API does not offer (the service chooses them)."""
_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool,
                          "list[str]": list[str]}  # fmt: skip


def _shown(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list | tuple) else str(value)


def setting_annotation(field: SettingField) -> Any:
    """The API type of a setting: its type (or its choices), or null (the default)."""
    base = Literal[field.choices] if field.choices else _TYPES[field.type]  # type: ignore[valid-type]
    return base | None


def setting_info(field: SettingField, default: str | None = None) -> Any:
    """The pydantic ``Field`` of a setting: the same bounds, the English and Dutch texts."""
    if default is None:
        default = "" if field.default is None else f" Default: {_shown(field.default)}."
    return Field(None, ge=field.ge, le=field.le, gt=field.gt, description=field.en + default,
                 json_schema_extra={"x-description-nl": field.nl})  # fmt: skip


AffinityWeightsIn = create_model(
    "AffinityWeightsIn",
    __base__=_Strict,
    __doc__="Weights of the affinity terms (omitted: the defaults); checked by ``RunSettings``.",
    **{f.name: (float | None, setting_info(f)) for f in AFFINITY_FIELDS},
)


def constraints_model(name: str = "RunConstraints", extra: tuple[str, ...] = ()) -> Any:
    """A model of every setting under ``constraints`` (plus ``extra`` top-level ones).

    Generated from the settings' fields when called, so a rule registered before the call
    (a test's throwaway rule, a new module of ``matching.rules``) has its fields in it.
    """
    skip = set(TOP_LEVEL + NOT_OFFERED) - set(extra)
    members: dict[str, Any] = {
        f.name: (setting_annotation(f), setting_info(f))
        for f in setting_fields()
        if f.name not in skip
    }
    members["affinity"] = (AffinityWeightsIn | None, Field(None, description="Affinity weights"))
    doc = "Settings for one run (omitted: the defaults of ``matching.RunSettings``)."
    return create_model(name, __base__=_Strict, __doc__=doc, **members)


RunConstraints = constraints_model()
ProfileSettings = constraints_model("ProfileSettings", extra=("time_limit_s", "seed"))
_SERVICE_DEFAULT = " Default: the profile's, else the service's (KRING_DEFAULT_TIME_LIMIT_S)."
"""What a profile stores: its ``constraints`` plus ``time_limit_s`` and ``seed``."""


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

    purpose: Purpose = Field(
        _PURPOSE.default,
        description=f"{_PURPOSE.en} Omitted with a profile: the profile's.",
        json_schema_extra={"x-description-nl": _PURPOSE.nl},
    )
    profile_id: int | None = Field(None, description="A stored profile's settings")
    profile_version: int | None = Field(
        None, ge=1, description="An earlier version of the profile (default: its current one)"
    )
    scheme_id: str | None = setting_info(setting_field("scheme_id"))
    constraints: RunConstraints | None = None  # type: ignore[valid-type]
    filters: RunFilters | None = Field(None, description="Omitted with a profile: the profile's")
    time_limit_s: float | None = setting_info(setting_field("time_limit_s"), _SERVICE_DEFAULT)
    seed: int | None = setting_info(setting_field("seed"))
    keep_accepted_from: int | None = Field(
        None, description="A run whose accepted groups are kept exactly (re-optimise the rest)"
    )
    mode: Literal["full", "fill"] = Field(
        "full",
        description="`fill`: place firms new since `keep_accepted_from` into its accepted "
        "groups with room, or into new groups; accepted members never move",
    )


class RunRead(BaseModel):
    """A run's status, progress and outcome."""

    id: int
    purpose: str
    status: RunReadStatus = Field(
        description="`cancelling`: a running run asked to stop; it ends `cancelled` with the "
        "best groups so far discarded"
    )
    progress: float = Field(description="Share of the time limit (or iteration budget) used, 0-1")
    phase: RunPhase | None = Field(
        None,
        description="What a running run does now: `loading` its firms, `warming_up` (loading "
        "the search kernels; the first run after an install can spend most of a minute "
        "here with progress 0), `building` distances and pairs, `solving`, `reporting` "
        "(verifying, reasons, explanations), `storing`; null when not running",
    )
    placed: int | None = Field(
        None, description="Firms placed in the best solution so far (final count when done)"
    )
    placed_bound: int | None = Field(
        None,
        description="The tightest valid upper bound known on the firms any solution could "
        "place (never below `placed`); `placed == placed_bound` means no better coverage exists",
    )
    mean_affinity: float | None = Field(
        None,
        description="Mean over the placed firms of their mean affinity to their group mates "
        "(the member-weighted mean of the groups' mean_affinity)",
    )
    profile_id: int | None
    profile_version: int | None = Field(None, description="The profile version the run used")
    mode: Literal["full", "fill"] = "full"
    keep_accepted_from: int | None = None
    params: dict[str, Any] = Field(description="The full parameter snapshot")
    filters: dict[str, Any]
    stats: dict[str, Any] | None
    error: str | None
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    queue_position: int | None = Field(
        None, description="A queued run's place in the queue (1 = next); null otherwise"
    )
    attempts: int = Field(0, description="Times the run was started (retries included)")


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


class ExplanationPart(BaseModel):
    """One phrase of a group explanation: its catalogue key and values (need codes, km)."""

    key: str = Field(description="Catalogue key, e.g. group.explanation.all_need")
    params: dict[str, Any]


class MeetingPlaceRead(BaseModel):
    """Where a group meets: the PC4 centroid with the smallest total travel of its members.

    Candidates are the members' own PC4s and every PC4 centroid in their bounding box (plus
    2 km); distances are straight-line (haversine) km from each member's position.
    """

    place: str = Field(description="The town (the PC4's place name), e.g. Drachten")
    postcode: str = Field(description="The PC4 of the meeting place, e.g. 9201")
    lat: float = Field(description="Latitude of the PC4 centroid (WGS84 degrees)")
    lon: float = Field(description="Longitude of the PC4 centroid (WGS84 degrees)")
    mean_km: float = Field(description="The members' mean distance to it, km (to 0.1)")
    max_km: float = Field(description="The largest member's distance to it, km (to 0.1)")


class GroupRead(BaseModel):
    """A proposed group (kring) with its explanation."""

    number: int = Field(description="The group's number in its run: the one URLs take")
    status: Literal["proposed", "accepted", "rejected"]
    locked: bool = Field(
        False, description="Locked by hand: no edit changes it; later runs keep it"
    )
    edited_at: datetime | None = Field(
        None, description="When a hand edit last changed its members (null: as proposed)"
    )
    theme: str | None
    diameter_km: float | None
    score: float | None = Field(description="Mean pairwise affinity of the members")
    explanation: str | None = Field(
        description="Why these firms form a group, in the request's language (Accept-Language)"
    )
    explanation_parts: list[ExplanationPart] = Field(
        default_factory=list, description="The explanation's phrases as codes and values"
    )
    details: dict[str, Any] | None = Field(
        description="theme_label, shared_needs, employees, sectors, centroid, diameter_pair"
    )
    meeting_place: MeetingPlaceRead | None = Field(
        None, description="Where the members meet (null for groups stored before meeting places)"
    )
    members: list[MemberRead]


_REASONS = (*REASONS, "removed_by_hand")  # the last: a hand edit took the firm out
UnassignedReason = StrEnum("UnassignedReason", {r: r for r in _REASONS})  # type: ignore[misc]
UnassignedReason.__doc__ = "Why a firm stayed unassigned (the first that applies). " + " ".join(
    f"`{r}`: {t(f'reason.{r}.label', 'en')}. {t(f'reason.{r}.explanation', 'en')}" for r in _REASONS
)


class UnassignedRead(BaseModel):
    """A firm the run left out, and why."""

    external_id: str | None
    erased: bool
    reason: UnassignedReason
    reason_label: str = Field(description="The reason in a few words (Accept-Language)")
    reason_explanation: str = Field(description="The reason in one sentence (Accept-Language)")
    rule: str | None = Field(
        None, description="For ineligible firms: the rule they fail, in words, naming places"
    )
    rule_code: str | None = Field(None, description="That rule's code, e.g. scheme.regions")


class RunGroups(BaseModel):
    """A run's groups, unassigned firms and statistics."""

    run_id: int
    status: RunStatusName
    revision: int = Field(0, description="Hand edits applied (0: the optimiser's proposal)")
    groups: list[GroupRead]
    unassigned: list[UnassignedRead]
    stats: dict[str, Any] | None


class PageTexts(BaseModel):
    """The words of a page (the map) in one language, from the message catalogue."""

    lang: Literal["nl", "en"]
    texts: dict[str, str] = Field(description="Catalogue key -> text with {named} placeholders")


# --- health -----------------------------------------------------------------------------


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    detail: str | None = None
    revision: str | None = None


# --- profiles ---------------------------------------------------------------------------


class ProfileCreate(_Strict):
    """A constraint profile; saving it again (PUT) creates a new version."""

    name: str = Field(min_length=1, max_length=200)
    purpose: Purpose = Field(_PURPOSE.default, description=_PURPOSE.en)
    description: str | None = Field(None, max_length=2000)
    scheme_id: str | None = setting_info(setting_field("scheme_id"))
    constraints: RunConstraints | None = Field(  # type: ignore[valid-type]
        None,
        description="The profile's constraint settings (as a run's); the answer uses the "
        "same name.  `settings`, its old name (which also held time_limit_s and seed), is "
        "still read (deprecated)",
    )
    filters: RunFilters | None = None
    time_limit_s: float | None = setting_info(setting_field("time_limit_s"), _SERVICE_DEFAULT)
    seed: int | None = setting_info(setting_field("seed"))

    @model_validator(mode="before")
    @classmethod
    def _old_settings_name(cls, data: Any) -> Any:
        """Read the deprecated ``settings`` member as ``constraints`` (+ time limit, seed)."""
        if not isinstance(data, dict) or "settings" not in data or "constraints" in data:
            return data
        data = dict(data)
        old = data.pop("settings")
        if isinstance(old, dict):
            old = dict(old)
            for key in ("time_limit_s", "seed"):
                if key in old and key not in data:
                    data[key] = old.pop(key)
        data["constraints"] = old
        return data


class ProfileVersionRead(BaseModel):
    """One saved version of a profile (the members of ``ProfileCreate``: it can be sent back)."""

    version: int
    name: str
    purpose: str
    description: str | None
    scheme_id: str | None
    constraints: dict[str, Any] = Field(
        description="The constraint settings the profile sets (as sent in `constraints`)"
    )
    filters: dict[str, Any] | None
    time_limit_s: float | None = Field(None, description="Default wall-clock limit")
    seed: int | None = None
    created_at: UtcDatetime


class ProfileRead(ProfileVersionRead):
    """A profile at its current version."""

    id: int
    builtin: bool = Field(description="Built-in profiles are read-only")
    updated_at: UtcDatetime


class ProfileList(BaseModel):
    """Profiles, built-in ones first."""

    items: list[ProfileRead]


class ProfileVersionList(BaseModel):
    """Every version of one profile, oldest first."""

    profile_id: int
    items: list[ProfileVersionRead]


# --- review, compare, relaxation, application -------------------------------------------


class ReviewCreate(_Strict):
    """A decision on a group, with an optional comment."""

    comment: str | None = Field(None, max_length=2000)


class GroupDecision(BaseModel):
    """A recorded decision on a group."""

    run_id: int
    number: int = Field(description="The group's number in its run")
    status: Literal["proposed", "accepted", "rejected"]
    comment: str | None
    decided_at: UtcDatetime | None
    decided_by_key_id: int | None
    decided_by: str | None = Field(None, description="Holder of the key that decided")


class MovedFirm(BaseModel):
    """A firm placed in both runs, in groups that differ."""

    external_id: str
    from_group: int = Field(description="Group number in the first run")
    to_group: int = Field(description="Group number in the second run")


class GroupMatch(BaseModel):
    """A group of the first run and its match in the second, by shared members."""

    a: int = Field(description="Group number in the first run")
    b: int = Field(description="Group number in the second run")
    shared: int = Field(description="Firms in both")
    same_members: bool = Field(description="The same group, even if its number differs")


class RunComparison(BaseModel):
    """What changed from run `run_id` to run `other_run_id`."""

    run_id: int
    other_run_id: int
    comparable: bool = Field(
        description="Both runs score groups the same way (group_score, affinity weights); "
        "if not, the affinity deltas are null"
    )
    comparable_note: str | None = Field(description="Why not comparable (Accept-Language)")
    coverage: dict[str, float] = Field(description="`a`, `b`, `delta` (share placed)")
    placed: dict[str, int] = Field(description="`a`, `b`, `delta` (firms placed)")
    groups: dict[str, int] = Field(description="`a`, `b`, `delta` (number of groups)")
    mean_affinity: dict[str, float | None] = Field(
        description="`a`, `b`, `delta` (mean group score; delta null if scored differently)"
    )
    total_affinity: dict[str, float | None] = Field(
        description="`a`, `b`, `delta` (objective; delta null if not `comparable`)"
    )
    group_matching: str = Field(description="How groups are matched (Accept-Language)")
    matched_groups: list[GroupMatch] = Field(description="Groups matched by member overlap")
    unchanged_groups: list[dict[str, int]] = Field(
        description="`{a, b}` group numbers of matched groups with the same members"
    )
    moved: list[MovedFirm]
    newly_placed: list[str]
    dropped: list[str]
    constraint_differences: dict[str, dict[str, Any]] = Field(
        description="Setting -> `{a, b}` for every setting that differs"
    )


class ChangeRead(BaseModel):
    """One single change of the settings that would place the firm."""

    setting: str
    current: float | None
    needed: float | None
    link: list[str] | None
    group: int | None = Field(description="Group number to join; null: a new group")
    members: list[str]
    theme: str | None
    relative: float | None = Field(description="|needed - current| / current, rounded")
    size: int = Field(description="Firms in the resulting group, the firm included")
    suggested: float | None = Field(
        description="The value to set: the distance rounded up to whole km, the theme share "
        "down to whole percent (null for a link)"
    )
    rank: int | None = Field(description="1 = the smallest change")
    description: str = Field(description="The change in words (Accept-Language)")


class AttemptRead(BaseModel):
    """A candidate group that was tried and the rules it breaks."""

    group: int | None
    size: int
    broken: list[str] = Field(description="The rules the group breaks, in words")
    broken_codes: list[str] = Field(
        default_factory=list, description="Their catalogue keys (stable), in the same order"
    )
    description: str


class RelaxationRead(BaseModel):
    """Why a firm was not placed, and the smallest single change that would place it."""

    run_id: int
    external_id: str
    placed_in_group: int | None = Field(description="Set when the firm was placed after all")
    reason: UnassignedReason | None = Field(description="The run's unassigned reason")
    reason_label: str | None = Field(description="The reason in a few words (Accept-Language)")
    ineligible_rule: str | None = Field(description="The failed rule in words, naming places")
    ineligible_rule_code: str | None = Field(description="That rule's code")
    advice: str | None = Field(description="The answer in one sentence (Accept-Language)")
    best: ChangeRead | None
    options: list[ChangeRead] = Field(description="At most the five best changes, ranked")
    options_found: int = Field(description="How many single changes were found in all")
    tried: list[AttemptRead] = Field(description="Every candidate tried (only with ?tried=true)")


class ApplicationMember(BaseModel):
    """One member of a joint application with its eligibility check."""

    kvk_number: str | None
    external_id: str | None
    name: str | None
    gemeente_name: str | None
    province: str | None
    employees: int | None
    sbi_code: str | None
    has_theme: bool
    eligible: bool
    failed_rule: str | None


class ApplicationPack(BaseModel):
    """A joint-application pack for one group."""

    run_id: int
    group_number: int
    status: str
    theme: str | None
    theme_label: str | None
    scheme: dict[str, Any] | None = Field(description="The scheme entry (GET /schemes)")
    lead_applicant: dict[str, Any]
    members: list[ApplicationMember]
    all_eligible: bool
    checks: list[str] = Field(description="Group-level rules to confirm by hand")


# --- audit ------------------------------------------------------------------------------


class AuditRead(BaseModel):
    """One audit entry."""

    id: int
    at: UtcDatetime
    actor_key_id: int | None
    actor_holder: str | None = Field(None, description="Holder of the key: a person or system")
    actor_role: str
    action: str
    resource: str
    resource_id: str
    details: dict[str, Any]


class AuditList(BaseModel):
    """One page of audit entries, newest first."""

    items: list[AuditRead]
    total: int
    limit: int
    offset: int


# --- schemes ----------------------------------------------------------------------------


class SchemeList(BaseModel):
    """The subsidy scheme catalogue; every entry must be verified against the regulation."""

    items: list[Scheme]


EditKind = Literal["move", "swap", "add", "remove", "split", "merge"]


class EditCreate(BaseModel):
    """One hand edit of a run's groups (group numbers as people see them)."""

    model_config = ConfigDict(extra="forbid")

    kind: EditKind = Field(
        description="move: `firm` to `to_group`; swap: `firm` with `other_firm`; add: an "
        "unassigned `firm` to `to_group`; remove: `firm` from its group; split: `members` of "
        "`group` into a new group; merge: `group` into `to_group`"
    )
    firm: str | None = Field(None, max_length=64, description="External id of the firm")
    other_firm: str | None = Field(None, max_length=64, description="The firm to swap with")
    group: int | None = Field(None, ge=1, description="The group to split or merge away")
    to_group: int | None = Field(None, ge=1, description="The group the firm or group goes to")
    members: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None,
        max_length=100,
        description="split: external ids of the members that form the new group",
    )


class EditViolation(BaseModel):
    """A hard rule the edit would break, in words."""

    rule: str = Field(description="The rule's code (e.g. `competitors`, `distance`, `size`)")
    group: int = Field(description="The group that would break it")
    firms: list[str] = Field(description="External ids of the firms involved")
    message: str = Field(description="The rule in words, in the request's language")


class GroupNumbers(BaseModel):
    """A group's size and scores."""

    size: int
    mean_affinity: float
    mean_need_jaccard: float
    diameter_km: float


class EditEffect(BaseModel):
    """One changed group before and after the edit (``null``: the group does not exist)."""

    group: int
    before: GroupNumbers | None
    after: GroupNumbers | None
    members_before: list[str]
    members_after: list[str]


class EditRead(BaseModel):
    """The outcome of an edit: checked, and applied unless refused or a dry run."""

    run_id: int
    kind: EditKind
    allowed: bool = Field(description="No hard rule is broken")
    applied: bool = Field(description="Stored (false for a dry run)")
    revision: int = Field(description="The run's edit count after this request")
    violations: list[EditViolation]
    effects: list[EditEffect]


class EditEntry(BaseModel):
    """One stored edit: what, who and when."""

    revision: int
    kind: EditKind
    request: dict[str, Any]
    groups: list[EditEffect]
    by: str = Field(description="Holder of the key that made the edit")
    at: datetime


class EditHistory(BaseModel):
    """A run's edits and the optimiser's original proposal (``null`` until the first edit)."""

    run_id: int
    revision: int
    proposal: dict[str, Any] | None
    edits: list[EditEntry]


class GroupLock(BaseModel):
    """A group's lock state."""

    run_id: int
    number: int
    locked: bool


class InvitationMember(BaseModel):
    """A member of the group to invite; contact details only with consent."""

    external_id: str | None
    name: str
    place: str | None
    contact_person: str | None
    email: str | None
    phone: str | None
    consent: bool = Field(description="The firm consents to share its data (contacts shown)")


class InvitationPack(BaseModel):
    """An accepted group's invitation to its first meeting."""

    run_id: int
    number: int
    theme: str | None
    subject: str = Field(description="The mail's subject, in the request's language")
    text: str = Field(
        description="The invitation text (shared needs, the members' names, the meeting place)"
    )
    meeting_place: MeetingPlaceRead | None = Field(
        None, description="Where the group meets (null for groups stored before meeting places)"
    )
    members: list[InvitationMember]
    without_consent: list[str] = Field(description="Members whose contacts may not be shown")
    note: str | None = Field(description="Who to ask for consent first, in words")
