"""The Lagrangian affinity bound (matching.core.bound) is never below any feasible solution."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from matching import Instance, SolveParams, solve
from matching.core.bound import affinity_bound, applies
from matching.core.objective import group_values
from matching.core.solution import Solution
from matching.core.verify import verify
from tests.matching.test_properties import instances


def _packings(
    items: list[int], lo: int, hi: int, optional: bool
) -> Iterator[list[tuple[int, ...]]]:
    """Every way to put ``items`` into groups of ``lo..hi`` (others left out if ``optional``)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    if optional:
        yield from _packings(rest, lo, hi, optional)
    for k in range(lo - 1, hi):
        for mates in itertools.combinations(rest, k):
            left = [x for x in rest if x not in mates]
            for p in _packings(left, lo, hi, optional):
                yield [(first, *mates), *p]


def _optimum(instance: Instance) -> float:
    """The best affinity of any solution that passes the verifier, by enumeration."""
    assert instance.max_size is not None
    best = -np.inf
    for packing in _packings(list(range(instance.n_firms)), instance.min_size or 1,
                             instance.max_size, not instance.require_all):  # fmt: skip
        groups = [list(g) for g in packing]
        solution = Solution.from_groups(instance.n_firms, groups, [None] * len(groups))
        if verify(instance, solution):
            continue
        best = max(best, float(group_values(instance, groups).sum()) if groups else 0.0)
    return best


def _random_matrix_instance(seed: int, score: str) -> Instance:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    lo = int(rng.integers(2, 4))
    hi = int(rng.integers(lo, 5))
    m = rng.normal(0.3, 0.5, (n, n))
    m = (m + m.T) / 2
    np.fill_diagonal(m, 0)
    forbidden = rng.integers(0, n, size=(int(rng.integers(0, 3)), 2))
    forbidden = forbidden[forbidden[:, 0] != forbidden[:, 1]]
    return Instance(n_firms=n, min_size=lo, max_size=hi, affinity_matrix=m, group_score=score,
                    forbidden=forbidden)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize("score", ["pair_sum", "member_mean"])
@pytest.mark.parametrize("seed", range(12))
def test_bound_is_at_least_the_enumerated_optimum(seed: int, score: str) -> None:
    instance = _random_matrix_instance(seed, score)
    best = _optimum(instance)
    bound = affinity_bound(instance, target=best, max_iterations=300)
    assert bound is not None
    assert bound.value >= best
    assert bound.star >= bound.value - 1e-9 * max(abs(bound.star), 1.0)  # never above mu = 0


@pytest.mark.parametrize("seed", range(6))
def test_bound_is_at_least_the_optimum_with_sme_rules(seed: int) -> None:
    """Distance, competitors, eligibility, themes and division caps: all only remove groups."""
    rng = np.random.default_rng(100 + seed)
    n = 7
    instance = Instance(
        n_firms=n, min_size=2, max_size=4, lats=52.5 + rng.random(n) * 0.6,
        lons=5.5 + rng.random(n) * 0.8, max_pair_km=40.0,
        forbidden=np.array([[0, 1], [2, 3]], np.int64),
        needs=tuple(tuple(int(t) for t in rng.choice(4, size=2, replace=False))
                    for _ in range(n)),
        n_needs=4, employees=rng.integers(1, 250, n), digital_levels=rng.integers(1, 5, n),
        partners=np.array([[1, 2]], np.int64), eligible=np.arange(n) != 6,
        group_score="member_mean" if seed % 2 else "pair_sum",
        attributes={"division": rng.integers(0, 2, n)}, options={"max_same_division": 2},
    )  # fmt: skip
    best = _optimum(instance)
    bound = affinity_bound(instance, target=best)
    assert bound is not None and bound.value >= best


def test_locked_groups_count_as_they_are() -> None:
    m = np.full((6, 6), 0.5)
    np.fill_diagonal(m, 0)
    instance = Instance(n_firms=6, min_size=2, max_size=3, affinity_matrix=m,
                        locked_groups=((0, 1, 2),))  # fmt: skip
    bound = affinity_bound(instance)
    assert bound is not None
    # the locked group is worth 3 pairs * 0.5, the rest at most one group of three
    assert bound.value == pytest.approx(3.0, rel=1e-6)
    assert bound.value >= _optimum(instance)


def test_the_subgradient_tightens_the_star_bound() -> None:
    """Firms that all want the same partner: the star bound counts him many times."""
    n = 7
    m = np.full((n, n), 0.0)
    m[0, 1:] = m[1:, 0] = 1.0  # everybody loves firm 0; groups of two
    instance = Instance(n_firms=n, min_size=2, max_size=2, affinity_matrix=m,
                        group_score="pair_sum")  # fmt: skip
    bound = affinity_bound(instance, target=1.0, max_iterations=300)
    assert bound is not None
    assert bound.star == pytest.approx(3.5)  # 0's half (0.5) plus six halves of 0.5
    assert bound.value < 1.2  # the optimum is 1.0: one pair with firm 0
    assert bound.value >= 1.0


def test_no_bound_without_a_largest_group_size() -> None:
    instance = Instance(n_firms=4, weights=np.ones(4, np.int64), n_groups=2, min_weight=1,
                        max_weight=3, require_all=True,
                        affinity_matrix=np.ones((4, 4)))  # fmt: skip
    assert not applies(instance)
    assert affinity_bound(instance) is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_bound_is_at_least_what_solve_returns(instance: Instance) -> None:
    params = SolveParams(time_limit_s=None, max_iterations=60, seed=0)
    result = solve(instance, params)
    bound = affinity_bound(instance, target=result.affinity, max_iterations=30)
    assert bound is not None
    assert bound.value >= result.affinity
    if result.bound is not None:
        assert result.bound >= result.affinity


def test_budget_mode_bound_is_deterministic() -> None:
    from matching.sme.build import build_instance
    from matching.sme.generate import generate_cohort
    from matching.sme.settings import RunSettings

    cohort = generate_cohort(300, seed=4)
    settings_ = RunSettings(purpose="peer", time_limit_s=None, max_iterations=400, seed=4)
    instance, _ = build_instance(cohort.firms, cohort.competitors, cohort.partners, settings_)
    params = SolveParams(time_limit_s=None, max_iterations=400, seed=4)
    first, second = solve(instance, params), solve(instance, params)
    assert first.bound is not None
    assert first.bound == second.bound
    assert first.affinity <= first.bound
    assert 0 < (first.bound - first.affinity) / first.bound < 0.5


def test_capped_pair_graph_keeps_the_bound_valid() -> None:
    """With max_neighbours the dropped pairs become phantom mates: still >= the optimum."""
    rng = np.random.default_rng(7)
    n = 8
    base = Instance(
        n_firms=n, min_size=2, max_size=3, lats=52.5 + rng.random(n) * 0.3,
        lons=5.5 + rng.random(n) * 0.3, max_pair_km=50.0,
        needs=tuple(tuple(int(t) for t in rng.choice(5, size=2, replace=False))
                    for _ in range(n)),
        n_needs=5, employees=rng.integers(1, 250, n), digital_levels=rng.integers(1, 5, n),
        partners=np.array([[0, 5]], np.int64), forbidden=np.array([[1, 2]], np.int64),
        group_score="member_mean",
    )  # fmt: skip
    capped = dataclasses.replace(base, max_neighbours=2)
    best = _optimum(base)
    bound = affinity_bound(capped, target=best)
    assert bound is not None and bound.value >= best


@pytest.mark.parametrize("share", [1.0, 0.75])
@pytest.mark.parametrize("seed", range(6))
def test_bound_with_themes_is_at_least_the_optimum(seed: int, share: float) -> None:
    """Groups need a shared theme (every member with share 1): the bound keeps it and stays
    above the enumerated optimum."""
    rng = np.random.default_rng(300 + seed)
    n = 7
    instance = Instance(
        n_firms=n, min_size=2, max_size=4, lats=52.5 + rng.random(n) * 0.4,
        lons=5.5 + rng.random(n) * 0.5, max_pair_km=50.0,
        needs=tuple(tuple(int(t) for t in rng.choice(4, size=int(rng.integers(1, 3)),
                                                     replace=False)) for _ in range(n)),
        n_needs=4, employees=rng.integers(1, 250, n), digital_levels=rng.integers(1, 5, n),
        theme_required=True, min_theme_share=share,
        allowed_themes=frozenset({0, 1, 2}) if seed % 2 else None,
        group_score="pair_sum" if seed % 3 else "member_mean",
    )  # fmt: skip
    best = _optimum_with_themes(instance)
    bound = affinity_bound(instance, target=best)
    assert bound is not None and bound.value >= best


def _optimum_with_themes(instance: Instance) -> float:
    """Like :func:`_optimum`, trying every theme for every group."""
    from matching.core.constraints import best_theme

    assert instance.max_size is not None
    best = 0.0
    for packing in _packings(list(range(instance.n_firms)), instance.min_size or 1,
                             instance.max_size, True):  # fmt: skip
        groups = [list(g) for g in packing]
        themes = [best_theme(instance, g) for g in groups]
        solution = Solution.from_groups(instance.n_firms, groups, themes)
        if verify(instance, solution):
            continue
        best = max(best, float(group_values(instance, groups).sum()) if groups else 0.0)
    return best


def test_theme_bound_is_tighter_than_without_themes() -> None:
    """Two camps that share no need: with every member needing the theme, nobody may join
    the other camp, and the bound says so."""
    n = 6
    m = np.full((n, n), 1.0)
    np.fill_diagonal(m, 0)
    needs = ((0,), (0,), (0,), (1,), (1,), (2,))
    base = Instance(n_firms=n, min_size=2, max_size=3, affinity_matrix=m, needs=needs,
                    n_needs=3, theme_required=True, min_theme_share=1.0)  # fmt: skip
    bound = affinity_bound(base, max_iterations=0)
    loose = affinity_bound(dataclasses.replace(base, theme_required=False), max_iterations=0)
    assert bound is not None and loose is not None
    # firms 0-2 can form a group of 3 (3 pairs), 3-4 a pair (1); firm 5 has nobody
    assert bound.value == pytest.approx(4.0, rel=1e-6)
    assert loose.value > bound.value
