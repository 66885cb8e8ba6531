"""The output of a run: groups with explanations, unassigned firms with reasons, stats.

``Report.to_dict()`` is exactly the ``OUT.json`` of ``kring solve`` (and what the service
stores)::

    {"groups": [{"id", "theme", "theme_label", "members", "size", "diameter_km",
                 "diameter_pair", "centroid", "mean_affinity", "mean_need_jaccard",
                 "shared_needs", "employees", "sectors", "hull", "meeting_place",
                 "explanation", "explanation_parts"}, ...],
     "unassigned": [{"id", "reason", "rule"?}, ...],
     "stats": {...}}

``rule`` is present for ineligible firms: the eligibility rule they fail (e.g.
``"scheme.regions: Leeuwarden is outside Groningen, gemeente GM0114"``).

``meeting_place`` is ``{"place", "postcode", "lat", "lon", "mean_km", "max_km"}`` (km to
0.1): the PC4 centroid with the smallest total travel of the members
(:mod:`matching.sme.meeting`). ``stats`` has ``meeting_km_mean`` (the groups' mean member
distance to their meeting place, averaged over groups) and ``meeting_km_max`` (the largest
distance of any member to its meeting place); both ``None`` without groups.

``mean_need_jaccard`` is the plain Jaccard index of need *sets* averaged over member pairs
(the optimiser's affinity uses a rank-weighted variant, see :mod:`matching.core.objective`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geodata.shapes import centroid, diameter_km, hull_geojson
from matching.core.objective import affinity_of_pairs
from matching.core.problem import Instance
from matching.core.result import Result
from matching.rules.unassigned import unassigned_reasons
from matching.sme.explanation import ExplanationPart, explanation_parts, render_explanation
from matching.sme.explanation import explain as explain
from matching.sme.firms import Firm
from matching.sme.meeting import MeetingPlace, meeting_place
from matching.sme.needs import NEED_CODES, need_by_code
from matching.sme.sbi import load_sbi


@dataclass(frozen=True)
class GroupReport:
    """One group (kring) with everything a coordinator needs to judge it."""

    id: int
    theme: str | None
    members: tuple[str, ...]
    diameter_km: float
    diameter_pair: tuple[str, str]
    centroid: tuple[float, float]
    mean_affinity: float
    mean_need_jaccard: float
    shared_needs: tuple[tuple[str, int], ...]
    employees: tuple[int, int]
    sectors: tuple[tuple[str, int], ...]
    hull: dict[str, Any]
    explanation: str
    explanation_parts: tuple[ExplanationPart, ...] = ()
    meeting_place: MeetingPlace | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the group as JSON-ready data."""
        return {
            "id": self.id,
            "theme": self.theme,
            "theme_label": None if self.theme is None else need_by_code(self.theme).label_nl,
            "members": list(self.members),
            "size": len(self.members),
            "diameter_km": round(self.diameter_km, 3),
            "diameter_pair": list(self.diameter_pair),
            "centroid": {"lat": round(self.centroid[0], 6), "lon": round(self.centroid[1], 6)},
            "mean_affinity": round(self.mean_affinity, 4),
            "mean_need_jaccard": round(self.mean_need_jaccard, 4),
            "shared_needs": [{"need": c, "count": k} for c, k in self.shared_needs],
            "employees": {"min": self.employees[0], "max": self.employees[1]},
            "sectors": [{"section": s, "count": k} for s, k in self.sectors],
            "hull": self.hull,
            "meeting_place": None if self.meeting_place is None else self.meeting_place.to_dict(),
            "explanation": self.explanation,
            "explanation_parts": [dict(p) for p in self.explanation_parts],
        }


@dataclass(frozen=True)
class Report:
    """The full outcome of one run (see the module docstring for ``to_dict``)."""

    groups: tuple[GroupReport, ...]
    unassigned: tuple[tuple[str, str], ...]
    stats: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the OUT.json structure.

        Returns
        -------
        dict
            ``{"groups": [...], "unassigned": [{"id", "reason", "rule"?}], "stats": {...}}``.
        """
        unassigned = []
        for e, r in self.unassigned:
            item = {"id": e, "reason": r}
            if e in self.rules:
                item["rule"] = self.rules[e]
            unassigned.append(item)
        return {
            "groups": [g.to_dict() for g in self.groups],
            "unassigned": unassigned,
            "stats": self.stats,
        }


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def mean_need_jaccard(firms: Sequence[Firm]) -> float:
    """Mean Jaccard index of the need sets over all member pairs (0 for one firm).

    Parameters
    ----------
    firms
        Members of one group.

    Returns
    -------
    float
        In [0, 1].
    """
    sets = [frozenset(f.needs) for f in firms]
    pairs = [(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :]]
    return sum(_jaccard(a, b) for a, b in pairs) / len(pairs) if pairs else 0.0


def group_report(
    gid: int, firms: Sequence[Firm], members: Sequence[int], theme: str | None, instance: Instance
) -> GroupReport:
    """Describe one group.

    Parameters
    ----------
    gid
        Group id (1-based).
    firms
        The whole cohort (dense index order).
    members
        Dense indices of the group.
    theme
        Theme need code or ``None``.
    instance
        The instance (for the affinity of member pairs).

    Returns
    -------
    GroupReport
        Diameter (exact geodesic) with the pair, centroid, hull, meeting place, means and
        explanation.
    """
    group = [firms[i] for i in members]
    lats = np.array([f.lat for f in group])
    lons = np.array([f.lon for f in group])
    km, a, b = diameter_km(lats, lons)
    idx = np.asarray(members, np.int64)
    ia, ib = np.triu_indices(len(idx), k=1)
    aff = affinity_of_pairs(instance, idx[ia], idx[ib]) if len(ia) else np.zeros(0)
    order = {c: t for t, c in enumerate(NEED_CODES)}
    counts = Counter(c for f in group for c in f.needs)
    shared = sorted(((c, k) for c, k in counts.items() if k >= 2),
                    key=lambda ck: (-ck[1], order[ck[0]]))  # fmt: skip
    meeting = meeting_place(lats, lons, [f.postcode for f in group])
    parts = explanation_parts(group, theme, shared, km, meeting)
    sbi = load_sbi()
    sections = Counter(sbi.section_of(f.division).letter for f in group)
    return GroupReport(
        id=gid,
        theme=theme,
        members=tuple(f.external_id for f in group),
        diameter_km=km,
        diameter_pair=(group[a].external_id, group[b].external_id),
        centroid=centroid(lats, lons),
        mean_affinity=float(aff.mean()) if len(aff) else 0.0,
        mean_need_jaccard=mean_need_jaccard(group),
        shared_needs=tuple(shared),
        employees=(min(f.employees for f in group), max(f.employees for f in group)),
        sectors=tuple(sorted(sections.items(), key=lambda sk: (-sk[1], sk[0]))),
        hull=hull_geojson(lats, lons),
        explanation=render_explanation(parts),
        explanation_parts=tuple(parts),
        meeting_place=meeting,
    )


def meeting_stats(groups: Sequence[GroupReport]) -> dict[str, float | None]:
    """How far members travel to their group's meeting place, over all groups.

    Parameters
    ----------
    groups
        The run's groups.

    Returns
    -------
    dict
        ``meeting_km_mean``: the mean over groups of the members' mean km to the meeting
        place; ``meeting_km_max``: the largest member distance to it; km to 0.1, ``None``
        when no group has a meeting place.
    """
    places = [g.meeting_place for g in groups if g.meeting_place is not None]
    if not places:
        return {"meeting_km_mean": None, "meeting_km_max": None}
    return {
        "meeting_km_mean": round(float(np.mean([p.mean_km for p in places])), 1),
        "meeting_km_max": round(max(p.max_km for p in places), 1),
    }


def affinity_gap(affinity: float, bound: float | None) -> float | None:
    """``(bound - affinity) / bound``: how far, at most, the affinity lies below the best
    possible (:mod:`matching.core.bound`); ``None`` without a positive bound."""
    if bound is None or bound <= 0:
        return None
    return round(max(bound - affinity, 0.0) / bound, 4)


def build_report(
    firms: Sequence[Firm],
    instance: Instance,
    result: Result,
    *,
    violations: Sequence[object] = (),
    extra_stats: dict[str, Any] | None = None,
    rules: dict[str, str] | None = None,
) -> Report:
    """Turn a solver result into the run's report.

    Parameters
    ----------
    firms
        The cohort in dense index order (as given to ``build_instance``).
    instance
        The instance that was solved.
    result
        The solver result.
    violations
        What :func:`matching.core.verify.verify` found (must be empty for a valid run).
    extra_stats
        Merged into ``stats`` (e.g. the settings snapshot, timings).
    rules
        External id -> failed eligibility rule (see :func:`matching.sme.schemes.failed_rules`);
        reported with the ineligible firms.

    Returns
    -------
    Report
        Groups ordered as in the solution (ids 1, 2, ...), unassigned firms in index order.
    """
    solution = result.solution
    groups: list[GroupReport] = []
    placed: set[int] = set()
    if solution is not None:
        for k, (members, theme) in enumerate(zip(solution.groups, solution.themes, strict=True)):
            code = None if theme is None else NEED_CODES[theme]
            groups.append(group_report(k + 1, firms, members, code, instance))
            placed.update(members)
    left = [i for i in range(len(firms)) if i not in placed]
    reasons, bound, method = unassigned_reasons(instance, left)
    n = len(firms)
    stats: dict[str, Any] = {
        "firms": n,
        "groups": len(groups),
        "placed": len(placed),
        "coverage": round(len(placed) / n, 4) if n else 0.0,
        "unassigned_by_reason": dict(Counter(reasons[i] for i in left)),
        "upper_bound_placed": bound,
        "upper_bound_method": method,
        "coverage_of_bound": round(len(placed) / bound, 4) if bound else 1.0,
        "objective": {
            "placed": result.placed,
            "affinity": round(result.affinity, 4),
            "group_score": instance.group_score,
        },
        "solver_bound_placed": result.bound_placed,
        "bound_affinity": None if result.bound is None else round(result.bound, 4),
        "gap": affinity_gap(result.affinity, result.bound),
        "status": str(result.status),
        "runtime_s": round(result.runtime_s, 3),
        "iterations": result.iterations,
        "seed": result.seed,
        "verified": len(violations) == 0 and solution is not None,
        "violations": [str(v) for v in violations],
        "mean_need_jaccard": round(
            float(np.mean([g.mean_need_jaccard for g in groups])) if groups else 0.0, 4
        ),
    }
    stats.update(meeting_stats(groups))
    stats.update(extra_stats or {})
    unassigned = tuple((firms[i].external_id, reasons[i]) for i in left)
    left_ids = {e for e, _ in unassigned}
    kept = {e: r for e, r in (rules or {}).items() if e in left_ids}
    return Report(tuple(groups), unassigned, stats, kept)
