"""Exports for programme managers: ``groups.xlsx`` and the joint-application pack.

Every text cell that a spreadsheet could read as a formula (starting with ``= + - @``, or a
tab or carriage return) is prefixed with ``'`` (CSV/formula injection, OWASP); the pack's
CSV also quotes text and neutralises a trigger after a separator
(:mod:`app.services.spreadsheet`).
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.convert import row_to_firm
from app.errors import NotFoundError
from app.models import Firm, Group, Run
from app.services.privacy import FirmView, firm_view
from app.services.review import groups_of, succeeded_run
from app.services.spreadsheet import spreadsheet_safe, write_csv
from matching.needs import need_by_code
from matching.schemes import scheme_by_id, settings_rule
from matching.settings import RunSettings

OVERVIEW = ("group", "status", "theme", "theme_label", "size", "diameter_km", "score",
            "explanation", "decision_comment")  # fmt: skip
MEMBER = ("external_id", "name", "kvk_number", "postcode", "gemeente_name", "province",
          "sbi_code", "employees", "digital_level", "needs")  # fmt: skip


def _firms(db: Session, groups: list[Group]) -> dict[int, Firm]:
    ids = {m.firm_id for g in groups for m in g.members if m.firm_id is not None}
    return {f.id: f for f in db.scalars(select(Firm).where(Firm.id.in_(ids)))} if ids else {}


def _label(theme: str | None) -> str | None:
    return None if theme is None else need_by_code(theme).label_nl


def _member_row(firm: Firm | None, external_id: str | None, view: FirmView) -> list[Any]:
    if firm is None:
        return [external_id, "(erased)"] + [None] * (len(MEMBER) - 2)
    values = view.fields(firm, MEMBER)
    values["needs"] = ";".join(firm.needs)
    return [spreadsheet_safe(values[c]) for c in MEMBER]


def groups_xlsx(db: Session, run_id: int) -> bytes:
    """A workbook: sheet ``Overview`` (one row per group), then ``Group <n>`` per group."""
    succeeded_run(db, run_id)
    groups = groups_of(db, run_id)
    firms = _firms(db, groups)
    view = firm_view(db)
    book = Workbook()
    overview = book.active
    assert overview is not None
    overview.title = "Overview"
    overview.append(list(OVERVIEW))
    for g in groups:
        row = [g.number, g.status.value, g.theme, _label(g.theme), len(g.members),
               g.diameter_km, g.score, g.explanation, g.decision_comment]  # fmt: skip
        overview.append([spreadsheet_safe(v) for v in row])
    for g in groups:
        sheet = book.create_sheet(f"Group {g.number}")
        sheet.append(list(MEMBER))
        for m in g.members:
            firm = firms.get(m.firm_id) if m.firm_id is not None else None
            sheet.append(_member_row(firm, m.external_id, view))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lead(scheme: dict[str, Any] | None, members: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [m for m in members if m["eligible"] and m["external_id"]]
    largest = max(ok, key=lambda m: (m["employees"] or 0, m["external_id"]), default=None)
    rule = scheme["lead_applicant"] if scheme else {"may_be": ["member"], "rule": "any member"}
    return {**rule, "suggested_member": None if largest is None else largest["external_id"],
            "why": "the eligible member with the most employees; the group decides"}  # fmt: skip


def _checks(scheme: dict[str, Any] | None, size: int) -> list[str]:
    if scheme is None:
        return ["no subsidy scheme: the run was not a scheme run"]
    bounds = scheme["partners"]
    most = bounds["max"] if bounds["max"] is not None else "any"
    out = [f"{size} partners; the scheme allows {bounds['min']}-{most}", scheme["verify"]]
    if scheme["max_cost_share"] is not None:
        out.append(f"no partner may carry more than {scheme['max_cost_share']:.0%} of the costs")
    return out + list(scheme["notes"])


def application_pack(db: Session, run_id: int, group_id: int) -> dict[str, Any]:
    """The joint-application pack of one group: scheme, lead applicant, checked members."""
    run: Run = succeeded_run(db, run_id)
    group = db.scalar(select(Group).where(Group.id == group_id, Group.run_id == run_id))
    if group is None:
        raise NotFoundError("group", group_id)
    settings = RunSettings.from_dict(run.params)
    scheme = None if settings.scheme_id is None else scheme_by_id(settings.scheme_id).to_dict()
    firms = _firms(db, [group])
    view = firm_view(db)
    members = []
    for m in group.members:
        firm = firms.get(m.firm_id) if m.firm_id is not None else None
        failed = None if firm is None else settings_rule(row_to_firm(firm), settings)
        members.append({
            "kvk_number": firm and view.value(firm, "kvk_number"), "external_id": m.external_id,
            "name": firm and firm.name, "gemeente_name": firm and firm.gemeente_name,
            "province": firm and firm.province, "employees": firm and firm.employees,
            "sbi_code": firm and firm.sbi_code,
            "has_theme": bool(firm and group.theme in firm.needs),
            "eligible": firm is not None and failed is None,
            "failed_rule": "erased" if firm is None else (failed and str(failed)),
        })  # fmt: skip
    return {
        "run_id": run.id, "group_id": group.id, "group_number": group.number,
        "status": group.status.value, "theme": group.theme, "theme_label": _label(group.theme),
        "scheme": scheme, "lead_applicant": _lead(scheme, members), "members": members,
        "all_eligible": all(m["eligible"] for m in members),
        "checks": _checks(scheme, len(members)),
    }  # fmt: skip


PACK_COLUMNS = ("scheme_id", "group_number", "theme", "lead_applicant", "kvk_number",
                "external_id", "name", "gemeente_name", "province", "employees", "sbi_code",
                "has_theme", "eligible", "failed_rule")  # fmt: skip


def application_csv(pack: dict[str, Any]) -> str:
    """The pack as CSV: one line per member with the group's scheme, theme and lead."""
    common = {"scheme_id": pack["scheme"] and pack["scheme"]["id"],
              "group_number": pack["group_number"], "theme": pack["theme"],
              "lead_applicant": pack["lead_applicant"]["suggested_member"]}  # fmt: skip
    rows = ({**common, **member} for member in pack["members"])
    return write_csv(PACK_COLUMNS, ([row[c] for c in PACK_COLUMNS] for row in rows))
