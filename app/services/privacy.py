"""Data minimisation in read models: what a caller's role may see of a firm.

Every read route that returns firm data (groups JSON, GeoJSON, CSV, XLSX, the
joint-application pack) serialises firms through :class:`FirmView`, so the rule lives here
once.  A ``viewer`` sees positions at PC4 level only (the PC4 centroid, never coordinates a
firm was uploaded with; group hulls and centroids recomputed from those centroids), the PC4
instead of a PC6 postcode, a KvK number only when the firm has ``consent_to_share``, and
never a contact person, e-mail or phone.  ``member`` and higher roles see the stored
values, contacts only with ``consent_to_share``.

The caller's role is bound to the request's session by ``deps.get_caller`` (next to the
organisation scope); sessions without a caller (CLI, demo, benchmarks: the operator) see
everything.

:func:`erase_traces` is the part of a GDPR erasure (``DELETE /firms/{id}``) that reaches
derived data: group outlines and centroids are recomputed without the firm, and its name,
KvK number, external id and contact details are redacted from decision comments, audit
details and run windows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import AuditEntry, Firm, Group, GroupMember, Role, Run, RunWindow
from geodata.geocode import geocode
from geodata.shapes import centroid, hull_geojson

_MINIMISE_KEY = "kring_minimise_firms"
DECIMALS = 6


def bind_audience(*, session: Session, role: Role) -> None:
    """Record on ``session`` whether its caller gets the minimised (viewer) firm view."""
    session.info[_MINIMISE_KEY] = role is Role.viewer


@lru_cache(maxsize=8192)
def pc4_position(pc4: str) -> tuple[float, float]:
    """The ``(lat, lon)`` centroid of a PC4 from the bundled table."""
    location = geocode(pc4)
    return location.lat, location.lon


@dataclass(frozen=True)
class FirmView:
    """How firms are shown to one caller; ``minimise`` is true for viewers."""

    minimise: bool

    def position(self, firm: Firm) -> tuple[float, float]:
        """``(lat, lon)``: stored for members and up, the PC4 centroid for viewers."""
        return pc4_position(firm.pc4) if self.minimise else (firm.lat, firm.lon)

    def coordinates(self, firm: Firm) -> list[float]:
        """GeoJSON ``[lon, lat]`` of :meth:`position`, rounded to 6 decimals."""
        lat, lon = self.position(firm)
        return [round(lon, DECIMALS), round(lat, DECIMALS)]

    def value(self, firm: Firm, field: str) -> Any:
        """One attribute of ``firm`` as this caller may see it."""
        if self.minimise:
            if field == "kvk_number" and not firm.consent_to_share:
                return None
            if field in CONTACT_FIELDS:
                return None
            if field == "postcode":
                return firm.pc4
            if field in ("lat", "lon"):
                lat, lon = self.position(firm)
                return lat if field == "lat" else lon
        if field in CONTACT_FIELDS and not firm.consent_to_share:
            return None
        return getattr(firm, field)

    def fields(self, firm: Firm, names: Iterable[str]) -> dict[str, Any]:
        """``{name: value(firm, name)}`` for each name."""
        return {name: self.value(firm, name) for name in names}

    def hull(self, stored: dict[str, Any] | None, firms: Sequence[Firm]) -> dict[str, Any] | None:
        """A group's hull: the stored one, or for viewers one over the members' PC4s."""
        if not self.minimise or stored is None or not firms:
            return stored
        lats, lons = zip(*(self.position(f) for f in firms), strict=True)
        return hull_geojson(lats, lons)

    def details(self, stored: dict[str, Any] | None, firms: Sequence[Firm]) -> dict[str, Any]:
        """A group's stored details; for viewers the centroid is over the members' PC4s."""
        out = dict(stored or {})
        if self.minimise and "centroid" in out:
            if firms:
                lats, lons = zip(*(self.position(f) for f in firms), strict=True)
                lat, lon = centroid(lats, lons)
                out["centroid"] = {"lat": round(lat, DECIMALS), "lon": round(lon, DECIMALS)}
            else:
                out["centroid"] = None
        return out


def firm_view(*, session: Session) -> FirmView:
    """The :class:`FirmView` of the caller bound to ``session`` (full without a caller)."""
    return FirmView(minimise=bool(session.info.get(_MINIMISE_KEY, False)))


CONTACT_FIELDS = ("contact_person", "email", "phone")
"""Shown to members and managers only for firms with ``consent_to_share``; never to viewers."""
REDACTED = "[erased firm]"
MIN_HULL_MEMBERS = 3  # fewer members left: the group's outline is dropped
MIN_NEEDLE = 3  # shorter names and ids are not searched for in free text


def erase_traces(*, db: Session, firm: Firm) -> None:
    """Remove what derived data still tells about ``firm`` (call before it is deleted).

    * every group the firm is a member of gets its outline (``hull``) recomputed from the
      other members' stored positions (dropped below :data:`MIN_HULL_MEMBERS`) and its
      ``details.centroid`` recomputed (``None`` when nobody is left);
    * the firm's name and KvK number (and its external id, at least
      :data:`MIN_NEEDLE` characters) become :data:`REDACTED` in every decision comment and
      audit entry of the organisation, and in the plans and results of its runs' windows.

    Nothing is committed: the erasure commits it with the deletion itself.
    """
    _redraw_groups(db, firm)
    pattern = _pattern(_needles(firm))
    if pattern is None:
        return
    org, external_id = firm.organisation_id, firm.external_id
    comments = select(Group).where(
        Group.organisation_id == org, _mentions(Group.decision_comment, firm)
    )
    for group in db.scalars(comments):
        group.decision_comment = str(_redact(group.decision_comment, pattern, external_id))
    entries = select(AuditEntry).where(
        AuditEntry.organisation_id == org, _mentions(cast(AuditEntry.details, String), firm)
    )
    for entry in db.scalars(entries):
        entry.details = _redact(entry.details, pattern, external_id)
    windows = select(RunWindow).where(
        RunWindow.run_id.in_(select(Run.id).where(Run.organisation_id == org)),
        or_(_mentions(cast(RunWindow.plan, String), firm),
            _mentions(cast(RunWindow.result, String), firm)),
    )  # fmt: skip
    for window in db.scalars(windows):
        window.plan = _redact(window.plan, pattern, external_id)
        window.result = _redact(window.result, pattern, external_id)


def _redraw_groups(db: Session, firm: Firm) -> None:
    """Recompute outline and centroid of ``firm``'s groups over the other members."""
    query = (
        select(Group)
        .where(Group.id.in_(select(GroupMember.group_id).where(GroupMember.firm_id == firm.id)))
        .options(selectinload(Group.members))
    )
    for group in db.scalars(query):
        kept = [m for m in group.members if m.firm_id not in (None, firm.id)]
        points = [(m.lat, m.lon) for m in kept if m.lat is not None and m.lon is not None]
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        group.hull = hull_geojson(lats, lons) if len(points) >= MIN_HULL_MEMBERS else None
        if group.details and "centroid" in group.details:
            middle = None
            if points:
                lat, lon = centroid(lats, lons)
                middle = {"lat": round(lat, DECIMALS), "lon": round(lon, DECIMALS)}
            group.details = {**group.details, "centroid": middle}


def _needles(firm: Firm) -> list[str]:
    named = (firm.name, firm.kvk_number, firm.external_id, firm.contact_person, firm.email,
             firm.phone)  # fmt: skip
    return [n for n in named if n and n.strip()]


def _mentions(column: Any, firm: Firm) -> Any:
    """A cheap SQL pre-filter: the text contains the longest ASCII word of a needle.

    Stored JSON escapes non-ASCII characters, and SQLite's ``lower`` folds ASCII only, so
    the filter looks for an ASCII run; :func:`_redact` then matches exactly (any case).
    A needle without ASCII letters or digits matches every row.
    """
    words = []
    for needle in _needles(firm):
        runs = re.findall(r"[A-Za-z0-9]+", needle)
        if not runs:
            return column.is_not(None)
        words.append(max(runs, key=len).lower())
    return or_(*(func.lower(column).contains(w, autoescape=True) for w in words))


def _pattern(needles: Sequence[str | None]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive, whitespace-tolerant match of any needle."""
    parts = sorted({n.strip() for n in needles if n and len(n.strip()) >= MIN_NEEDLE},
                   key=len, reverse=True)  # fmt: skip
    if not parts:
        return None
    alternatives = (r"\s+".join(re.escape(word) for word in p.split()) for p in parts)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _redact(value: Any, pattern: re.Pattern[str], external_id: str) -> Any:
    """``value`` (text or JSON) with every match of ``pattern`` replaced by REDACTED."""
    if isinstance(value, str):
        return REDACTED if value == external_id else pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_redact(v, pattern, external_id) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v, pattern, external_id) for k, v in value.items()}
    return value
