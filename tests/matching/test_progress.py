"""Progress reports named parts (placed, bound, mean affinity, phase), never a combined score."""

from __future__ import annotations

import numpy as np
import pytest

from matching.core.progress import Phase, Progress, mates_of_assignment, mates_of_groups
from matching.engines.warmup import warm_kernels
from matching.sme.generate import Cohort, generate_cohort
from matching.sme.pipeline import solve_firms
from matching.sme.settings import RunSettings


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    """A 300-firm cohort; the kernels are ready before any clock starts."""
    warm_kernels()
    return generate_cohort(300, seed=4)


def _budget(purpose: str = "training") -> RunSettings:
    return RunSettings(purpose=purpose, time_limit_s=None, max_iterations=600, seed=2)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("purpose", ["training", "peer"])
def test_budget_run_reports_named_parts_in_phase_order(cohort: Cohort, purpose: str) -> None:
    """Phases run warming_up, building, solving, reporting; placed <= placed_bound; the last
    report's placed and mean affinity (member-weighted mean of the groups') are the report's;
    the search's result is the same without a progress callback (budget mode)."""
    seen: list[Progress] = []
    report = solve_firms(
        cohort.firms, cohort.competitors, (), _budget(purpose), progress=seen.append
    )
    phases = [p.phase for p in seen]
    assert phases[:2] == [Phase.WARMING_UP, Phase.BUILDING] and phases[-1] == Phase.REPORTING
    assert set(phases[2:-2]) == {Phase.SOLVING} and len(phases) > 4
    assert phases[-2:] == [Phase.REPORTING] * 2  # the solver's outcome, then the report's bound
    assert seen[-1].placed_bound is not None and seen[-1].placed_bound <= seen[-2].placed_bound  # type: ignore[operator]
    assert seen[0].fraction == 0.0 and seen[0].placed is None
    solving = seen[2:]
    assert all(p.placed is not None and p.placed_bound is not None for p in solving)
    assert all(p.placed <= p.placed_bound <= len(cohort.firms) for p in solving)  # type: ignore[operator]
    assert all(0.0 <= p.fraction <= 1.0 for p in seen)
    last, stats = seen[-1], report.stats
    assert last.placed == stats["placed"] > 0
    assert last.mean_affinity == stats["mean_affinity"] is not None
    assert 0 < stats["mean_affinity"] < 10  # a pair's affinity, not placed * 10**6 + affinity
    weighted = sum(len(g.members) * g.mean_affinity for g in report.groups) / stats["placed"]
    assert stats["mean_affinity"] == pytest.approx(weighted, abs=1e-3)
    assert (
        stats["placed"]
        <= stats["placed_bound"]
        == min(stats["upper_bound_placed"], stats["solver_bound_placed"])
    )
    quiet = solve_firms(cohort.firms, cohort.competitors, (), _budget(purpose))
    assert [g.members for g in quiet.groups] == [g.members for g in report.groups]


def test_mates_of_an_assignment_match_those_of_its_groups() -> None:
    """The neighbour-list count of a member's mean affinity to mates equals the group formula."""
    # firms 0-2 in slot 0, 3-4 in slot 1, 5 unassigned (slot 2); pairs (i, j, affinity)
    pairs = [(0, 1, 1.0), (0, 2, 0.5), (1, 2, 0.25), (3, 4, 2.0), (2, 3, 9.0), (4, 5, 7.0)]
    m, slot = 6, np.array([0, 0, 0, 1, 1, 2])
    rows = [[] for _ in range(m)]  # type: ignore[var-annotated]
    for i, j, a in pairs:
        rows[i].append((j, a))
        rows[j].append((i, a))
    indptr = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    nbr = np.array([j for r in rows for j, _ in r], np.int64)
    aff = np.array([a for r in rows for _, a in r], np.float64)
    placed, mates = mates_of_assignment(slot, 2, indptr, nbr, aff)
    assert placed == 5
    expected = mates_of_groups(np.array([3, 2]), np.array([1.75, 2.0]))
    assert mates == pytest.approx(expected) == pytest.approx(2 * 1.75 / 2 + 2 * 2.0 / 1)
    assert Progress.of(0.5, placed, mates).mean_affinity == pytest.approx(expected / 5, abs=1e-4)
