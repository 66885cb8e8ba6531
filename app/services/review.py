"""Group review: accept or reject with a comment; keep accepted and locked groups later.

``POST /runs`` with ``keep_accepted_from`` stores the accepted groups of that run (as firm
row ids, so a GDPR erasure leaves nothing behind) in ``run.seed_groups``:

Groups locked by hand (:mod:`app.services.edits`) are kept like accepted ones, always
exactly, and stay locked in the new run; a group's members are its current, possibly
hand-edited, members.

* ``mode="full"``: every accepted group becomes a *locked* group of the new run
  (``Instance.locked_groups``: kept exactly; everything else is re-optimised);
* ``mode="fill"``: the cohort is the accepted members plus the firms that are new since
  that run (in neither its groups nor its unassigned list); accepted groups with room
  become *pinned* groups (they can only gain members), full ones stay locked, and
  newcomers may form new groups.  Accepted members never move.

When the new run succeeds, groups identical to an accepted one are marked accepted again
(:func:`carry_decisions`), so decisions survive any number of re-runs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.convert import row_to_firm
from app.errors import ConflictError, NotFoundError
from app.i18n import with_text
from app.models import (
    CompetitorLink,
    Firm,
    Group,
    GroupStatus,
    PartnerLink,
    Run,
    RunStatus,
    utcnow,
)
from app.services import audit
from app.services.cohort import select_firms
from app.services.links import links_of
from app.services.organisations import Caller
from matching import RunSettings, effective_settings, reason_label, relax_firm
from texts import t


def succeeded_run(*, db: Session, run_id: int) -> Run:
    run = db.scalar(select(Run).where(Run.id == run_id))
    if run is None:
        raise NotFoundError("run", run_id)
    if run.status != RunStatus.succeeded:
        raise with_text(
            ConflictError(f"run {run_id} is {run.status.value}; groups exist once it succeeded"),
            "problem.conflict.not_succeeded",
            run=run_id,
            status=run.status.value,
        )
    return run


def groups_of(*, db: Session, run_id: int) -> list[Group]:
    query = select(Group).where(Group.run_id == run_id).order_by(Group.number)
    return list(db.scalars(query.options(selectinload(Group.members))).all())


def group_by_number(*, db: Session, run_id: int, number: int) -> Group:
    """The group of a succeeded run by its per-run number (the number people see)."""
    succeeded_run(db=db, run_id=run_id)
    group = db.scalar(select(Group).where(Group.run_id == run_id, Group.number == number))
    if group is None:
        raise with_text(NotFoundError("group", f"{number} of run {run_id}"),
                        "problem.not-found.group", number=number, run=run_id)  # fmt: skip
    return group


def decide(
    *,
    db: Session,
    caller: Caller,
    run_id: int,
    number: int,
    status: GroupStatus,
    comment: str | None,
    keep_comment: bool = False,
) -> Group:
    """Accept or reject group ``number`` of a succeeded run, recording who, when and why.

    With ``keep_comment`` (no comment sent) a repeated decision keeps the group's comment;
    a changed decision without a comment clears it.
    """
    group = group_by_number(db=db, run_id=run_id, number=number)
    if keep_comment and group.status == status:
        comment = group.decision_comment
    group.status, group.decided_at = status, utcnow()
    group.decided_by_key_id, group.decision_comment = caller.key_id, comment
    action = "group.accept" if status == GroupStatus.accepted else "group.reject"
    audit.record(db=db, caller=caller, action=action, resource="group",
                 resource_id=f"run {run_id} group {number}", run_id=run_id,
                 group_number=number, comment=comment)  # fmt: skip
    db.commit()
    return group


def _cohort_ids(db: Session, run: Run) -> set[int]:
    """Firm row ids that took part in a run (placed or unassigned)."""
    placed = {m.firm_id for g in groups_of(db=db, run_id=run.id) for m in g.members}
    return {i for i in placed | {u.firm_id for u in run.unassigned} if i is not None}


def seed_groups(
    *, db: Session, base_run_id: int, mode: str, params: dict[str, Any], filters: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The seed of a run that keeps ``base_run_id``'s accepted groups, and its filters.

    Returns ``({"from_run", "mode", "groups": [{"group_id", "number", "firm_ids", "kept_as",
    "decided_by_key_id"}]}, filters)``; in ``fill`` mode the filters select exactly the
    accepted members and the newcomers.
    """
    base = succeeded_run(db=db, run_id=base_run_id)
    room = effective_settings(RunSettings.from_dict(params)).max_size
    seeds = []
    for g in groups_of(db=db, run_id=base.id):
        if g.status != GroupStatus.accepted and not g.locked:
            continue
        ids = [m.firm_id for m in g.members if m.firm_id is not None]
        kept = "pinned" if mode == "fill" and len(ids) < room and not g.locked else "locked"
        seeds.append({"group_id": g.id, "number": g.number, "firm_ids": ids, "kept_as": kept,
                      "decided_by_key_id": g.decided_by_key_id, "locked": g.locked,
                      "accepted": g.status == GroupStatus.accepted})  # fmt: skip
    seed = {"from_run": base.id, "mode": mode, "groups": seeds}
    if mode != "fill":
        return seed, filters
    seen = _cohort_ids(db, base)
    accepted = {i for s in seeds for i in s["firm_ids"]}
    cohort = select_firms(db=db, filters=filters)
    chosen = [f for f in cohort if f.id not in seen or f.id in accepted]
    rows = {f.id: f for f in chosen}
    rows.update({f.id: f for f in db.scalars(select(Firm).where(Firm.id.in_(accepted)))})
    return seed, {"external_ids": sorted(f.external_id for f in rows.values())}


def seed_inputs(
    *, db: Session, run: Run, rows: list[Firm]
) -> tuple[list[Firm], list[list[str]], list[list[str]]]:
    """The cohort with every kept firm included, and the locked and pinned groups (ids).

    Erased firms are left out; a locked group that lost a member is pinned instead.
    """
    seeds = (run.seed_groups or {}).get("groups", [])
    wanted = {i for s in seeds for i in s["firm_ids"]}
    have = {r.id for r in rows}
    missing = wanted - have
    if missing:
        rows = rows + list(db.scalars(select(Firm).where(Firm.id.in_(missing))).all())
    by_id = {r.id: r for r in rows}
    locked: list[list[str]] = []
    pinned: list[list[str]] = []
    for s in seeds:
        ids = [by_id[i].external_id for i in s["firm_ids"] if i in by_id]
        if not ids:
            continue
        exact = s["kept_as"] == "locked" and len(ids) == len(s["firm_ids"])
        (locked if exact else pinned).append(ids)
    return rows, locked, pinned


def carry_decisions(*, db: Session, run: Run) -> None:
    """Mark the new run's groups that equal an accepted seed group as accepted again."""
    seeds = (run.seed_groups or {}).get("groups", [])
    if not seeds:
        return
    db.flush()
    by_members = {frozenset(s["firm_ids"]): s for s in seeds}
    for g in groups_of(db=db, run_id=run.id):
        s = by_members.get(frozenset(m.firm_id for m in g.members))
        if s is not None:
            g.locked = bool(s.get("locked", False))
        if s is not None and s.get("accepted", True):
            g.status, g.decided_at = GroupStatus.accepted, utcnow()
            g.decided_by_key_id = s["decided_by_key_id"]
            g.decision_comment = f"kept from run {run.keep_accepted_from} group {s['number']}"


def relaxation(
    *, db: Session, run_id: int, external_id: str, lang: str = "nl", tried: bool = False
) -> dict[str, Any]:
    """Why a firm of a succeeded run was not placed, and the best single changes, in words.

    Computed on demand by :func:`matching.sme.relax.relax_firm` against the run's stored
    settings and groups, with the cohort's current firm records and pairs; at most five
    options, ranked, in ``lang``; every candidate tried only with ``tried``.
    """
    run = succeeded_run(db=db, run_id=run_id)
    firm = db.scalar(select(Firm).where(Firm.external_id == external_id))
    if firm is None:
        raise NotFoundError("firm", external_id)
    groups = groups_of(db=db, run_id=run.id)
    out: dict[str, Any] = {"run_id": run.id, "external_id": external_id, "placed_in_group": None,
                           "reason": None, "reason_label": None, "ineligible_rule": None,
                           "ineligible_rule_code": None, "advice": None, "best": None,
                           "options": [], "options_found": 0, "tried": []}  # fmt: skip
    for g in groups:
        if any(m.firm_id == firm.id for m in g.members):
            placed = t("relax.placed", lang, group=g.number)
            return {**out, "placed_in_group": g.number, "advice": placed}
    left = next((u for u in run.unassigned if u.firm_id == firm.id), None)
    if left is None:
        error = NotFoundError("unassigned firm", f"{external_id} in run {run_id}")
        key = "problem.not-found.unassigned"
        raise with_text(error, key, firm=repr(external_id), run=run_id)
    rows, _, _ = seed_inputs(db=db, run=run, rows=select_firms(db=db, filters=run.filters))
    rows = rows if any(r.id == firm.id for r in rows) else [*rows, firm]
    by_id = {r.id: r for r in rows}
    ids = {i: r.external_id for i, r in by_id.items()}
    pairs = [[(ids[a], ids[b]) for a, b in links_of(db=db, model=model, firm_ids=set(ids))]
             for model in (CompetitorLink, PartnerLink)]  # fmt: skip
    stored = [([by_id[m.firm_id].external_id for m in g.members if m.firm_id in by_id], g.theme)
              for g in groups]  # fmt: skip
    relaxed = relax_firm([row_to_firm(r) for r in rows], pairs[0], pairs[1],
                         RunSettings.from_dict(run.params), stored, external_id)  # fmt: skip
    label = reason_label(left.reason, lang)
    return {**out, **relaxed.to_dict(lang, tried=tried), "reason": left.reason,
            "reason_label": label}  # fmt: skip
