"""The CCP memetic search (matching.engines.heuristics.ccp_search)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bench.ccplib import parse_ccp
from matching import SolveParams, solve, verify
from matching.core.problem import Instance
from matching.core.progress import Progress
from matching.core.solution import Solution
from matching.engines.heuristics import ccp_search as ccp
from matching.engines.heuristics.ccp_search import applies, search_ccp

TINY = "4 2 ds 2 5 2 5 W 1 2 3 1\n0 1 5.0\n2 3 4.0\n0 2 1.5\n"


def _instance(n: int, p: int, lo: int, hi: int, weights: list[int], seed: int) -> Instance:
    rng = np.random.default_rng(seed)
    mat = np.round(rng.random((n, n)) * 10, 2)
    mat = np.triu(mat, 1)
    mat = mat + mat.T
    return Instance(
        n_firms=n,
        weights=np.array(weights, np.int64),
        min_weight=lo,
        max_weight=hi,
        n_groups=p,
        require_all=True,
        affinity_matrix=mat,
    )


def _value(mat: np.ndarray, groups: np.ndarray) -> float:
    same = groups[:, None] == groups[None, :]
    return float(np.triu(mat * same, 1).sum())


def test_applies_only_to_plain_ccp() -> None:
    """A CCPLIB instance qualifies; one with a forbidden pair or optional coverage does not."""
    inst = parse_ccp(TINY)
    assert applies(inst)
    mat = inst.affinity_matrix
    with_forbidden = Instance(
        n_firms=4,
        weights=inst.weights,
        min_weight=2,
        max_weight=5,
        n_groups=2,
        require_all=True,
        affinity_matrix=mat,
        forbidden=np.array([[0, 1]], np.int64),
    )
    assert not applies(with_forbidden)
    optional = Instance(n_firms=4, weights=inst.weights, n_groups=2, affinity_matrix=mat)
    assert not applies(optional)
    with pytest.raises(ValueError):
        search_ccp(optional, max_iterations=10)


def test_tiny_instance_reaches_the_paper_optimum() -> None:
    """Groups {0,1} (weight 3) and {2,3} (weight 4) score 5 + 4 = 9."""
    out = search_ccp(parse_ccp(TINY), seed=0, max_iterations=50)
    assert out is not None
    assert out.groups[0] == out.groups[1] != out.groups[2] == out.groups[3]
    assert out.affinity == pytest.approx(9.0)
    assert out.iterations <= 50  # one distinct local optimum: no parents to cross


def test_same_seed_and_budget_give_the_same_groups() -> None:
    """Budget mode is deterministic: the same seed and iteration budget repeat exactly."""
    inst = _instance(30, 3, 25, 45, [1 + (i * 7) % 5 for i in range(30)], seed=3)
    one = search_ccp(inst, seed=5, max_iterations=20, pop_size=4, depth=200)
    two = search_ccp(inst, seed=5, max_iterations=20, pop_size=4, depth=200)
    assert one is not None and two is not None
    assert one.iterations == 20
    assert np.array_equal(one.groups, two.groups)
    assert one.affinity == two.affinity


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(4, 8),
    weights=st.lists(st.integers(1, 4), min_size=8, max_size=8),
    slack=st.integers(0, 3),
    seed=st.integers(0, 1000),
)
def test_small_instances_are_solved_optimally_and_verified(
    n: int, weights: list[int], slack: int, seed: int
) -> None:
    """On 4-8 firms in 2 groups the search finds the brute-force optimum, and it verifies."""
    w = weights[:n]
    half = sum(w) // 2
    lo, hi = max(half - max(w) - slack, 1), half + max(w) + slack
    inst = _instance(n, 2, lo, hi, w, seed)
    assert inst.affinity_matrix is not None
    best = -np.inf
    for bits in itertools.product((0, 1), repeat=n):
        g = np.array(bits)
        loads = [sum(x for x, b in zip(w, bits, strict=True) if b == k) for k in (0, 1)]
        if all(lo <= s <= hi for s in loads) and len(set(bits)) == 2:
            best = max(best, _value(inst.affinity_matrix, g))
    assume(best > -np.inf)
    out = search_ccp(inst, seed=seed, max_iterations=100)
    assume(out is not None)  # the randomised construction may miss a tight feasible packing
    assert out is not None
    assert out.affinity == pytest.approx(best)
    assert out.affinity == pytest.approx(_value(inst.affinity_matrix, out.groups))
    groups = [[int(i) for i in np.nonzero(out.groups == k)[0]] for k in range(2)]
    assert verify(inst, Solution.from_groups(n, groups)) == []


def test_similarity_ignores_group_labels() -> None:
    """A relabelled assignment keeps every firm together (similarity n); a moved firm costs 1."""
    x = np.array([0, 0, 1, 1, 2, 2], np.int64)
    relabelled = np.array([2, 2, 0, 0, 1, 1], np.int64)
    assert ccp._similarity(x, relabelled, 3) == 6
    moved = np.array([2, 0, 0, 0, 1, 1], np.int64)
    assert ccp._similarity(x, moved, 3) == 5


def test_crossover_of_equal_parents_returns_that_partition() -> None:
    """With both parents the same partition, the backbone crossover rebuilds it exactly."""
    inst = _instance(30, 3, 25, 60, [1 + (i * 7) % 5 for i in range(30)], seed=4)
    assert inst.affinity_matrix is not None and inst.weights is not None
    parent = np.repeat(np.arange(3, dtype=np.int64), 10)
    c = inst.affinity_matrix.astype(np.float64)
    w = inst.weights.astype(np.int64)
    cfg = ccp._config(inst, 3, 100)
    a, gain = np.zeros(30, np.int64), np.zeros((30, 3))
    wsum, size = np.zeros(3, np.int64), np.zeros(3, np.int64)
    ccp._seed(0)
    assert ccp._crossover(parent, parent.copy(), a, gain, wsum, size, c, w, cfg, 3)
    assert ccp._similarity(a, parent, 3) == 30
    assert _value(c, a) == pytest.approx(ccp._score(a, gain))


def test_two_populations_are_deterministic_and_never_worse() -> None:
    """workers=2 repeats exactly in budget mode and keeps population 0's result or better."""
    inst = _instance(40, 4, 20, 40, [1 + (i * 3) % 4 for i in range(40)], seed=7)
    kw = {"seed": 2, "max_iterations": 5, "pop_size": 3, "depth": 100}
    one = search_ccp(inst, **kw)
    two = search_ccp(inst, workers=2, **kw)
    again = search_ccp(inst, workers=2, **kw)
    assert one is not None and two is not None and again is not None
    assert two.affinity >= one.affinity
    assert np.array_equal(two.groups, again.groups)


def test_solve_dispatches_plain_ccp_to_the_memetic_search() -> None:
    """solve() on a CCP-like instance returns the memetic search's verified groups."""
    inst = _instance(30, 3, 25, 45, [1 + (i * 7) % 5 for i in range(30)], seed=3)
    result = solve(inst, SolveParams(time_limit_s=None, max_iterations=4000, seed=1))
    direct = search_ccp(inst, seed=1, max_iterations=4)
    assert result.solution is not None and direct is not None
    assert result.affinity == pytest.approx(direct.affinity)
    assert verify(inst, result.solution) == []


def test_two_populations_under_a_deadline_share_and_return_a_valid_assignment() -> None:
    """workers=2 with a deadline (exchange on) returns groups whose value matches the matrix."""
    inst = _instance(60, 4, 22, 38, [1 + (i * 3) % 4 for i in range(60)], seed=8)
    assert inst.affinity_matrix is not None
    start = time.monotonic()
    out = search_ccp(inst, seed=0, deadline=start + 1.0, workers=2, pop_size=3)
    assert 0.9 < time.monotonic() - start < 5.0  # ran to the deadline, then stopped
    assert out is not None
    assert out.affinity == pytest.approx(_value(inst.affinity_matrix, out.groups))
    groups = [[int(i) for i in np.nonzero(out.groups == k)[0]] for k in range(4)]
    assert verify(inst, Solution.from_groups(60, groups)) == []


def test_cancellation_ends_every_population_early() -> None:
    """A should_stop that turns true ends both populations long before the deadline."""
    inst = _instance(60, 4, 22, 38, [1 + (i * 3) % 4 for i in range(60)], seed=9)
    start = time.monotonic()
    out = search_ccp(
        inst,
        seed=0,
        deadline=start + 30.0,
        should_stop=lambda: time.monotonic() > start + 0.5,
        workers=2,
        pop_size=3,
    )
    assert out is not None
    assert 0.5 < time.monotonic() - start < 5.0


def test_solve_reports_progress_on_the_ccp_path() -> None:
    """solve() calls params.progress with a growing fraction and the firms placed so far."""
    inst = _instance(30, 3, 25, 45, [1 + (i * 7) % 5 for i in range(30)], seed=3)
    seen: list[Progress] = []
    params = SolveParams(time_limit_s=None, max_iterations=6000, seed=1, progress=seen.append)
    result = solve(inst, params)
    assert seen
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[0] >= 0.0 and fractions[-1] <= 1.0
    assert seen[-1].placed == result.placed == 30  # every firm, as CCP demands
    assert all(p.placed_bound == 30 and p.placed in (0, 30) for p in seen)


def test_warm_up_leaves_budget_mode_results_unchanged() -> None:
    """Loading the kernels (benchmark warm-up) does not change a seeded budget-mode result."""
    inst = _instance(30, 3, 25, 45, [1 + (i * 7) % 5 for i in range(30)], seed=3)
    before = search_ccp(inst, seed=4, max_iterations=6, pop_size=4, depth=150)
    ccp.warm_up()
    after = search_ccp(inst, seed=4, max_iterations=6, pop_size=4, depth=150)
    assert before is not None and after is not None
    assert np.array_equal(before.groups, after.groups)


def _scan_inputs(
    a: np.ndarray, c: np.ndarray, w: np.ndarray, p: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gain table, group weights and sizes, ``dmat`` and group offsets as in ``_tabu``."""
    n = len(a)
    gain = np.zeros((n, p))
    wsum, size = np.zeros(p, np.int64), np.zeros(p, np.int64)
    ccp._rebuild(a, gain, wsum, size, c, w)
    dmat = (gain - gain[np.arange(n), a][:, None]).T.copy()
    start = np.concatenate([[0], np.cumsum(np.bincount(a, minlength=p))]).astype(np.int64)
    return gain, wsum, size, dmat, start


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), slack=st.integers(0, 4))
def test_one_for_two_scan_finds_the_best_feasible_move_and_its_exact_delta(
    seed: int, slack: int
) -> None:
    """With every firm sampled, the scan returns the best feasible one-for-two swap (brute
    force over all of them) and its delta equals the change of the recomputed objective."""
    rng = np.random.default_rng(seed)
    n, p = 14, 3
    w = rng.integers(1, 5, n).astype(np.int64)
    a = np.repeat(np.arange(p), [5, 5, 4]).astype(np.int64)
    rng.shuffle(a)
    loads = np.bincount(a, weights=w, minlength=p)
    inst = _instance(n, p, int(loads.min()) - slack, int(loads.max()) + slack, w.tolist(), seed)
    assert inst.affinity_matrix is not None
    c = inst.affinity_matrix.astype(np.float64)
    cfg = ccp._config(inst, p, 100)
    cfg[ccp.C_PAIR_SAMPLE] = 1000
    lo, hi = int(cfg[ccp.C_LO_W]), int(cfg[ccp.C_HI_W])
    gain, wsum, size, dmat, start = _scan_inputs(a, c, w, p)
    here = _value(c, a)
    best = -np.inf
    for i in range(n):
        for j, k in itertools.combinations(range(n), 2):
            if a[j] != a[k] or a[j] == a[i]:
                continue
            b = a.copy()
            b[i], b[j], b[k] = a[j], a[i], a[i]
            if all(lo <= np.sum(w[b == g]) <= hi for g in range(p)) and np.all(
                np.bincount(b, minlength=p) >= 1
            ):
                best = max(best, _value(c, b) - here)
    tabu = np.zeros((n, p), np.int64)
    ccp._seed(seed)
    be, delta, _, i, j, k = ccp._best_one_for_two(
        a, gain, wsum, size, c, w, cfg, p, tabu, 0, here, np.inf, dmat, start, -np.inf, 0
    )
    if best == -np.inf:
        assert i == -1
        return
    assert i >= 0 and a[j] == a[k] != a[i]
    assert delta == pytest.approx(best) and be == pytest.approx(best)
    b = a.copy()
    b[i], b[j], b[k] = a[j], a[i], a[i]
    assert _value(c, b) - here == pytest.approx(delta)
