"""Constraint profiles: versioned, validated by ``matching.RunSettings``, built-ins read-only.

Saving a profile (create or PUT) stores a new :class:`ProfileVersion`; the profile row
holds the current version.  A run records the profile id and the exact version it used.
Settings are validated exactly as a run's are (:func:`validate_settings`): against the
schema generated from the settings' fields (``app.schemas.ProfileSettings``, the bounds of
the API and ``kring solve``), then by ``matching.RunSettings`` for the combinations, so an
impossible profile (min > max, max_pair_km <= 0, a negative weight) is a 422 naming the
field, and a profile that validates can always be run.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidInputError, NotFoundError, invalid, said
from app.i18n import with_text
from app.models import Profile, ProfileVersion
from app.schemas import TOP_LEVEL, ProfileCreate, ProfileSettings, RunFilters
from app.services import audit
from app.services.organisations import Caller
from geodata.boundaries import normalise_province, province_names
from geodata.errors import GeodataError
from matching import RunSettings, SettingsError, catalogue, is_need_code, setting_field
from texts import Msg

_JOINT = {name: setting_field(name).default for name in ("min_size", "max_size", "max_pair_km")}
JOINT_TRAINING = "Gezamenlijke scholing (10\u201315, 50 km)"
PEER_LEARNING = "Peer-learning kring (8\u201312, 30 km)"


def _request_field(field: str) -> str:
    field = field.replace("affinity_weights.", "affinity.")  # the request's name
    return field if field in TOP_LEVEL else f"constraints.{field}"


def validate_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Validate run settings with ``matching.RunSettings``; 422 naming every bad field.

    ``RunSettings`` stops at its first problem; each offending setting is set back to its
    default and the rest checked again, so the answer lists them all at once.
    """
    values, found = dict(values), []
    while True:
        try:
            settings = RunSettings.from_dict(values).to_dict()
        except SettingsError as exc:
            found.append(exc)
            top = exc.field.split(".")[0]
            if top not in values or len(found) > 2 * len(TOP_LEVEL) + 40:
                break
            del values[top]  # its default; go on to the next problem
            continue
        if not found:
            return settings
        break
    rows = [{"row": None, "field": _request_field(e.field), "message": e.reason,
             "text": e.text} for e in found]  # fmt: skip
    first = found[0].text or found[0].reason
    detail = Msg.of("problem.invalid-input.settings", count=len(rows), field=rows[0]["field"],
                    reason=first)  # fmt: skip
    error = InvalidInputError(detail.render("en"), rows)
    raise with_text(error, detail.key, **dict(detail.params))


def validate_filters(body: RunFilters | None) -> dict[str, Any]:
    """Normalise run filters (province names, need codes); 422 naming the field otherwise."""
    if body is None:
        return {}
    filters = body.model_dump(exclude_none=True)
    provinces = []
    for name in filters.get("provinces", []):
        try:
            provinces.append(normalise_province(name))
        except GeodataError:
            raise invalid("filters.provinces", "problem.invalid-input.province", name=repr(name),
                          names=", ".join(province_names())) from None  # fmt: skip
    if "provinces" in filters:
        filters["provinces"] = provinces
    unknown = [c for c in filters.get("needs", []) if not is_need_code(c)]
    if unknown:
        raise invalid("filters.needs", "problem.invalid-input.unknown_needs",
                      codes=", ".join(unknown), count=len(unknown))  # fmt: skip
    return filters


def builtin_profiles() -> list[dict[str, Any]]:
    """The built-in profiles: joint training, peer learning, and one per bundled scheme."""
    out: list[dict[str, Any]] = [
        {"name": JOINT_TRAINING, "purpose": "training",
         "scheme_id": None, "settings": dict(_JOINT),
         "description": "Joint training purchase: 10-15 firms sharing a training need, all "
                        "within 50 km of each other (the LLO Energietransitie pilot)."},
        {"name": PEER_LEARNING, "purpose": "peer", "scheme_id": None,
         "settings": {"min_size": 8, "max_size": 12, "max_pair_km": 30.0},
         "description": "Peer-learning circle of 8-12 firms within 30 km, grouped by "
                        "similarity only."},
    ]  # fmt: skip
    for scheme in catalogue():
        out.append({
            "name": f"Subsidie: {scheme.name}", "purpose": "subsidy", "scheme_id": scheme.id,
            "settings": dict(_JOINT),
            "description": f"Joint application under {scheme.name} ({scheme.funder}): only "
                           f"eligible firms, funded needs as themes. {scheme.verify}",
        })  # fmt: skip
    return out


def ensure_builtins(*, db: Session, organisation_id: int) -> None:
    """Create the organisation's missing built-in profiles (idempotent)."""
    names = set(db.scalars(select(Profile.name)).all())
    missing = [b for b in builtin_profiles() if b["name"] not in names]
    if not missing:
        return
    for spec in missing:
        profile = Profile(organisation_id=organisation_id, builtin=True, version=1, filters=None,
                          **spec)  # fmt: skip
        db.add(profile)
        db.flush()
        db.add(_version(profile, None))
    try:
        db.commit()
    except IntegrityError:  # a concurrent request created them first
        db.rollback()


def _version(profile: Profile, key_id: int | None) -> ProfileVersion:
    return ProfileVersion(
        organisation_id=profile.organisation_id,
        profile_id=profile.id,
        version=profile.version,
        name=profile.name,
        purpose=profile.purpose,
        settings=profile.settings,
        description=profile.description,
        scheme_id=profile.scheme_id,
        filters=profile.filters,
        created_by_key_id=key_id,
    )


def _values(body: ProfileCreate) -> dict[str, Any]:
    """The profile's RunSettings values, validated like a run's (422 naming the field)."""
    values: dict[str, Any] = {}
    if body.constraints is not None:
        values = body.constraints.model_dump(exclude_none=True)
    for key in ("time_limit_s", "seed"):
        if getattr(body, key) is not None:
            values[key] = getattr(body, key)
    try:  # the stored settings keep to the published model, bounds included
        ProfileSettings.model_validate(values)
    except ValidationError as exc:  # every bad value at once, in the reader's language
        raise RequestValidationError([
            {**e, "loc": ("body", *_request_field(".".join(map(str, e["loc"]))).split("."))}
            for e in exc.errors()
        ]) from None  # fmt: skip
    validate_settings({**values, "purpose": body.purpose, "scheme_id": body.scheme_id})
    return values


def _apply(profile: Profile, body: ProfileCreate) -> None:
    profile.settings = _values(body)
    profile.name, profile.purpose = body.name, body.purpose
    profile.description, profile.scheme_id = body.description, body.scheme_id
    filters = validate_filters(body.filters)
    profile.filters = filters or None


def _commit(db: Session, name: str) -> None:
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise said(ConflictError, "problem.conflict.profile_name", name=repr(name)) from None


def list_profiles(*, db: Session, caller: Caller) -> list[Profile]:
    """The organisation's profiles, built-in ones first."""
    ensure_builtins(db=db, organisation_id=caller.organisation_id)
    query = select(Profile).order_by(Profile.builtin.desc(), Profile.created_at, Profile.id)
    return list(db.scalars(query).all())


def get_profile(*, db: Session, caller: Caller, profile_id: int) -> Profile:
    """The caller's profile or 404."""
    ensure_builtins(db=db, organisation_id=caller.organisation_id)
    profile = db.scalar(select(Profile).where(Profile.id == profile_id))
    if profile is None:
        raise NotFoundError("profile", profile_id)
    return profile


def create_profile(*, db: Session, caller: Caller, body: ProfileCreate) -> Profile:
    """Validate and store a new profile (version 1)."""
    profile = Profile(organisation_id=caller.organisation_id, version=1, builtin=False)
    _apply(profile, body)
    db.add(profile)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise said(ConflictError, "problem.conflict.profile_name", name=repr(body.name)) from None
    db.add(_version(profile, caller.key_id))
    audit.record(db=db, caller=caller, action="profile.create", resource="profile",
                 resource_id=profile.id, name=profile.name, version=1,
                 purpose=profile.purpose)  # fmt: skip
    _commit(db, body.name)
    return profile


def _editable(db: Session, caller: Caller, profile_id: int) -> Profile:
    profile = get_profile(db=db, caller=caller, profile_id=profile_id)
    if profile.builtin:
        raise said(ConflictError, "problem.conflict.profile_builtin", profile=profile_id)
    return profile


def update_profile(*, db: Session, caller: Caller, profile_id: int, body: ProfileCreate) -> Profile:
    """Save a new version of a profile (the earlier versions stay readable)."""
    profile = _editable(db, caller, profile_id)
    before = {"settings": profile.settings, "purpose": profile.purpose,
              "scheme_id": profile.scheme_id}  # fmt: skip
    _apply(profile, body)
    profile.version += 1
    db.add(_version(profile, caller.key_id))
    changed = sorted(k for k in set(before["settings"]) | set(profile.settings)
                     if before["settings"].get(k) != profile.settings.get(k))  # fmt: skip
    audit.record(db=db, caller=caller, action="profile.update", resource="profile",
                 resource_id=profile.id, name=profile.name, version=profile.version,
                 changed=changed)  # fmt: skip
    _commit(db, body.name)
    return profile


def delete_profile(*, db: Session, caller: Caller, profile_id: int) -> None:
    """Delete a profile and its versions (runs keep their parameter snapshot)."""
    profile = _editable(db, caller, profile_id)
    audit.record(db=db, caller=caller, action="profile.delete", resource="profile",
                 resource_id=profile.id, name=profile.name, version=profile.version)  # fmt: skip
    db.delete(profile)
    db.commit()


def list_versions(*, db: Session, caller: Caller, profile_id: int) -> list[ProfileVersion]:
    """Every version of a profile, oldest first."""
    get_profile(db=db, caller=caller, profile_id=profile_id)
    query = select(ProfileVersion).where(ProfileVersion.profile_id == profile_id)
    return list(db.scalars(query.order_by(ProfileVersion.version)).all())


def resolve(
    *, db: Session, caller: Caller, profile_id: int, version: int | None
) -> Profile | ProfileVersion:
    """The profile at ``version`` (default: current) for a run; 404 when either is unknown."""
    profile = get_profile(db=db, caller=caller, profile_id=profile_id)
    if version is None or version == profile.version:
        return profile
    found = db.scalar(
        select(ProfileVersion).where(
            ProfileVersion.profile_id == profile_id, ProfileVersion.version == version
        )
    )
    if found is None:
        raise NotFoundError("profile version", f"{profile_id}/{version}")
    return found
