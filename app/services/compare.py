"""What-if comparison of two succeeded runs of one organisation.

Firms are matched by their row id (stable across runs even when an external id changes);
erased firms are left out.  A group is *unchanged* when the other run has a group with
exactly the same firms; a firm *moved* when it is placed in both runs but its group
changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import Group, Run
from app.services.review import groups_of, succeeded_run


def _placement(
    groups: list[Group],
) -> tuple[dict[int, int], dict[int, str], dict[int, frozenset[int]]]:
    """firm id -> group number, firm id -> external id, group number -> firm ids."""
    where: dict[int, int] = {}
    names: dict[int, str] = {}
    sets: dict[int, frozenset[int]] = {}
    for g in groups:
        ids = [m.firm_id for m in g.members if m.firm_id is not None]
        sets[g.number] = frozenset(ids)
        for m in g.members:
            if m.firm_id is not None:
                where[m.firm_id] = g.number
                names[m.firm_id] = m.external_id or ""
    return where, names, sets


def _delta(a: float, b: float, digits: int = 4) -> dict[str, float]:
    return {"a": round(a, digits), "b": round(b, digits), "delta": round(b - a, digits)}


def _mean_score(groups: list[Group]) -> float:
    scores = [g.score for g in groups if g.score is not None]
    return sum(scores) / len(scores) if scores else 0.0


def _affinity(run: Run) -> float:
    objective = (run.stats or {}).get("objective")
    return float(objective.get("affinity", 0.0)) if isinstance(objective, dict) else 0.0


def _differences(a: Run, b: Run) -> dict[str, dict[str, Any]]:
    left = {**a.params, "filters": a.filters, "mode": a.mode}
    right = {**b.params, "filters": b.filters, "mode": b.mode}
    keys = sorted(set(left) | set(right))
    return {k: {"a": left.get(k), "b": right.get(k)} for k in keys if left.get(k) != right.get(k)}


def compare_runs(db: Session, run_id: int, other_run_id: int) -> dict[str, Any]:
    """Coverage and affinity deltas, unchanged groups, moves, new and dropped firms."""
    a, b = succeeded_run(db, run_id), succeeded_run(db, other_run_id)
    groups_a, groups_b = groups_of(db, a.id), groups_of(db, b.id)
    where_a, names_a, sets_a = _placement(groups_a)
    where_b, names_b, sets_b = _placement(groups_b)
    number_b = {s: n for n, s in sets_b.items()}
    unchanged = [{"a": n, "b": number_b[s]} for n, s in sets_a.items() if s in number_b]
    same = {u["a"] for u in unchanged}
    names = {**names_a, **names_b}
    moved = [
        {"external_id": names[f], "from_group": n, "to_group": where_b[f]}
        for f, n in sorted(where_a.items(), key=lambda fn: names[fn[0]])
        if f in where_b and n not in same
    ]
    stats_a, stats_b = a.stats or {}, b.stats or {}
    return {
        "run_id": a.id,
        "other_run_id": b.id,
        "coverage": _delta(stats_a.get("coverage", 0.0), stats_b.get("coverage", 0.0)),
        "placed": {"a": len(where_a), "b": len(where_b), "delta": len(where_b) - len(where_a)},
        "groups": {"a": len(groups_a), "b": len(groups_b), "delta": len(groups_b) - len(groups_a)},
        "mean_affinity": _delta(_mean_score(groups_a), _mean_score(groups_b)),
        "total_affinity": _delta(_affinity(a), _affinity(b)),
        "unchanged_groups": unchanged,
        "moved": moved,
        "newly_placed": sorted(names[f] for f in where_b if f not in where_a),
        "dropped": sorted(names[f] for f in where_a if f not in where_b),
        "constraint_differences": _differences(a, b),
    }
