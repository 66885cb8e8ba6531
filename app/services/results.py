"""A run's stored groups as JSON, RFC 7946 GeoJSON and CSV.

Words (group explanations, unassigned reasons, failed rules) are rendered at read time in
the reader's language from the catalogue; the codes they come from stay beside them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.convert import row_to_firm
from app.errors import ConflictError
from app.i18n import with_text
from app.models import Firm, Group, GroupMember, Run, RunStatus, UnassignedFirm
from app.services.privacy import FirmView, firm_view
from app.services.runs import get_run
from app.services.spreadsheet import EXCEL_NL, RFC4180, Dialect, csv_header, write_csv
from app.services.spreadsheet import spreadsheet_safe as spreadsheet_safe
from matching import (
    MatchingError,
    RunSettings,
    need_label,
    parts_from_details,
    reason_explanation,
    reason_label,
    render_explanation,
    rule_text,
    settings_rule,
)

DECIMALS = 6
_FIRM_FIELDS = ("name", "postcode", "gemeente_name", "province", "sbi_code", "employees", "needs")


def _finished_run(db: Session, run_id: int) -> Run:
    run = get_run(db=db, run_id=run_id)
    if run.status != RunStatus.succeeded:
        raise with_text(
            ConflictError(f"run {run_id} is {run.status.value}; groups exist once it succeeded"),
            "problem.conflict.not_succeeded",
            run=run_id,
            status=run.status.value,
        )
    return run


def _groups(db: Session, run_id: int) -> list[Group]:
    query = (
        select(Group)
        .where(Group.run_id == run_id)
        .order_by(Group.number)
        .options(selectinload(Group.members))
    )
    return list(db.scalars(query).all())


def _firms(db: Session, groups: list[Group]) -> dict[int, Firm]:
    ids = {m.firm_id for g in groups for m in g.members if m.firm_id is not None}
    if not ids:
        return {}
    return {f.id: f for f in db.scalars(select(Firm).where(Firm.id.in_(ids)))}


def _member(member: GroupMember, firms: dict[int, Firm], view: FirmView) -> dict[str, Any]:
    firm = firms.get(member.firm_id) if member.firm_id is not None else None
    out: dict[str, Any] = {"external_id": member.external_id, "erased": firm is None}
    if firm is not None:
        out.update(view.fields(firm, _FIRM_FIELDS))
    return out


def _kept(group: Group, firms: dict[int, Firm]) -> list[Firm]:
    """The group's members that are not erased."""
    return [firms[m.firm_id] for m in group.members if m.firm_id in firms]


def explanation_phrases(group: Group) -> list[dict[str, Any]]:
    """The explanation's phrases: stored with the run, or rebuilt from older runs' details."""
    details = group.details or {}
    stored = details.get("explanation_parts")
    if stored:
        return list(stored)
    return parts_from_details(details, group.theme, group.diameter_km) or []


def explanation(*, group: Group, lang: str) -> str | None:
    """The group's explanation in ``lang`` (the stored words when no phrases can be had)."""
    parts = explanation_phrases(group)
    if not parts:
        return group.explanation
    try:
        return render_explanation(parts, lang)
    except (KeyError, ValueError, TypeError):
        return group.explanation


def _unassigned_firms(db: Session, run: Run) -> dict[int, Firm]:
    ids = [u.firm_id for u in run.unassigned if u.firm_id is not None]
    return {f.id: f for f in db.scalars(select(Firm).where(Firm.id.in_(ids)))} if ids else {}


def _settings(run: Run) -> RunSettings | None:
    try:
        return RunSettings.from_dict(run.params or {})
    except (ValueError, TypeError, KeyError):
        return None


def unassigned_words(
    *, u: UnassignedFirm, firm: Firm | None, settings: RunSettings | None, lang: str
) -> dict[str, Any]:
    """Reason code, label and explanation, and for ineligible firms the failed rule in words.

    The rule is computed from the firm as stored and the run's settings (``rule_code``,
    e.g. ``scheme.regions``; ``rule``, e.g. "Noordenveld ligt buiten Groningen en gemeente
    Emmen"); an erased firm keeps the rule stored with the run.
    """
    out: dict[str, Any] = {
        "reason": u.reason,
        "reason_label": reason_label(u.reason, lang),
        "reason_explanation": reason_explanation(u.reason, lang),
        "rule": None,
        "rule_code": None,
    }
    if u.reason != "ineligible":
        return out
    failed = None
    if firm is not None and settings is not None:
        try:
            failed = settings_rule(row_to_firm(firm), settings)
        except MatchingError:  # e.g. a scheme no longer bundled: keep the stored rule
            failed = None
    if failed is not None:
        out["rule_code"] = failed.rule
        out["rule"] = rule_text(failed.rule, failed.params, lang) or failed.detail
    elif u.rule:
        out["rule_code"], _, detail = u.rule.partition(": ")
        out["rule"] = detail or u.rule
    return out


def run_groups(*, db: Session, run_id: int, lang: str = "nl") -> dict[str, Any]:
    """Return a succeeded run's groups with explanations, unassigned firms and stats.

    Texts are in ``lang`` (``"nl"`` or ``"en"``).
    """
    run = _finished_run(db, run_id)
    groups = _groups(db, run_id)
    firms = _firms(db, groups)
    left_out = _unassigned_firms(db, run)
    settings = _settings(run)
    view = firm_view(session=db)
    return {
        "run_id": run.id,
        "status": run.status.value,
        "revision": run.revision,
        "groups": [
            {
                "number": g.number,
                "status": g.status.value,
                "locked": g.locked,
                "edited_at": g.edited_at,
                "theme": g.theme,
                "diameter_km": g.diameter_km,
                "score": g.score,
                "explanation": explanation(group=g, lang=lang),
                "explanation_parts": explanation_phrases(g),
                "details": view.details(g.details, _kept(g, firms)),
                "meeting_place": (g.details or {}).get("meeting_place"),
                "members": [_member(m, firms, view) for m in g.members],
            }
            for g in groups
        ],
        "unassigned": [
            {
                "external_id": u.external_id,
                "erased": u.firm_id is None,
                **unassigned_words(
                    u=u, firm=left_out.get(u.firm_id or -1), settings=settings, lang=lang
                ),
            }
            for u in run.unassigned
        ],
        "stats": run.stats,
    }


def _point(member: GroupMember, group: Group, firm: Firm, view: FirmView) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"member-{group.number}-{member.position}",
        "geometry": {"type": "Point", "coordinates": view.coordinates(firm)},
        "properties": {
            "kind": "firm",
            "group_number": group.number,
            "external_id": firm.external_id,
            **view.fields(firm, _FIRM_FIELDS),
        },
    }


def _unassigned_points(db: Session, run: Run, view: FirmView, lang: str) -> list[dict[str, Any]]:
    """A Point per unassigned (not erased) firm: ``group_number`` null, reason and rule set."""
    firms = _unassigned_firms(db, run)
    settings = _settings(run)
    points = []
    for u in run.unassigned:
        firm = firms.get(u.firm_id) if u.firm_id is not None else None
        if firm is not None:
            coordinates = view.coordinates(firm)
            properties = {"kind": "firm", "group_number": None,
                          "external_id": firm.external_id,
                          **unassigned_words(u=u, firm=firm, settings=settings, lang=lang),
                          **view.fields(firm, _FIRM_FIELDS)}  # fmt: skip
            points.append({"type": "Feature", "id": f"unassigned-{u.id}",
                           "geometry": {"type": "Point", "coordinates": coordinates},
                           "properties": properties})  # fmt: skip
    return points


def run_geojson(
    *, db: Session, run_id: int, unassigned: bool = False, lang: str = "nl"
) -> dict[str, Any]:
    """Return a FeatureCollection: a Polygon hull per group and a Point per (kept) firm.

    With ``unassigned`` also a Point per unassigned firm (``group_number`` null, ``reason``,
    ``reason_label``, and ``rule`` for ineligible firms).  Texts are in ``lang``.
    """
    run = _finished_run(db, run_id)
    groups = _groups(db, run_id)
    firms = _firms(db, groups)
    view = firm_view(session=db)
    features: list[dict[str, Any]] = []
    for g in groups:
        hull = view.hull(g.hull, _kept(g, firms))
        if hull is not None:
            features.append(
                {
                    "type": "Feature",
                    "id": f"group-{g.number}",
                    "geometry": hull,
                    "properties": {
                        "kind": "group",
                        "group_number": g.number,
                        "theme": g.theme,
                        "diameter_km": g.diameter_km,
                        "size": len(g.members),
                        "status": g.status.value,
                        "explanation": explanation(group=g, lang=lang),
                    },
                }
            )
        for m in g.members:
            firm = firms.get(m.firm_id) if m.firm_id is not None else None
            if firm is not None:
                features.append(_point(m, g, firm, view))
    if unassigned:
        features += _unassigned_points(db, run, view, lang)
    return {"type": "FeatureCollection", "features": features}


CSV_COLUMNS = (
    "group_number",
    "theme",
    "diameter_km",
    "external_id",
    "name",
    "postcode",
    "gemeente_name",
    "province",
    "sbi_code",
    "employees",
    "needs",
)
"""The column codes of groups.csv; headers are in the reader's language (csv_header)."""


def run_csv(*, db: Session, run_id: int, lang: str = "nl", dialect: Dialect = RFC4180) -> str:
    """Return one CSV line per group member (erased members keep an empty id).

    The header is in ``lang`` (English: the column codes); ``dialect`` ``excel-nl`` gives
    ``;``, a byte-order mark and every text field quoted (see ``spreadsheet.write_csv``).
    ``rfc4180`` (for programs) keeps the theme and need codes; ``excel-nl`` (for people)
    shows their labels in ``lang`` instead, ``;``-separated, which the firm import reads
    back as well (a need by its label), so no code column is needed beside them.
    """
    words = dialect == EXCEL_NL
    _finished_run(db, run_id)
    groups = _groups(db, run_id)
    firms = _firms(db, groups)
    view = firm_view(session=db)
    rows = []
    for g in groups:
        for m in g.members:
            member = _member(m, firms, view)
            codes = member.get("needs") or []
            needs = "; ".join(need_label(c, lang) for c in codes) if words else ";".join(codes)
            theme = need_label(g.theme, lang) if words and g.theme else g.theme
            row = {
                "group_number": g.number,
                "theme": theme,
                "diameter_km": g.diameter_km,
                **member,
                "needs": needs,
            }
            rows.append([row.get(c) for c in CSV_COLUMNS])
    return write_csv(header=csv_header(columns=CSV_COLUMNS, lang=lang), rows=rows, dialect=dialect)
