"""Hypothesis invariants: solve() output always verifies; planted violations are exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Instance, Solution, SolveParams, evaluate, solve, verify
from matching.core.objective import affinity_of_pairs, group_pair_sums, group_values, pair_graph
from matching.core.problem import GROUP_SCORES
from matching.engines.cpsat import modules
from matching.engines.cpsat.lns import _value
from matching.engines.cpsat.variables import AFFINITY_SCALE
from matching.engines.heuristics import moves, search
from matching.engines.heuristics.search import run_window
from matching.engines.heuristics.window import make_window

BUDGET = SolveParams(time_limit_s=None, max_iterations=60, seed=0)


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    """Small random SME instances: 6-24 firms in a ~1 degree box, random rules."""
    n = draw(st.integers(6, 24))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    min_size = draw(st.integers(2, 4))
    max_size = min_size + draw(st.integers(0, 3))
    n_needs = 4
    needs = tuple(
        tuple(int(t) for t in rng.choice(n_needs, size=int(rng.integers(1, 4)), replace=False))
        for _ in range(n)
    )
    n_forbidden = draw(st.integers(0, n))
    pairs = rng.integers(0, n, size=(n_forbidden, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    theme = draw(st.booleans())
    return Instance(
        n_firms=n,
        min_size=min_size,
        max_size=max_size,
        lats=52.5 + rng.random(n) * 0.9,
        lons=5.5 + rng.random(n) * 1.2,
        max_pair_km=draw(st.sampled_from([30.0, 50.0, 80.0])),
        forbidden=pairs,
        needs=needs,
        n_needs=n_needs,
        employees=rng.integers(1, 250, n),
        digital_levels=rng.integers(1, 5, n),
        theme_required=theme,
        min_theme_share=draw(st.sampled_from([1.0, 0.75])) if theme else 1.0,
        attributes={"division": rng.integers(0, 3, n)},
        options={"max_same_division": draw(st.sampled_from([None, 2, 3]))},
        eligible=rng.random(n) > 0.1,
        group_score=draw(st.sampled_from(GROUP_SCORES)),
    )


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_solve_output_verifies_and_objective_matches(inst: Instance) -> None:
    """Whatever solve returns passes verify, and its objective is the recomputed one."""
    result = solve(inst, BUDGET)
    assert result.solution is not None
    assert verify(inst, result.solution) == []
    value = evaluate(inst, result.solution)
    assert result.placed == value.placed
    assert result.affinity == pytest.approx(value.affinity)
    assert result.placed <= (result.bound_placed or 0)


@SETTINGS
@given(instances(), st.integers(0, 1000))
def test_search_score_matches_evaluate(inst: Instance, seed: int) -> None:
    """The tabu search's incrementally kept best score is the objective of its assignment."""
    firms = np.nonzero(inst.is_placeable)[0].astype(np.int64)
    window = make_window(inst, firms, np.zeros(inst.n_firms, bool))
    n_slots = max(len(firms) // (inst.min_size or 1), 1)
    out = run_window(
        window,
        n_slots=n_slots,
        initial=np.full(len(firms), n_slots, np.int64),
        seed=seed,
        max_iterations=300,
        deadline=None,
    )
    groups = [tuple(int(f) for f in firms[out.slot == g]) for g in range(n_slots)]
    value = evaluate(inst, Solution(inst.n_firms, tuple(g for g in groups if g)))
    assert out.score - out.big * value.placed == pytest.approx(value.affinity, abs=1e-6)


@SETTINGS
@given(instances(), st.integers(0, 10**6))
def test_moving_a_firm_away_yields_exactly_diameter_violations(inst: Instance, pick: int) -> None:
    """Relocating one placed firm 2 degrees north breaks only the radius, for that firm."""
    result = solve(inst, BUDGET)
    assert result.solution is not None
    groups = [g for g in result.solution.groups if len(g) > 1]
    if not groups:
        return
    group = groups[pick % len(groups)]
    firm = group[pick % len(group)]
    assert inst.lats is not None
    lats = inst.lats.copy()
    lats[firm] += 2.0
    moved = dataclasses.replace(inst, lats=lats)
    found = verify(moved, result.solution)
    assert found and {v.kind for v in found} == {"diameter"}
    assert all(firm in v.firms for v in found)


@SETTINGS
@given(instances(), st.integers(0, 10**6))
def test_dropping_a_member_at_min_size_yields_exactly_a_size_violation(
    inst: Instance, pick: int
) -> None:
    """Removing one member of a group at min_size (with the share kept) is a size violation."""
    result = solve(inst, BUDGET)
    assert result.solution is not None
    sol = result.solution
    at_min = [k for k, g in enumerate(sol.groups) if len(g) == inst.min_size]
    if not at_min or inst.theme_required:
        return
    k = at_min[pick % len(at_min)]
    groups = list(sol.groups)
    groups[k] = groups[k][1:]
    found = verify(inst, Solution(sol.n_firms, tuple(groups), sol.themes))
    assert [(v.kind, v.group) for v in found] == [("size", k)]


def _compatible_groups(inst: Instance, rng: np.random.Generator) -> list[list[int]]:
    """Random groups of mutually compatible firms (any size up to 6; feasibility aside)."""
    pg = pair_graph(inst)
    groups: list[list[int]] = []
    for i in rng.permutation(inst.n_firms).tolist():
        mates = set(pg.of(i).tolist())
        for g in groups:
            if len(g) < 6 and all(j in mates for j in g):
                g.append(i)
                break
        else:
            groups.append([i])
    return [sorted(g) for g in groups]


@SETTINGS
@given(instances(), st.integers(0, 1000))
def test_every_engine_scores_random_groups_as_the_objective(inst: Instance, seed: int) -> None:
    """Kernels (tabu's group values), CP-SAT (pair weights, LNS re-score) and the objective
    agree on random groups: one definition of the score."""
    groups = _compatible_groups(inst, np.random.default_rng(seed))
    expected = float(group_values(inst, groups).sum())
    window = make_window(inst, np.arange(inst.n_firms), np.zeros(inst.n_firms, bool))
    a = np.zeros(inst.n_firms, np.int64)
    for g, members in enumerate(groups):
        a[members] = g
    cfg, _ = search._settings(window, len(groups), search.Tuning())
    D, S = search.data_of(window, cfg), search.new_state(window, len(groups), a)
    moves.rebuild(D, S)
    assert moves.total_value(D, S) == pytest.approx(expected, abs=1e-9)
    coef = modules.pair_coefficients(window)
    pair_sums = group_pair_sums(inst, groups)
    for members, value in zip(groups, pair_sums, strict=True):
        scaled = coef[np.ix_(members, members)].sum() / 2 / AFFINITY_SCALE
        assert scaled == pytest.approx(value, abs=len(members) ** 2 / AFFINITY_SCALE)
    assert _value(inst, groups) == (inst.n_firms, pytest.approx(expected))


@SETTINGS
@given(instances())
def test_top_k_kernel_ranks_by_the_objective_affinity(inst: Instance) -> None:
    """With max_neighbours=1 every firm keeps a partner whose objective affinity is its best
    within the radius: the top-k kernel scores pairs as affinity_of_pairs does."""
    inst = dataclasses.replace(inst, forbidden=np.zeros((0, 2), np.int64))
    full, top = pair_graph(inst), pair_graph(dataclasses.replace(inst, max_neighbours=1))
    for i in range(inst.n_firms):
        if len(full.of(i)) == 0:
            continue
        best = full.affinity[full.indptr[i] : full.indptr[i + 1]].max()
        kept = affinity_of_pairs(inst, np.full(len(top.of(i)), i), top.of(i))
        assert kept.max() == pytest.approx(best, abs=1e-9)
