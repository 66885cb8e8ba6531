"""A run's stored groups as JSON, RFC 7946 GeoJSON and CSV."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.errors import ConflictError
from app.models import Firm, Group, GroupMember, Run, RunStatus
from app.services.privacy import FirmView, firm_view
from app.services.runs import get_run
from app.services.spreadsheet import spreadsheet_safe as spreadsheet_safe
from app.services.spreadsheet import write_csv

DECIMALS = 6
_FIRM_FIELDS = ("name", "postcode", "gemeente_name", "province", "sbi_code", "employees", "needs")


def _finished_run(db: Session, run_id: int) -> Run:
    run = get_run(db, run_id)
    if run.status != RunStatus.succeeded:
        raise ConflictError(f"run {run_id} is {run.status.value}; groups exist once it succeeded")
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


def run_groups(db: Session, run_id: int) -> dict[str, Any]:
    """Return a succeeded run's groups with explanations, unassigned firms and stats."""
    run = _finished_run(db, run_id)
    groups = _groups(db, run_id)
    firms = _firms(db, groups)
    view = firm_view(db)
    return {
        "run_id": run.id,
        "status": run.status.value,
        "groups": [
            {
                "id": g.id,
                "number": g.number,
                "status": g.status.value,
                "theme": g.theme,
                "diameter_km": g.diameter_km,
                "score": g.score,
                "explanation": g.explanation,
                "details": view.details(g.details, _kept(g, firms)),
                "members": [_member(m, firms, view) for m in g.members],
            }
            for g in groups
        ],
        "unassigned": [
            {"external_id": u.external_id, "erased": u.firm_id is None, "reason": u.reason}
            for u in run.unassigned
        ],
        "stats": run.stats,
    }


def _point(member: GroupMember, group: Group, firm: Firm, view: FirmView) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"member-{member.id}",
        "geometry": {"type": "Point", "coordinates": view.coordinates(firm)},
        "properties": {
            "kind": "firm",
            "group_id": group.id,
            "group_number": group.number,
            "external_id": firm.external_id,
            **view.fields(firm, _FIRM_FIELDS),
        },
    }


def _unassigned_points(db: Session, run: Run, view: FirmView) -> list[dict[str, Any]]:
    """A Point per unassigned (not erased) firm: ``group_id`` null, ``reason`` set."""
    ids = [u.firm_id for u in run.unassigned if u.firm_id is not None]
    firms = {f.id: f for f in db.scalars(select(Firm).where(Firm.id.in_(ids)))} if ids else {}
    points = []
    for u in run.unassigned:
        firm = firms.get(u.firm_id) if u.firm_id is not None else None
        if firm is not None:
            coordinates = view.coordinates(firm)
            properties = {"kind": "firm", "group_id": None, "group_number": None,
                          "external_id": firm.external_id, "reason": u.reason,
                          **view.fields(firm, _FIRM_FIELDS)}  # fmt: skip
            points.append({"type": "Feature", "id": f"unassigned-{u.id}",
                           "geometry": {"type": "Point", "coordinates": coordinates},
                           "properties": properties})  # fmt: skip
    return points


def run_geojson(db: Session, run_id: int, *, unassigned: bool = False) -> dict[str, Any]:
    """Return a FeatureCollection: a Polygon hull per group and a Point per (kept) firm.

    With ``unassigned`` also a Point per unassigned firm (``group_id`` null, ``reason``).
    """
    run = _finished_run(db, run_id)
    groups = _groups(db, run_id)
    firms = _firms(db, groups)
    view = firm_view(db)
    features: list[dict[str, Any]] = []
    for g in groups:
        hull = view.hull(g.hull, _kept(g, firms))
        if hull is not None:
            features.append(
                {
                    "type": "Feature",
                    "id": f"group-{g.id}",
                    "geometry": hull,
                    "properties": {
                        "kind": "group",
                        "group_id": g.id,
                        "group_number": g.number,
                        "theme": g.theme,
                        "diameter_km": g.diameter_km,
                        "size": len(g.members),
                        "status": g.status.value,
                        "explanation": g.explanation,
                    },
                }
            )
        for m in g.members:
            firm = firms.get(m.firm_id) if m.firm_id is not None else None
            if firm is not None:
                features.append(_point(m, g, firm, view))
    if unassigned:
        features += _unassigned_points(db, run, view)
    return {"type": "FeatureCollection", "features": features}


CSV_COLUMNS = (
    "group_id",
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


def run_csv(db: Session, run_id: int) -> str:
    """Return one CSV line per group member (erased members keep an empty id)."""
    _finished_run(db, run_id)
    groups = _groups(db, run_id)
    firms = _firms(db, groups)
    view = firm_view(db)
    rows = []
    for g in groups:
        for m in g.members:
            member = _member(m, firms, view)
            needs = ";".join(member.get("needs") or [])
            row = {
                "group_id": g.id,
                "group_number": g.number,
                "theme": g.theme,
                "diameter_km": g.diameter_km,
                **member,
                "needs": needs,
            }
            rows.append([row.get(c) for c in CSV_COLUMNS])
    return write_csv(CSV_COLUMNS, rows)
