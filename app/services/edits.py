"""Hand edits of a run's groups, each checked by the verifier before it is applied.

A programme manager moves a firm to another group, swaps two firms, adds an unassigned
firm, removes one, splits or merges groups (``lock``/``unlock`` live beside them).  Every
edit is applied to a copy of the run's current groups, the changed groups are checked by
:func:`matching.core.verify` against the run's own settings, firms and competitor pairs, and
only a clean result is stored: the groups' members, explanations and scores, one
``run_edit`` row (who, when, before and after) and an audit entry, in one transaction.
A refused edit names the broken rule in words and changes nothing.  The optimiser's
proposal is saved in ``run.proposal`` at the first edit, so it stays beside the edited one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.convert import row_to_firm
from app.errors import ConflictError, InvalidInputError, NotFoundError, RuleBrokenError
from app.i18n import with_text
from app.models import (
    CompetitorLink,
    Firm,
    Group,
    GroupMember,
    GroupStatus,
    PartnerLink,
    Run,
    RunEdit,
    UnassignedFirm,
    utcnow,
)
from app.services import audit, edit_words, review
from app.services.organisations import Caller
from matching import (
    NEEDS,
    RunSettings,
    Solution,
    build_instance,
    effective_settings,
    group_report,
    verify,
)

KINDS = ("move", "swap", "add", "remove", "split", "merge")
REMOVED = "removed_by_hand"
"""The unassigned reason of a firm an edit took out of its group."""
_NEED_INDEX = {n.code: i for i, n in enumerate(NEEDS)}
_DETAIL_SKIP = {"id", "members", "theme", "diameter_km", "explanation", "hull", "mean_affinity"}


@dataclass
class Board:
    """A run's current groups as external ids, and which are locked."""

    groups: dict[int, list[str]]
    themes: dict[int, str | None]
    unassigned: list[str]
    locked: set[int] = field(default_factory=set)

    def group_of(self, external_id: str) -> int | None:
        """The number of the group that holds the firm, if any."""
        return next((n for n, m in self.groups.items() if external_id in m), None)


def _board(db: Session, run: Run) -> tuple[Board, dict[int, Group]]:
    rows = {g.number: g for g in db.scalars(select(Group).where(Group.run_id == run.id))}
    query = (
        select(Group.number, GroupMember.external_id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.run_id == run.id, GroupMember.external_id.is_not(None))
        .order_by(Group.number, GroupMember.position)
    )
    members: dict[int, list[str]] = {n: [] for n in rows}
    for number, external_id in db.execute(query):
        members[number].append(external_id)
    left = select(UnassignedFirm.external_id).where(
        UnassignedFirm.run_id == run.id, UnassignedFirm.external_id.is_not(None)
    )
    board = Board(
        groups=members,
        themes={n: g.theme for n, g in rows.items()},
        unassigned=list(db.scalars(left)),
        locked={n for n, g in rows.items() if g.locked},
    )
    return board, rows


def _need(value: Any, what: str) -> Any:
    if value is None:
        error = InvalidInputError(
            f"this edit needs '{what}'", [{"row": None, "field": what, "message": "required"}]
        )
        raise with_text(error, "edit.missing", field=what)
    return value


def _placed(board: Board, firm: str) -> int:
    number = board.group_of(firm)
    if number is None:
        raise with_text(NotFoundError("placed firm", firm), "edit.not_placed", firm=firm)
    return number


def _group(board: Board, number: int) -> list[str]:
    if number not in board.groups:
        raise with_text(NotFoundError("group", number), "edit.no_group", group=number)
    return board.groups[number]


def plan(*, board: Board, edit: dict[str, Any]) -> dict[int, list[str]]:
    """The changed groups after ``edit`` (number -> new members; empty = dissolved).

    Raises
    ------
    NotFoundError
        A firm or group the edit names is not in the run.
    ConflictError
        The edit touches a locked group or makes no sense (a firm to its own group).
    """
    kind, firm, other = edit["kind"], edit.get("firm"), edit.get("other_firm")
    to, number = edit.get("to_group"), edit.get("group")
    changed: dict[int, list[str]] = {}
    if kind == "move":
        src, dst = _placed(board, _need(firm, "firm")), _need(to, "to_group")
        if src == dst:
            raise with_text(ConflictError("already in that group"), "edit.same_group", group=dst)
        changed[src] = [f for f in board.groups[src] if f != firm]
        changed[dst] = [*_group(board, dst), firm]
    elif kind == "swap":
        a, b = _placed(board, _need(firm, "firm")), _placed(board, _need(other, "other_firm"))
        if a == b:
            raise with_text(ConflictError("same group"), "edit.same_group", group=a)
        changed[a] = [other if f == firm else f for f in board.groups[a]]
        changed[b] = [firm if f == other else f for f in board.groups[b]]
    elif kind == "add":
        if _need(firm, "firm") not in board.unassigned:
            raise with_text(
                NotFoundError("unassigned firm", firm), "edit.not_unassigned", firm=firm
            )
        dst = _need(to, "to_group")
        changed[dst] = [*_group(board, dst), firm]
    elif kind == "remove":
        src = _placed(board, _need(firm, "firm"))
        changed[src] = [f for f in board.groups[src] if f != firm]
    elif kind == "split":
        members = list(_group(board, _need(number, "group")))
        moving = [f for f in _need(edit.get("members"), "members") if f in members]
        if not moving or len(moving) == len(members) or len(moving) != len(edit["members"]):
            raise with_text(
                ConflictError("split needs some members"), "edit.bad_split", group=number
            )
        changed[number] = [f for f in members if f not in moving]
        changed[max(board.groups) + 1] = moving
    elif kind == "merge":
        a, b = _need(number, "group"), _need(to, "to_group")
        if a == b:
            raise with_text(ConflictError("same group"), "edit.same_group", group=a)
        changed[b] = [*_group(board, b), *_group(board, a)]
        changed[a] = []
    for n in changed:
        if n in board.locked:
            raise with_text(ConflictError(f"group {n} is locked"), "edit.locked", group=n)
    return changed


@dataclass
class Checked:
    """The outcome of checking an edit: violations in words, and each group's numbers."""

    problems: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    reports: dict[int, dict[str, Any]]


def _cohort(
    db: Session, run: Run, involved: set[str]
) -> tuple[list[Firm], list[tuple[str, str]], list[tuple[str, str]]]:
    """The involved firms and the competitor and partner pairs among them.

    Every rule is a property of a firm, a pair or a group, so checking the changed groups
    needs only their firms (a whole 1,500-firm cohort took most of an edit's time).
    """
    rows = list(db.scalars(select(Firm).where(Firm.external_id.in_(sorted(involved)))))
    missing = sorted(involved - {r.external_id for r in rows})
    if missing:
        raise with_text(ConflictError(f"firm {missing[0]} is no longer in the run's cohort"),
                        "edit.gone", firm=missing[0])  # fmt: skip
    by_id = {r.id: r.external_id for r in rows}
    pairs = []
    for model in (CompetitorLink, PartnerLink):
        query = select(model.firm_a_id, model.firm_b_id).where(
            model.firm_a_id.in_(by_id), model.firm_b_id.in_(by_id)
        )
        pairs.append([(by_id[a], by_id[b]) for a, b in db.execute(query)])
    return rows, pairs[0], pairs[1]


def check(
    *, db: Session, run: Run, board: Board, changed: dict[int, list[str]], lang: str
) -> Checked:
    """Verify the changed groups with the run's rules; score them before and after."""
    involved = {e for n, m in changed.items() for e in (*m, *board.groups.get(n, []))}
    rows, competitors, partners = _cohort(db, run, involved)
    firms = [row_to_firm(r) for r in rows]
    run_settings = RunSettings.from_dict(run.params)
    settings = effective_settings(run_settings)
    instance, index = build_instance(firms, competitors, partners, run_settings)
    numbers = [n for n, m in changed.items() if m]
    groups = tuple(tuple(sorted(index.index_of(e) for e in changed[n])) for n in numbers)
    themes = tuple(_NEED_INDEX.get(board.themes.get(n) or "") for n in numbers)
    solution = Solution(n_firms=instance.n_firms, groups=groups, themes=themes)
    problems = []
    for v in verify(instance, solution):
        n = numbers[v.group] if v.group is not None else 0
        words = edit_words.violation_words(
            v=v, rows=rows, settings=settings, group=n, theme=board.themes.get(n), lang=lang
        )
        ids = [rows[i].external_id for i in v.firms]
        problems.append({"rule": v.kind, "group": n, "firms": ids, "message": words})
    effects, reports = [], {}
    for n, members in changed.items():
        after = group_report(n, firms, groups[numbers.index(n)], board.themes.get(n), instance) \
            if members else None  # fmt: skip
        before_ids = board.groups.get(n, [])
        before = group_report(n, firms, sorted(index.index_of(e) for e in before_ids),
                              board.themes.get(n), instance) if before_ids else None  # fmt: skip
        effects.append({"group": n, "before": _numbers(before), "after": _numbers(after),
                        "members_before": before_ids, "members_after": members})  # fmt: skip
        if after is not None:
            reports[n] = after.to_dict()
    return Checked(problems, effects, reports)


def _numbers(report: Any) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"size": len(report.members), "mean_affinity": round(report.mean_affinity, 4),
            "mean_need_jaccard": round(report.mean_need_jaccard, 4),
            "diameter_km": round(report.diameter_km, 1)}  # fmt: skip


def _snapshot(run: Run, rows: dict[int, Group]) -> None:
    if run.proposal is None:
        run.proposal = {
            "groups": [{"number": n, "theme": g.theme,
                        "members": [m.external_id for m in g.members]} for n, g in rows.items()],
            "unassigned": [{"external_id": u.external_id, "reason": u.reason}
                           for u in run.unassigned],
        }  # fmt: skip


def _store(db: Session, run: Run, rows: dict[int, Group], checked: Checked, board: Board,
           changed: dict[int, list[str]]) -> None:  # fmt: skip
    firms = {f.external_id: f for f in db.scalars(select(Firm))}
    now = utcnow()
    for n, members in changed.items():
        group = rows.get(n)
        if not members:
            if group is not None:
                db.delete(group)
            continue
        if group is None:
            group = Group(organisation_id=run.organisation_id, run_id=run.id, number=n)
            db.add(group)
        data = checked.reports[n]
        group.theme, group.diameter_km = board.themes.get(n), data["diameter_km"]
        group.score, group.explanation, group.hull = (data["mean_affinity"], data["explanation"],
                                                      data["hull"])  # fmt: skip
        group.details = {k: v for k, v in data.items() if k not in _DETAIL_SKIP}
        group.edited_at = now
        if group.status != GroupStatus.proposed:  # the decision was about other members
            group.status, group.decided_at, group.decision_comment = (
                GroupStatus.proposed,
                None,
                None,
            )
        group.members.clear()
        db.flush()
        for position, e in enumerate(members):
            f = firms[e]
            group.members.append(GroupMember(organisation_id=run.organisation_id, firm_id=f.id,
                                             position=position, external_id=e, lat=f.lat,
                                             lon=f.lon))  # fmt: skip
    placed = {e for m in changed.values() for e in m}
    before = {e for n in changed for e in board.groups.get(n, [])}
    db.execute(delete(UnassignedFirm).where(UnassignedFirm.run_id == run.id,
                                            UnassignedFirm.external_id.in_(placed)))  # fmt: skip
    for e in sorted(before - placed):
        db.add(UnassignedFirm(organisation_id=run.organisation_id, run_id=run.id,
                              firm_id=firms[e].id, external_id=e, reason=REMOVED))  # fmt: skip


def edit(
    *, db: Session, caller: Caller, run_id: int, request: dict[str, Any], dry_run: bool, lang: str
) -> dict[str, Any]:
    """Check one edit and, unless ``dry_run`` or refused, apply it; the edit's answer.

    Raises
    ------
    RuleBrokenError
        The edit would break a hard rule (not with ``dry_run``: then ``allowed`` is false).
    """
    run = review.succeeded_run(db=db, run_id=run_id)
    board, rows = _board(db, run)
    changed = plan(board=board, edit=request)
    checked = check(db=db, run=run, board=board, changed=changed, lang=lang)
    answer = {"run_id": run.id, "kind": request["kind"], "allowed": not checked.problems,
              "applied": False, "revision": run.revision, "violations": checked.problems,
              "effects": checked.effects}  # fmt: skip
    if dry_run:
        return answer
    if checked.problems:
        raise RuleBrokenError(checked.problems, lang)
    _snapshot(run, rows)
    _store(db, run, rows, checked, board, changed)
    run.revision += 1
    db.add(RunEdit(organisation_id=run.organisation_id, run_id=run.id, revision=run.revision,
                   kind=request["kind"], request=request, effects={"groups": checked.effects},
                   by_key_id=caller.key_id, by_holder=caller.holder))  # fmt: skip
    audit.record(db=db, caller=caller, action="group.edit", resource="run", resource_id=run.id,
                 revision=run.revision, kind=request["kind"], groups=sorted(changed))  # fmt: skip
    db.commit()
    return {**answer, "applied": True, "revision": run.revision}


def set_lock(*, db: Session, caller: Caller, run_id: int, number: int, locked: bool) -> Group:
    """Lock or unlock group ``number``: a locked group takes no edits and is kept by later runs."""
    group = review.group_by_number(db=db, run_id=run_id, number=number)
    group.locked = locked
    audit.record(db=db, caller=caller, action="group.lock" if locked else "group.unlock",
                 resource="group", resource_id=f"run {run_id} group {number}", run_id=run_id,
                 group_number=number)  # fmt: skip
    db.commit()
    return group


def history(*, db: Session, run_id: int) -> dict[str, Any]:
    """The run's edits, oldest first, and its original proposal (``None`` if never edited)."""
    run = review.succeeded_run(db=db, run_id=run_id)
    edits = db.scalars(select(RunEdit).where(RunEdit.run_id == run.id).order_by(RunEdit.revision))
    return {"run_id": run.id, "revision": run.revision, "proposal": run.proposal,
            "edits": [{"revision": e.revision, "kind": e.kind, "request": e.request,
                       "groups": e.effects.get("groups", []), "by": e.by_holder, "at": e.at}
                      for e in edits]}  # fmt: skip
