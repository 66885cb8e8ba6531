"""solve() on instances solvable on paper: exact groups, scores, determinism, budgets."""

from __future__ import annotations

import numpy as np
import pytest

from matching import AffinityWeights, Instance, SolveParams, SolveStatus, evaluate, solve, verify

GRONINGEN = (53.2194, 6.5665)
ASSEN = (52.9925, 6.5649)
LEEUWARDEN = (53.2012, 5.7999)  # ~51 km from Groningen, ~59 km from Assen
NEED_ONLY = AffinityWeights(need=1.0, size=0.0, digital=0.0, partner=0.0)
BUDGET = SolveParams(time_limit_s=None, max_iterations=300, seed=0)


def two_towns(**overrides: object) -> Instance:
    """Firms 0-3 in Groningen (need 0), 4-7 in Assen (need 1), firm 8 in Leeuwarden."""
    lats, lons = [], []
    for k in range(9):
        town = GRONINGEN if k < 4 else ASSEN if k < 8 else LEEUWARDEN
        lats.append(town[0] + 0.003 * (k % 4))
        lons.append(town[1] + 0.004 * (k % 3))
    fields: dict[str, object] = {
        "n_firms": 9,
        "min_size": 4,
        "max_size": 4,
        "lats": np.array(lats),
        "lons": np.array(lons),
        "max_pair_km": 50.0,
        "needs": ((0,),) * 4 + ((1,),) * 4 + ((0,),),
        "n_needs": 2,
        "affinity_weights": NEED_ONLY,
    }
    fields.update(overrides)
    return Instance(**fields)  # type: ignore[arg-type]


def test_two_towns_groups_by_need_and_leaves_far_firm_out() -> None:
    """Each town forms its own group; the firm 51 km away stays unassigned."""
    result = solve(two_towns(), BUDGET)
    assert result.status is SolveStatus.FEASIBLE
    assert result.solution is not None
    assert result.solution.groups == ((0, 1, 2, 3), (4, 5, 6, 7))
    assert result.solution.unassigned == (8,)
    assert result.placed == 8
    assert result.affinity == pytest.approx(12.0)  # 2 groups x 6 pairs x Jaccard 1
    assert result.bound_placed == 8


def test_themes_are_recorded_per_group() -> None:
    """With themes required each group carries the need all its members share."""
    result = solve(two_towns(theme_required=True), BUDGET)
    assert result.solution is not None
    assert result.solution.themes == (0, 1)


def test_competitors_are_split_at_the_cost_of_affinity() -> None:
    """Forbidding 0-1 with groups of 4-5 puts them apart, mixing towns as needed."""
    inst = two_towns(forbidden=[[0, 1]], min_size=4, max_size=5)
    result = solve(inst, BUDGET)
    assert result.solution is not None
    assert verify(inst, result.solution) == []
    assert result.placed == 8
    of = result.solution.group_of()
    assert of[0] != of[1]
    # best: {0,2,3,x} + {1,...}: one Groningen pair set split; 4+4 firms, each group mixes
    assert result.affinity == pytest.approx(evaluate(inst, result.solution).affinity)


def test_same_seed_and_budget_give_the_same_solution() -> None:
    """Budget mode is deterministic for a seed."""
    inst = two_towns(min_size=2, max_size=3)
    first = solve(inst, BUDGET)
    second = solve(inst, BUDGET)
    assert first.solution == second.solution
    assert first.iterations == second.iterations >= 300


def test_ineligible_and_locked_firms_are_respected() -> None:
    """Ineligible firms are never placed; a locked group is kept exactly."""
    eligible = np.ones(9, bool)
    eligible[7] = False
    inst = two_towns(min_size=3, eligible=eligible, locked_groups=((0, 1, 4, 5),))
    result = solve(inst, BUDGET)
    assert result.solution is not None
    assert (0, 1, 4, 5) in result.solution.groups
    assert 7 in result.solution.unassigned
    assert verify(inst, result.solution) == []


def test_infeasible_capacity_is_reported_not_raised() -> None:
    """Total weight beyond p * max_weight with require_all is proven infeasible."""
    inst = Instance(
        n_firms=4, weights=np.array([5, 5, 5, 5]), max_weight=6, n_groups=2, require_all=True
    )
    result = solve(inst, BUDGET)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.solution is None


def test_pinned_firms_end_up_together() -> None:
    """Firms pinned together share a group even across towns (groups of 4-5)."""
    inst = two_towns(pinned_groups=((0, 4),), min_size=4, max_size=5)
    result = solve(inst, BUDGET)
    assert result.solution is not None
    of = result.solution.group_of()
    assert of[0] == of[4]
    assert result.placed == 8
    assert verify(inst, result.solution) == []


def _two_pairs(group_score: str) -> Instance:
    """Two close pairs (affinity 1 within, 0.3 across), groups of 2-4 firms."""
    mat = np.full((4, 4), 0.3)
    mat[0, 1] = mat[1, 0] = mat[2, 3] = mat[3, 2] = 1.0
    np.fill_diagonal(mat, 0.0)
    return Instance(n_firms=4, min_size=2, max_size=4, affinity_matrix=mat, group_score=group_score)  # type: ignore[arg-type]


def test_pair_sum_fills_groups_member_mean_keeps_close_pairs() -> None:
    """pair_sum: one group of 4 (2 + 4 x 0.3 = 3.2 > 2); member_mean: two pairs (4 > 2.13)."""
    params = SolveParams(time_limit_s=None, max_iterations=200, seed=0, use_cpsat=False)
    full = solve(_two_pairs("pair_sum"), params)
    assert full.solution is not None and full.solution.groups == ((0, 1, 2, 3),)
    assert full.affinity == pytest.approx(3.2)
    pairs = solve(_two_pairs("member_mean"), params)
    assert pairs.solution is not None
    assert sorted(pairs.solution.groups) == [(0, 1), (2, 3)]
    assert pairs.affinity == pytest.approx(4.0)
