"""Exports for programme managers: ``groups.xlsx`` and the joint-application pack.

Every text cell that a spreadsheet could read as a formula (starting with ``= + - @``, or a
tab or carriage return) is prefixed with ``'`` (CSV/formula injection, OWASP); the pack's
CSV also quotes text and neutralises a trigger after a separator
(:mod:`app.services.spreadsheet`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.convert import row_to_firm
from app.models import Firm, Group, Run
from app.services.privacy import FirmView, firm_view
from app.services.results import explanation, unassigned_words
from app.services.review import group_by_number, groups_of, succeeded_run
from app.services.spreadsheet import (
    EXCEL_NL,
    RFC4180,
    Dialect,
    csv_header,
    format_sheet,
    spreadsheet_safe,
    write_csv,
)
from matching import MatchingError, RunSettings, need_label, scheme_by_id, settings_rule
from texts import has, t

OVERVIEW = ("group", "status", "theme", "size", "diameter_km", "score", "explanation",
            "decision_comment", "meeting_place", "meeting_mean_km", "meeting_max_km")  # fmt: skip
MEMBER = ("external_id", "name", "kvk_number", "postcode", "gemeente_name", "province",
          "sbi_code", "employees", "digital_level", "needs")  # fmt: skip
GROUP_SHEET = (*MEMBER[:-1], "meeting_place", MEMBER[-1])
UNASSIGNED = ("external_id", "name", "postcode", "gemeente_name", "reason", "reason_label",
              "reason_explanation", "rule")  # fmt: skip
SETTINGS = ("setting", "code", "value")
RUN_FACTS = ("run_id", "purpose", "mode", "profile_id", "profile_version", "keep_accepted_from",
             "created_at", "finished_at")  # fmt: skip


def _firms(db: Session, ids: Iterable[int | None]) -> dict[int, Firm]:
    wanted = {i for i in ids if i is not None}
    query = select(Firm).where(Firm.id.in_(wanted))
    return {f.id: f for f in db.scalars(query)} if wanted else {}


def _members(db: Session, groups: list[Group]) -> dict[int, Firm]:
    return _firms(db, (m.firm_id for g in groups for m in g.members))


def _label(theme: str | None, lang: str = "nl") -> str | None:
    return None if theme is None else need_label(theme, lang)


def column(*, name: str, lang: str) -> str:
    """A column header of the xlsx exports in ``lang``."""
    return t(f"export.column.{name}", lang)


def _needs(codes: Iterable[str], lang: str) -> str:
    return "; ".join(need_label(c, lang) for c in codes)


def _member_row(firm: Firm | None, external_id: str | None, view: FirmView, lang: str) -> list[Any]:
    if firm is None:
        return [external_id, t("export.erased", lang)] + [None] * (len(MEMBER) - 2)
    values = view.fields(firm, MEMBER)
    values["needs"] = _needs(firm.needs, lang)
    return [spreadsheet_safe(values[c]) for c in MEMBER]


def _sheet(book: Workbook, title: str, header: Iterable[str], rows: Iterable[list[Any]]) -> None:
    sheet = book.create_sheet(title[:31])  # Excel's limit on sheet names
    sheet.append(list(header))
    for row in rows:
        sheet.append([spreadsheet_safe(v) for v in row])
    format_sheet(sheet)


def _meeting(group: Group, lang: str) -> list[Any]:
    """The group's meeting place ("Drachten (9201)"), mean and longest travel in km."""
    place = (group.details or {}).get("meeting_place")
    if not place:
        return [None, None, None]  # a group stored before meeting places
    name = t("export.meeting_place", lang, place=place["place"], postcode=place["postcode"])
    return [name, place["mean_km"], place["max_km"]]


def _overview(groups: list[Group], lang: str) -> list[list[Any]]:
    return [[g.number, t(f"export.status.{g.status.value}", lang), _label(g.theme, lang),
             len(g.members), g.diameter_km, g.score, explanation(group=g, lang=lang),
             g.decision_comment, *_meeting(g, lang)]
            for g in groups]  # fmt: skip


def _unassigned(db: Session, run: Run, view: FirmView, lang: str) -> list[list[Any]]:
    firms = _firms(db, (u.firm_id for u in run.unassigned))
    try:
        settings: RunSettings | None = RunSettings.from_dict(run.params or {})
    except (MatchingError, ValueError, TypeError, KeyError):
        settings = None
    rows = []
    for u in run.unassigned:
        firm = firms.get(u.firm_id) if u.firm_id is not None else None
        place = view.fields(firm, UNASSIGNED[1:4]) if firm is not None else {}
        words = unassigned_words(u=u, firm=firm, settings=settings, lang=lang)
        name = place.get("name") if firm is not None else t("export.erased", lang)
        rows.append([u.external_id, name, place.get("postcode"), place.get("gemeente_name"),
                     u.reason, words["reason_label"], words["reason_explanation"],
                     words["rule"]])  # fmt: skip
    return rows


def _value(value: Any) -> Any:
    if isinstance(value, bool | None):
        return "" if value is None else str(value).lower()
    if isinstance(value, int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _settings(run: Run, lang: str) -> list[list[Any]]:
    """Facts of the run (id, purpose, profile id and version, ...), then every setting."""
    facts = {"run_id": run.id, "purpose": run.purpose, "mode": run.mode,
             "profile_id": run.profile_id, "profile_version": run.profile_version,
             "keep_accepted_from": run.keep_accepted_from,
             "created_at": run.created_at and run.created_at.isoformat(),
             "finished_at": run.finished_at and run.finished_at.isoformat()}  # fmt: skip
    rows = [[t(f"export.run.{k}", lang), k, _value(v)] for k, v in facts.items()]
    params = {**(run.params or {}), "filters": run.filters or {}}
    for key in sorted(params):
        label = f"export.setting.{key}"
        rows.append([t(label, lang) if has(label) else key, key, _value(params[key])])
    return rows


def groups_xlsx(*, db: Session, run_id: int, lang: str = "nl") -> bytes:
    """A workbook in ``lang``: overview, one sheet per group, unassigned firms, settings.

    Every sheet has a bold, frozen header row with filters and fitted column widths; needs
    and themes are labels, reasons and statuses words.
    """
    run = succeeded_run(db=db, run_id=run_id)
    groups = groups_of(db=db, run_id=run_id)
    firms = _members(db, groups)
    view = firm_view(session=db)
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    _sheet(book, t("export.sheet.overview", lang), (column(name=c, lang=lang) for c in OVERVIEW),
           _overview(groups, lang))  # fmt: skip
    for g in groups:
        where = _meeting(g, lang)[0]  # beside each member, before the needs
        rows = [_member_row(firms.get(m.firm_id) if m.firm_id is not None else None,
                            m.external_id, view, lang) for m in g.members]  # fmt: skip
        _sheet(book, t("export.sheet.group", lang, number=g.number),
               (column(name=c, lang=lang) for c in GROUP_SHEET),
               [[*row[:-1], where, row[-1]] for row in rows])  # fmt: skip
    _sheet(book, t("export.sheet.unassigned", lang),
           (column(name=c, lang=lang) for c in UNASSIGNED),
           _unassigned(db, run, view, lang))  # fmt: skip
    _sheet(book, t("export.sheet.settings", lang), (column(name=c, lang=lang) for c in SETTINGS),
           _settings(run, lang))  # fmt: skip
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


def application_pack(*, db: Session, run_id: int, number: int, lang: str = "nl") -> dict[str, Any]:
    """The joint-application pack of group ``number``: scheme, lead, checked members."""
    run: Run = succeeded_run(db=db, run_id=run_id)
    group = group_by_number(db=db, run_id=run_id, number=number)
    settings = RunSettings.from_dict(run.params)
    scheme = None if settings.scheme_id is None else scheme_by_id(settings.scheme_id).to_dict()
    firms = _members(db, [group])
    view = firm_view(session=db)
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
        "run_id": run.id, "group_number": group.number, "status": group.status.value,
        "theme": group.theme, "theme_label": _label(group.theme, lang),
        "scheme": scheme, "lead_applicant": _lead(scheme, members), "members": members,
        "all_eligible": all(m["eligible"] for m in members),
        "checks": _checks(scheme, len(members)),
    }  # fmt: skip


PACK_COLUMNS = ("scheme_id", "group_number", "theme", "lead_applicant", "kvk_number",
                "external_id", "name", "gemeente_name", "province", "employees", "sbi_code",
                "has_theme", "eligible", "failed_rule")  # fmt: skip


def application_csv(*, pack: dict[str, Any], lang: str = "nl", dialect: Dialect = RFC4180) -> str:
    """The pack as CSV: one line per member with the group's scheme, theme and lead.

    The header is in ``lang`` (:func:`~app.services.spreadsheet.csv_header`); ``dialect`` as in
    :func:`app.services.spreadsheet.write_csv` (``excel-nl``: the theme by its label).
    """
    theme = pack["theme_label"] if dialect == EXCEL_NL and pack["theme"] else pack["theme"]
    common = {"scheme_id": pack["scheme"] and pack["scheme"]["id"],
              "group_number": pack["group_number"], "theme": theme,
              "lead_applicant": pack["lead_applicant"]["suggested_member"]}  # fmt: skip
    rows = ({**common, **member} for member in pack["members"])
    header = csv_header(columns=PACK_COLUMNS, lang=lang)
    return write_csv(
        header=header, rows=([row[c] for c in PACK_COLUMNS] for row in rows), dialect=dialect
    )
