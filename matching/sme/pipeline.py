"""``solve_firms``: the one façade from firms to a verified :class:`Report`.

Used by ``kring solve`` and by the service's run executor; the signature is stable::

    solve_firms(firms, competitors, partners, settings, *, progress=None,
                should_stop=None, locked=(), pinned=()) -> Report

Steps: :func:`matching.sme.build.build_instance` -> :func:`matching.engines.solve` (above
``matching.engines.distributed.WINDOWED_ABOVE`` firms
:func:`matching.engines.distributed.solve_in_windows`,
the single-machine form of the Celery executor's regional windows) ->
:func:`matching.core.verify.verify` (a violation raises :class:`UnverifiedSolutionError`: a
clustering that breaks a hard constraint is never reported) -> :func:`build_report`.

``settings.time_limit_s`` is the budget of the whole call: building the instance counts
against it and a small reserve is kept back for verification and the report, so the
solver gets what is left.  Numba compilation (:func:`matching.engines.warmup.warm_kernels`, only
on a cold cache) happens before the clock starts and is reported as ``stats["compile_s"]``.
Progress (:class:`matching.core.progress.Progress`) is reported as the share of the whole time
limit used, with firms placed, the bound on placed firms, the mean affinity and the
phase.  ``stats["placed_bound"]`` is the one bound a person reads (:func:`placed_bound`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from matching.core.errors import UnverifiedSolutionError
from matching.core.objective import group_pair_sums, pair_graph
from matching.core.params import ProgressCallback, SolveParams, StopCallback
from matching.core.problem import Instance
from matching.core.progress import Phase, Progress, mates_of_groups
from matching.core.result import Result
from matching.core.verify import verify
from matching.engines.distributed import solve_in_windows, windowed
from matching.engines.solve import solve
from matching.engines.warmup import warm_kernels
from matching.sme.build import build_instance
from matching.sme.eligibility import failed_rules
from matching.sme.firms import Firm
from matching.sme.report import Report, build_report
from matching.sme.settings import RunSettings

RESERVE_SHARE = 0.2
"""Most of the time limit kept back for verification and the report."""

RESERVE_S_PER_FIRM = 7e-4
"""Reserve per firm for verification and the report (measured: 0.15 s at 400 firms,
1.3 s at 2,000)."""

MIN_SOLVER_S = 0.05
"""The solver always gets at least this long (it must at least construct a solution)."""


def _solver_limit_s(limit_s: float | None, used_s: float, n_firms: int) -> float | None:
    """The solver's share of a run's ``time_limit_s`` after building and before reporting."""
    if limit_s is None:
        return None
    reserve = min(RESERVE_SHARE * limit_s, 0.1 + RESERVE_S_PER_FIRM * n_firms)
    return max(MIN_SOLVER_S, limit_s - used_s - reserve)


def _whole_run_progress(
    progress: ProgressCallback | None, limit_s: float | None, started: float
) -> ProgressCallback | None:
    """Report progress as the share of the whole run's time limit (not the solver's part)."""
    if progress is None or limit_s is None:
        return progress
    outer = progress

    def report(part: Progress) -> None:
        # the solver's own share is replaced: the run's clock is what the user set
        outer(replace(part, fraction=min(0.99, (time.perf_counter() - started) / limit_s)))

    return report


def placed_bound(stats: dict[str, object]) -> int | None:
    """The tightest valid upper bound on the firms any solution could place.

    The minimum of the report's bound (``upper_bound_placed``: cores of the compatibility
    graph, or the star test on the left-out firms) and the solver's (``solver_bound_placed``:
    the cheap core bound, or the windows' star test); both are valid, so is the smaller.
    """
    bounds = [b for k in ("upper_bound_placed", "solver_bound_placed")
              if isinstance(b := stats.get(k), int)]  # fmt: skip
    return min(bounds) if bounds else None


def _tell(progress: ProgressCallback | None, part: Progress) -> None:
    if progress is not None:
        progress(part)


def mean_affinity(instance: Instance, groups: Sequence[Sequence[int]]) -> float | None:
    """Mean over the placed firms of their mean affinity to their group mates (``None``
    when nobody is placed): the member-weighted mean of the groups' ``mean_affinity``."""
    placed = sum(len(g) for g in groups)
    if not placed:
        return None
    sizes = np.array([len(g) for g in groups], np.int64)
    return round(mates_of_groups(sizes, group_pair_sums(instance, groups)) / placed, 4)


def _reporting(instance: Instance, result: Result, limit_s: float | None, used: float) -> Progress:
    """The solver's outcome as the progress of the verifying and reporting phase."""
    fraction = min(0.99, used / limit_s) if limit_s else 0.99
    groups = [] if result.solution is None else result.solution.groups
    return Progress(fraction, result.placed, result.bound_placed,
                    mean_affinity(instance, groups), Phase.REPORTING)  # fmt: skip


def solve_firms(
    firms: Sequence[Firm],
    competitors: Sequence[tuple[str, str]],
    partners: Sequence[tuple[str, str]],
    settings: RunSettings,
    *,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    locked: Sequence[Sequence[str]] = (),
    pinned: Sequence[Sequence[str]] = (),
) -> Report:
    """Form groups for a cohort and describe the outcome.

    Parameters
    ----------
    firms
        The cohort (unique external ids), e.g. from :func:`matching.sme.firms.read_firms_csv`.
    competitors, partners
        Declared pairs of external ids (``sme_a, sme_b``).
    settings
        The run settings; ``settings.to_dict()`` is copied into ``stats["settings"]``.
    progress
        Called now and then with a :class:`~matching.core.progress.Progress`: the share of
        ``settings.time_limit_s`` used, firms placed, the bound on placed firms, the mean
        affinity and the phase (``warming_up`` while the numba kernels load, ``building``,
        ``solving``, ``reporting``); must be cheap.
    should_stop
        Polled by the search; returning ``True`` ends it early with the best verified
        solution so far (cancellation).
    locked
        Accepted groups (external ids) kept exactly.
    pinned
        Sets of firms that must end up in one group together.

    Returns
    -------
    Report
        Groups, unassigned firms with reasons, and stats (``verified`` is always true).

    Raises
    ------
    matching.sme.build.UnknownFirmIdError
        When a pair or group names a firm not in ``firms``.
    matching.sme.settings.SettingsError
        When settings cannot be applied (e.g. an unknown eligibility province).
    matching.core.errors.InvalidInstanceError
        When the cohort is inconsistent (e.g. repeated external ids).
    matching.core.errors.UnverifiedSolutionError
        When the solver returned a solution with violations (a bug, never an outcome).
    """
    _tell(progress, Progress(0.0, phase=Phase.WARMING_UP))
    compile_s = warm_kernels()  # before the clock: compile time is not the user's budget
    _tell(progress, Progress(0.0, phase=Phase.BUILDING))
    started = time.perf_counter()
    if not firms:
        return Report((), (), {"firms": 0, "groups": 0, "placed": 0, "coverage": 0.0,
                               "verified": True, "settings": settings.to_dict()})  # fmt: skip
    instance, index = build_instance(
        firms, competitors, partners, settings, locked=locked, pinned=pinned
    )
    in_windows = windowed(instance)
    if not in_windows:  # windows build their own pair graphs, never the whole one
        pair_graph(instance)  # the compatible-pair graph is part of the build's time
    built = time.perf_counter()
    params = SolveParams(
        time_limit_s=_solver_limit_s(settings.time_limit_s, built - started, len(firms)),
        max_iterations=settings.max_iterations,
        seed=settings.seed,
        progress=_whole_run_progress(progress, settings.time_limit_s, started),
        should_stop=should_stop,
    )
    result = solve_in_windows(instance, params) if in_windows else solve(instance, params)
    solved = time.perf_counter()
    reporting = _reporting(instance, result, settings.time_limit_s, solved - started)
    _tell(progress, reporting)
    violations = [] if result.solution is None else verify(instance, result.solution)
    if violations:
        raise UnverifiedSolutionError(violations)
    extra = {
        "settings": settings.to_dict(),
        "declared_competitor_pairs": len(competitors),
        "inferred_competitor_pairs": len(index.inferred_competitors),
        "partner_pairs": len(partners),
        "max_neighbours": instance.max_neighbours,
        "compile_s": round(compile_s, 3),
        "build_s": round(built - started, 3),
        "solve_s": round(solved - built, 3),
        "method": "windows" if in_windows else "whole",
    }
    rules = failed_rules(firms, settings)
    report = build_report(
        firms, instance, result, violations=violations, extra_stats=extra, rules=rules
    )
    report.stats["placed_bound"] = bound = placed_bound(report.stats)
    if bound:
        report.stats["coverage_of_bound"] = round(report.stats["placed"] / bound, 4)
    report.stats["mean_affinity"] = reporting.mean_affinity
    _tell(progress, replace(reporting, placed_bound=bound))  # the report's bound is tighter
    report.stats["total_s"] = round(time.perf_counter() - started, 3)
    return report
