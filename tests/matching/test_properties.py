"""Hypothesis invariants: solve() output always verifies; planted violations are exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Instance, Solution, SolveParams, evaluate, solve, verify
from matching.core.problem import GROUP_SCORES
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
