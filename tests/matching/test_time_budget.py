"""solve_firms honours time_limit_s for the whole call, cancellation, and reports progress."""

import subprocess
import sys
import time

import pytest

from matching.core.progress import Progress
from matching.engines.warmup import warm_kernels
from matching.sme.generate import Cohort, generate_cohort
from matching.sme.pipeline import _solver_limit_s, solve_firms
from matching.sme.settings import RunSettings


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    """A 400-firm northern cohort; the kernels are made ready before any clock starts."""
    warm_kernels()
    return generate_cohort(400, seed=3)


def test_time_limit_covers_the_whole_call(cohort: Cohort) -> None:
    """A 1.5 s limit ends the whole solve_firms call (build, search, CP-SAT, verify, report)."""
    settings = RunSettings(purpose="peer", time_limit_s=1.5, seed=1)
    began = time.perf_counter()
    report = solve_firms(cohort.firms, cohort.competitors, (), settings)
    wall = time.perf_counter() - began
    assert report.stats["verified"] and report.stats["placed"] > 0
    assert report.stats["compile_s"] == 0.0
    assert report.stats["total_s"] <= 1.5 + 0.4, report.stats  # 2 shared cores
    assert wall <= 1.5 + 0.7


def test_cancel_ends_a_long_run_quickly_with_a_verified_report(cohort: Cohort) -> None:
    """should_stop turning true ends a 60 s run within about a second, still verified."""
    began = time.perf_counter()
    settings = RunSettings(purpose="peer", time_limit_s=60, seed=1)
    report = solve_firms(
        cohort.firms,
        cohort.competitors,
        (),
        settings,
        should_stop=lambda: time.perf_counter() - began > 0.5,
    )
    assert time.perf_counter() - began < 2.5
    assert report.stats["verified"]


def test_progress_is_the_share_of_the_whole_budget(cohort: Cohort) -> None:
    """Progress comes regularly, rises, stays in [0, 0.99] and ends near the time limit."""
    calls: list[Progress] = []
    settings = RunSettings(purpose="peer", time_limit_s=1.5, seed=1)
    solve_firms(cohort.firms, cohort.competitors, (), settings, progress=calls.append)
    fractions = [p.fraction for p in calls]
    assert len(calls) >= 3
    assert all(0.0 <= f <= 0.99 for f in fractions)
    assert fractions == sorted(fractions)
    assert fractions[0] < 0.5 and fractions[-1] > 0.7
    assert (calls[-1].placed or 0) > 0


def test_solver_limit_keeps_a_reserve_and_a_minimum() -> None:
    """The solver gets the limit minus build time and a reserve, never less than 0.05 s."""
    assert _solver_limit_s(None, 5.0, 1000) is None
    assert _solver_limit_s(10.0, 1.0, 2000) == pytest.approx(10.0 - 1.0 - 1.5)
    assert _solver_limit_s(1.0, 0.0, 100_000) == pytest.approx(0.8)
    assert _solver_limit_s(1.0, 3.0, 10) == 0.05


_SIGNATURES = """
import numba
from matching.engines.heuristics import ccp_search, construct, moves, search, tabu
from matching.core import topk
from matching.engines.warmup import warm_kernels
from matching.sme.generate import generate_cohort
from matching.sme.pipeline import solve_firms
from matching.sme.settings import RunSettings

def count():
    mods = (ccp_search, construct, moves, tabu, topk)
    return sum(len(getattr(m, n).signatures) for m in mods for n in dir(m)
               if isinstance(getattr(m, n), numba.core.registry.CPUDispatcher))

warm_kernels()
before = count()
cohort = generate_cohort(200, seed=5)
for purpose, cap in (("peer", None), ("training", 20)):
    settings = RunSettings(purpose=purpose, seed=1, max_iterations=300, max_neighbours=cap,
                           max_same_division=2)
    solve_firms(cohort.firms, cohort.competitors, cohort.partners, settings)
print(before, count())
"""


@pytest.mark.slow
def test_warm_up_compiles_every_kernel_signature_a_run_uses() -> None:
    """After warm_kernels (hand-built instances only), a cohort run compiles nothing new."""
    out = subprocess.run(
        [sys.executable, "-c", _SIGNATURES], capture_output=True, text=True, check=True
    )
    before, after = map(int, out.stdout.split()[-2:])
    assert before > 0 and after == before
