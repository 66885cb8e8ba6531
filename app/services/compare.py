"""What-if comparison of two succeeded runs of one organisation.

Firms are matched by their row id (stable across runs even when an external id changes);
erased firms are left out.  Groups are matched across the runs by member overlap: pairs
sharing the most firms are matched first, one to one, so a group with the same members
is the same group even when its number differs.  A group is *unchanged* when its match
has exactly the same firms; a firm *moved* when it is placed in both runs and its group
in the second run is not the match of its group in the first (a firm of an unmatched
group moved too).  Affinities are compared only when both runs score groups the same way
(``group_score`` and the affinity weights); otherwise ``comparable`` is false, the deltas
are null and ``comparable_note`` says why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import Group, Run
from app.services.review import groups_of, succeeded_run
from matching import MatchingError, RunSettings
from texts import t

Sets = dict[int, frozenset[int]]


def _placement(groups: list[Group]) -> tuple[dict[int, int], dict[int, str], Sets]:
    """firm id -> group number, firm id -> external id, group number -> firm ids."""
    where: dict[int, int] = {}
    names: dict[int, str] = {}
    sets: Sets = {}
    for g in groups:
        sets[g.number] = frozenset(m.firm_id for m in g.members if m.firm_id is not None)
        for m in g.members:
            if m.firm_id is not None:
                where[m.firm_id] = g.number
                names[m.firm_id] = m.external_id or ""
    return where, names, sets


def match_groups(*, sets_a: Sets, sets_b: Sets) -> dict[int, int]:
    """Group number in a -> group number in b, one to one, most shared firms first.

    Ties go to the smaller group numbers; groups sharing no firm stay unmatched.
    """
    pairs = sorted(
        (
            (len(fa & fb), -len(fa ^ fb), -na, -nb)
            for na, fa in sets_a.items()
            for nb, fb in sets_b.items()
            if fa & fb
        ),
        reverse=True,
    )
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for _, _, na, nb in pairs:
        if -na not in matched and -nb not in taken:
            matched[-na] = -nb
            taken.add(-nb)
    return matched


def _delta(a: float, b: float, comparable: bool = True, digits: int = 4) -> dict[str, Any]:
    delta = round(b - a, digits) if comparable else None
    return {"a": round(a, digits), "b": round(b, digits), "delta": delta}


def _mean_score(groups: list[Group]) -> float:
    scores = [g.score for g in groups if g.score is not None]
    return sum(scores) / len(scores) if scores else 0.0


def _affinity(run: Run) -> float:
    objective = (run.stats or {}).get("objective")
    return float(objective.get("affinity", 0.0)) if isinstance(objective, dict) else 0.0


def _scoring(run: Run) -> tuple[str, dict[str, Any]]:
    """The run's resolved ``group_score`` and affinity weights."""
    params = run.params or {}
    try:
        settings = RunSettings.from_dict(params)
        return str(settings.group_score), settings.to_dict().get("affinity") or {}
    except (MatchingError, ValueError, TypeError, KeyError):
        default = "member_mean" if params.get("purpose") == "peer" else "pair_sum"
        return str(params.get("group_score") or default), params.get("affinity") or {}


def _comparable(a: Run, b: Run, lang: str) -> tuple[bool, bool, str | None]:
    """Whether totals and group scores may be compared, and the sentence if not."""
    (score_a, weights_a), (score_b, weights_b) = _scoring(a), _scoring(b)
    if score_a != score_b:
        return False, weights_a == weights_b, t("compare.group_score_differs", lang,
                                                 a=score_a, b=score_b)  # fmt: skip
    if weights_a != weights_b:
        return False, False, t("compare.weights_differ", lang)
    return True, True, None


def _differences(a: Run, b: Run) -> dict[str, dict[str, Any]]:
    left = {**a.params, "filters": a.filters, "mode": a.mode}
    right = {**b.params, "filters": b.filters, "mode": b.mode}
    keys = sorted(set(left) | set(right))
    return {k: {"a": left.get(k), "b": right.get(k)} for k in keys if left.get(k) != right.get(k)}


def compare_runs(
    *, db: Session, run_id: int, other_run_id: int, lang: str = "nl"
) -> dict[str, Any]:
    """Coverage and affinity deltas, matched groups, moves, new and dropped firms."""
    a, b = succeeded_run(db=db, run_id=run_id), succeeded_run(db=db, run_id=other_run_id)
    groups_a, groups_b = groups_of(db=db, run_id=a.id), groups_of(db=db, run_id=b.id)
    where_a, names_a, sets_a = _placement(groups_a)
    where_b, names_b, sets_b = _placement(groups_b)
    match = match_groups(sets_a=sets_a, sets_b=sets_b)
    matched = [{"a": na, "b": nb, "shared": len(sets_a[na] & sets_b[nb]),
                "same_members": sets_a[na] == sets_b[nb]}
               for na, nb in sorted(match.items())]  # fmt: skip
    names = {**names_a, **names_b}
    moved = [
        {"external_id": names[f], "from_group": n, "to_group": where_b[f]}
        for f, n in sorted(where_a.items(), key=lambda fn: names[fn[0]])
        if f in where_b and match.get(n) != where_b[f]
    ]
    totals_ok, means_ok, note = _comparable(a, b, lang)
    stats_a, stats_b = a.stats or {}, b.stats or {}
    return {
        "run_id": a.id,
        "other_run_id": b.id,
        "comparable": totals_ok,
        "comparable_note": note,
        "coverage": _delta(stats_a.get("coverage", 0.0), stats_b.get("coverage", 0.0)),
        "placed": {"a": len(where_a), "b": len(where_b), "delta": len(where_b) - len(where_a)},
        "groups": {"a": len(groups_a), "b": len(groups_b), "delta": len(groups_b) - len(groups_a)},
        "mean_affinity": _delta(_mean_score(groups_a), _mean_score(groups_b), means_ok),
        "total_affinity": _delta(_affinity(a), _affinity(b), totals_ok),
        "group_matching": t("compare.group_matching", lang),
        "matched_groups": matched,
        "unchanged_groups": [{"a": m["a"], "b": m["b"]} for m in matched if m["same_members"]],
        "moved": moved,
        "newly_placed": sorted(names[f] for f in where_b if f not in where_a),
        "dropped": sorted(names[f] for f in where_a if f not in where_b),
        "constraint_differences": _differences(a, b),
    }
