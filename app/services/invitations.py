"""From accepted group to first meeting: the invitation pack of one group.

A coordinator invites an accepted group (kring) to its first meeting: a mail-merge list
(xlsx, or CSV in either dialect) with each member's contact person, e-mail and phone, and
a Dutch (or English) invitation text naming the group's theme, what the members share and
who they are.  Contact details appear only for firms with ``consent_to_share``; the others
are listed by name with a note, so the coordinator knows whom to ask first.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ConflictError
from app.i18n import with_text
from app.models import Firm, GroupStatus
from app.services.edit_words import need_text
from app.services.review import group_by_number
from app.services.spreadsheet import RFC4180, Dialect, format_sheet, spreadsheet_safe, write_csv
from texts import number as km_text
from texts import t

COLUMNS = ("external_id", "name", "place", "contact_person", "email", "phone", "consent")


def _member(firm: Firm | None, external_id: str | None, lang: str) -> dict[str, Any]:
    if firm is None:
        return {"external_id": external_id, "name": t("export.erased", lang), "place": None,
                "contact_person": None, "email": None, "phone": None, "consent": False}  # fmt: skip
    shared = firm.consent_to_share
    return {
        "external_id": firm.external_id, "name": firm.name,
        "place": firm.place or firm.gemeente_name, "consent": shared,
        "contact_person": firm.contact_person if shared else None,
        "email": firm.email if shared else None, "phone": firm.phone if shared else None,
    }  # fmt: skip


def _places(members: list[dict[str, Any]], lang: str) -> str:
    counts = Counter(m["place"] for m in members if m["place"])
    names = [p for p, _ in counts.most_common(4)]
    more = len(counts) - len(names)
    text = ", ".join(names)
    return text + (t("invite.and_more", lang, count=more) if more > 0 else "")


def invitation(*, db: Session, run_id: int, number: int, lang: str, sender: str) -> dict[str, Any]:
    """The invitation pack of accepted group ``number``: members with contacts, and a text.

    Raises
    ------
    ConflictError
        The group is not accepted (an invitation goes out after the decision).
    """
    group = group_by_number(db=db, run_id=run_id, number=number)
    if group.status != GroupStatus.accepted:
        raise with_text(ConflictError(f"group {number} is not accepted"), "invite.not_accepted",
                        group=number)  # fmt: skip
    ids = [m.firm_id for m in group.members if m.firm_id is not None]
    firms = {f.id: f for f in db.scalars(select(Firm).where(Firm.id.in_(ids)))}
    members = [_member(firms.get(m.firm_id or -1), m.external_id, lang) for m in group.members]
    shared = [
        need_text(code=s["need"], lang=lang) for s in (group.details or {}).get("shared_needs", [])
    ]
    theme = need_text(code=group.theme, lang=lang) if group.theme else t("invite.no_theme", lang)
    lines = [t("invite.member_line", lang, name=m["name"], place=m["place"] or "—")
             for m in members]  # fmt: skip
    meeting = (group.details or {}).get("meeting_place")
    words = {"number": group.number, "count": len(members), "theme": theme,
             "places": _places(members, lang), "shared": ", ".join(shared[:4]) or theme,
             "members": "\n".join(lines), "sender": sender or t("invite.sender", lang)}  # fmt: skip
    if meeting:  # groups stored before meeting places get the text without one
        text = t("invite.body.meeting", lang, **words, place=meeting["place"],
                 postcode=meeting["postcode"], mean_km=km_text(meeting["mean_km"], lang, 1),
                 max_km=km_text(meeting["max_km"], lang, 1))  # fmt: skip
    else:
        text = t("invite.body", lang, **words)
    missing = [m["name"] for m in members if not m["consent"]]
    return {
        "run_id": run_id, "number": group.number, "theme": group.theme,
        "subject": t("invite.subject", lang, number=group.number, theme=theme),
        "text": text, "meeting_place": meeting or None, "members": members,
        "without_consent": missing,
        "note": t("invite.no_consent", lang, count=len(missing), names=", ".join(missing))
        if missing else None,
    }  # fmt: skip


def _header(lang: str) -> list[str]:
    return [t(f"invite.column.{c}", lang) for c in (*COLUMNS, "meeting_place")]


def _where(pack: dict[str, Any], lang: str) -> str | None:
    """The group's meeting place as the mail-merge field: "Drachten (9201)"."""
    place = pack.get("meeting_place")
    if not place:
        return None
    return t("export.meeting_place", lang, place=place["place"], postcode=place["postcode"])


def _row(member: dict[str, Any], lang: str, where: str | None) -> list[Any]:
    yes, no = t("invite.yes", lang), t("invite.no", lang)
    cells = [yes if member[c] is True else no if member[c] is False else member[c] for c in COLUMNS]
    return [*cells, where]


def invitation_csv(*, pack: dict[str, Any], lang: str, dialect: Dialect = RFC4180) -> str:
    """The mail-merge list as CSV, one line per member."""
    return write_csv(
        header=_header(lang),
        rows=[_row(m, lang, _where(pack, lang)) for m in pack["members"]],
        dialect=dialect,
    )


def invitation_xlsx(*, pack: dict[str, Any], lang: str) -> bytes:
    """A workbook: the mail-merge list, and the invitation text to paste into a mail."""
    book = Workbook()
    sheet = book.active
    sheet.title = t("invite.sheet.list", lang)[:31]
    sheet.append(_header(lang))
    for m in pack["members"]:
        sheet.append([spreadsheet_safe(v) for v in _row(m, lang, _where(pack, lang))])
    format_sheet(sheet)
    letter = book.create_sheet(t("invite.sheet.text", lang)[:31])
    letter.append([t("invite.column.subject", lang), spreadsheet_safe(pack["subject"])])
    for line in pack["text"].split("\n"):
        letter.append([None, spreadsheet_safe(line)])
    letter.column_dimensions["A"].width, letter.column_dimensions["B"].width = 14, 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
