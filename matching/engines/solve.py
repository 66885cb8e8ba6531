"""``solve(instance, params) -> Result``: construct, search, polish with CP-SAT, verify.

1. Cheap infeasibility checks (``require_all`` with a fixed number of groups).
2. The placeable firms (eligible, not locked) are cut into regional windows
   (:mod:`matching.engines.heuristics.regions`); in each, a greedy construction is improved by
   iterated tabu search (:mod:`matching.engines.heuristics.search`).
   Plain CCP instances (:func:`matching.engines.heuristics.ccp_search.applies`: every firm
   placed into a fixed number of groups with weight bounds, nothing else) go to the
   memetic search of :mod:`matching.engines.heuristics.ccp_search` instead (falling back to the
   windows when it finds no assignment within the bounds).
3. Optionally a CP-SAT large-neighbourhood phase re-optimises a few neighbouring groups
   and nearby unassigned firms at a time (:mod:`matching.engines.cpsat.lns`).  It is skipped when
   every firm must be placed (CCP): there it never beat the tabu search (RanReal240_01,
   20 s tabu then 15 s of LNS: 8 rounds, no improvement), so tabu gets all the time.
4. The solution is verified; a violation the search should have prevented raises
   :class:`~matching.core.errors.UnverifiedSolutionError` (a bug), never a returned solution.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from matching.core import bound as affinity_bound
from matching.core import constraints as c
from matching.core.errors import UnverifiedSolutionError
from matching.core.objective import evaluate, group_pair_sums
from matching.core.params import SolveParams
from matching.core.problem import Instance
from matching.core.progress import Progress, mates_of_assignment, mates_of_groups
from matching.core.result import Result, SolveStatus
from matching.core.solution import Solution
from matching.core.stop import Budget
from matching.core.verify import verify
from matching.engines.heuristics import ccp_search
from matching.engines.heuristics.regions import split_regions
from matching.engines.heuristics.search import run_window
from matching.engines.heuristics.window import Window, make_window

LNS_TIME_SHARE = 0.75
"""Share of the time limit for the tabu search when the CP-SAT phase runs (it gets the rest)."""

LNS_MAX_ROUNDS = 50
ITERATIONS_PER_ROUND = 200
"""In budget mode the CP-SAT phase runs ``max_iterations // 200`` rounds (1 to 50)."""

CCP_ITERATIONS_PER_OFFSPRING = 1000
"""In budget mode the CCP memetic search produces ``max_iterations // 1000`` offspring."""

PROGRESS_EVERY_S = 0.25
"""Least time between two progress reports of the window search (each reads the pairs)."""

BOUND_TIME_SHARE = 0.1
"""Share of the time limit kept for the affinity bound (:mod:`matching.core.bound`)."""

BOUND_ITERATIONS = 150
"""Most subgradient iterations of the bound with a time limit (the clock may stop it first;
at 2,000 peer firms with 2.1 million pair entries an iteration takes ~15 ms and the bound
stops improving after about 100)."""

BOUND_ITERATIONS_BUDGET = 40
"""Subgradient iterations of the bound in budget mode (no clock: the same bound every run)."""

OUTCOME_KINDS = frozenset({"size", "weight", "require_all", "group_count", "pinned"})
"""Violations that mean "no feasible solution found" when the instance demands coverage."""


def _proven_infeasible(instance: Instance) -> bool:
    if not instance.require_all or instance.n_groups is None:
        return False
    assert instance.weights is not None
    p, total, n = instance.n_groups, int(instance.weights.sum()), instance.n_firms
    lo_w, hi_w = instance.min_weight or 0, instance.max_weight
    lo_s, hi_s = instance.min_size or 0, instance.max_size
    return (
        total < p * lo_w
        or (hi_w is not None and total > p * hi_w)
        or n < p * lo_s
        or (hi_s is not None and n > p * hi_s)
    )


def _slots(instance: Instance, m: int, n_pinned: int) -> int:
    if instance.n_groups is not None:
        return max(instance.n_groups - len(instance.locked_groups), 1)
    return max(m // max(instance.min_size or 1, 1), n_pinned, 1)


def _keep_pins_together(
    instance: Instance, windows: list[NDArray[np.int64]]
) -> list[NDArray[np.int64]]:
    """Move every pinned group into the window of its first member."""
    if not instance.pinned_groups or len(windows) == 1:
        return windows
    where = np.full(instance.n_firms, -1, np.int64)
    for k, firms in enumerate(windows):
        where[firms] = k
    for g in instance.pinned_groups:
        where[list(g)] = where[g[0]]
    return [np.nonzero(where == k)[0].astype(np.int64) for k in range(len(windows))]


def _mates(window: Window, slot: NDArray[np.int64], n_slots: int) -> tuple[int, float]:
    return mates_of_assignment(slot, n_slots, window.indptr, window.nbr, window.nbr_aff)


def _locked_mates(instance: Instance) -> tuple[int, float]:
    """Firms in locked groups and the sum of their mean affinity to group mates."""
    groups = [list(g) for g in instance.locked_groups]
    if not groups:
        return 0, 0.0
    sizes = np.array([len(g) for g in groups], np.int64)
    return int(sizes.sum()), mates_of_groups(sizes, group_pair_sums(instance, groups))


class _Tracker:
    """Progress of the window search: the finished windows' groups plus the current best."""

    def __init__(self, instance: Instance, params: SolveParams, budget: Budget) -> None:
        self.params, self.budget = params, budget
        self.placed, self.mates = _locked_mates(instance) if params.progress else (0, 0.0)
        self.last = -np.inf

    def add(self, window: Window, slot: NDArray[np.int64], n_slots: int) -> None:
        """Count a finished window's best assignment."""
        placed, mates = _mates(window, slot, n_slots)
        self.placed, self.mates = self.placed + placed, self.mates + mates

    def chunk(
        self, window: Window, n_slots: int, base: int
    ) -> Callable[[int, NDArray[np.int64] | None], None]:
        """The ``on_chunk`` callback of one window whose search starts at iteration ``base``."""

        def report(done: int, slot: NDArray[np.int64] | None) -> None:
            self.budget.iterations.used = base + done
            if self.params.progress is None or time.monotonic() - self.last < PROGRESS_EVERY_S:
                return  # reading the assignment costs a pass over the pairs: not every chunk
            self.last = time.monotonic()
            placed, mates = (0, 0.0) if slot is None else _mates(window, slot, n_slots)
            fraction = self.budget.fraction_done()
            self.params.progress(Progress.of(fraction, self.placed + placed, self.mates + mates))

        return report


def _search_windows(
    instance: Instance, params: SolveParams, budget: Budget, time_share: float
) -> tuple[list[list[int]], int]:
    placeable = np.nonzero(instance.is_placeable)[0].astype(np.int64)
    pinned = np.zeros(instance.n_firms, bool)
    for g in instance.pinned_groups:
        pinned[list(g)] = True
    windows = _keep_pins_together(instance, split_regions(instance, placeable))
    groups: list[list[int]] = []
    iterations = 0
    tracker = _Tracker(instance, params, budget)
    remaining = len(placeable)
    for firms in windows:
        if params.should_stop is not None and params.should_stop():
            break  # cancelled: the windows not yet constructed stay unassigned
        share = len(firms) / max(remaining, 1)
        remaining -= len(firms)
        window = make_window(instance, firms, pinned)
        local = {int(f): k for k, f in enumerate(firms)}
        in_window = [g for g in instance.pinned_groups if g[0] in local]
        n_slots = _slots(instance, window.m, len(in_window))
        initial = np.full(window.m, n_slots, np.int64)
        for slot, g in enumerate(in_window):
            initial[[local[i] for i in g]] = slot

        out = run_window(
            window,
            n_slots=n_slots,
            initial=initial,
            seed=params.seed,
            max_iterations=budget.iterations.share(share),
            deadline=budget.clock.deadline(share * time_share),
            should_stop=params.should_stop,
            on_chunk=None
            if params.progress is None
            else tracker.chunk(window, n_slots, iterations),
            fixed_groups=instance.n_groups is not None,
        )
        iterations += out.iterations
        budget.iterations.used = iterations
        if params.progress is not None and np.isfinite(out.score):
            tracker.add(window, out.slot, n_slots)
        for slot in range(n_slots):
            members = firms[out.slot == slot]
            if len(members):
                groups.append([int(i) for i in members])
    return groups, iterations


def _search_ccp(instance: Instance, params: SolveParams, budget: Budget) -> list[list[int]] | None:
    offspring = None
    if params.max_iterations is not None:
        offspring = params.max_iterations // CCP_ITERATIONS_PER_OFFSPRING

    def report(best: float, done: int) -> None:
        if params.progress is not None:
            budget.iterations.used = done * CCP_ITERATIONS_PER_OFFSPRING
            placed = instance.n_firms if np.isfinite(best) else 0  # members place everyone
            params.progress(Progress(budget.fraction_done(), placed))

    out = ccp_search.search_ccp(
        instance,
        seed=params.seed,
        max_iterations=offspring,
        deadline=budget.clock.deadline(),
        should_stop=params.should_stop,
        on_best=report,
        workers=params.workers,
    )
    if out is None:
        return None
    budget.iterations.used = out.iterations
    labels = [np.nonzero(out.groups == k)[0] for k in range(int(out.groups.max()) + 1)]
    return [[int(i) for i in members] for members in labels if len(members)]


def _assemble(instance: Instance, groups: list[list[int]]) -> Solution:
    all_groups = [list(g) for g in instance.locked_groups] + groups
    themes = [c.best_theme(instance, g) for g in all_groups]
    return Solution.from_groups(instance.n_firms, all_groups, themes)


def _with_bound(params: SolveParams, bound: int | None) -> SolveParams:
    """``params`` whose progress reports carry ``bound`` as their ``placed_bound``."""
    outer = params.progress
    if outer is None or bound is None:
        return params

    def report(progress: Progress) -> None:
        outer(dataclasses.replace(progress, placed_bound=bound))

    return dataclasses.replace(params, progress=report)


def _affinity_bound(
    instance: Instance, params: SolveParams, found: float, started: float
) -> float | None:
    """The Lagrangian bound on affinity in the time kept for it (fixed iterations in budget
    mode), never below the solution found."""
    if params.time_limit_s is None:
        out = affinity_bound.affinity_bound(
            instance, target=found, max_iterations=BOUND_ITERATIONS_BUDGET
        )
    else:
        deadline = started + max(params.time_limit_s, 0.0)
        out = affinity_bound.affinity_bound(
            instance, target=found, deadline=deadline, max_iterations=BOUND_ITERATIONS
        )
    return None if out is None else max(out.value, found)


def solve(instance: Instance, params: SolveParams | None = None) -> Result:
    """Form groups: maximise firms placed, then total within-group affinity.

    Parameters
    ----------
    instance
        The instance to solve.
    params
        Time/iteration budget, seed, callbacks; defaults to ``SolveParams()``.

    Returns
    -------
    Result
        The best verified solution with status, objective parts, bound and statistics.
        ``solution`` is ``None`` when no feasible solution was found or none exists.

    Raises
    ------
    UnverifiedSolutionError
        If the search produced a solution that breaks a hard constraint (a bug).
    """
    params = params or SolveParams()
    started = time.monotonic()
    bound_placed = c.placement_upper_bound(instance) if params.compute_bound else None
    params = _with_bound(params, bound_placed)
    bounding = params.compute_bound and affinity_bound.applies(instance)
    search_params = params
    if bounding and params.time_limit_s is not None:
        search_params = dataclasses.replace(
            params, time_limit_s=params.time_limit_s * (1.0 - BOUND_TIME_SHARE)
        )
    budget = Budget(search_params)
    if _proven_infeasible(instance):
        return Result(
            None,
            SolveStatus.INFEASIBLE,
            0,
            0.0,
            bound_placed,
            None,
            budget.clock.elapsed_s,
            0,
            params.seed,
        )
    use_lns = params.use_cpsat and not instance.require_all
    ccp_groups = _search_ccp(instance, params, budget) if ccp_search.applies(instance) else None
    if ccp_groups is not None:
        groups, iterations = ccp_groups, budget.iterations.used
    else:
        groups, iterations = _search_windows(
            instance, params, budget, LNS_TIME_SHARE if use_lns else 1.0
        )
    if use_lns:
        from matching.engines.cpsat.lns import improve

        rounds = None
        if params.max_iterations is not None:
            rounds = min(LNS_MAX_ROUNDS, max(1, params.max_iterations // ITERATIONS_PER_ROUND))
        groups, extra = improve(instance, groups, params, budget, rounds)
        iterations += extra
    solution = _assemble(instance, groups)
    violations = verify(instance, solution)
    if violations:
        coverage_rules = instance.require_all or instance.n_groups or instance.pinned_groups
        if coverage_rules and all(v.kind in OUTCOME_KINDS for v in violations):
            return Result(
                None,
                SolveStatus.UNKNOWN,
                0,
                0.0,
                bound_placed,
                None,
                budget.clock.elapsed_s,
                iterations,
                params.seed,
            )
        raise UnverifiedSolutionError(violations)
    value = evaluate(instance, solution)
    status = SolveStatus.FEASIBLE
    bound = _affinity_bound(instance, params, value.affinity, started) if bounding else None
    return Result(
        solution,
        status,
        value.placed,
        value.affinity,
        bound_placed,
        bound,
        time.monotonic() - started,
        iterations,
        params.seed,
    )
