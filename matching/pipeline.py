"""``solve_firms``: the one façade from firms to a verified :class:`Report`.

Used by ``kring solve`` and by the service's run executor; the signature is stable::

    solve_firms(firms, competitors, partners, settings, *, progress=None,
                should_stop=None, locked=(), pinned=()) -> Report

Steps: :func:`matching.build.build_instance` -> :func:`matching.solve` ->
:func:`matching.verify.verify` (a violation raises :class:`UnverifiedSolutionError`: a
clustering that breaks a hard constraint is never reported) -> :func:`build_report`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from matching.build import build_instance
from matching.errors import UnverifiedSolutionError
from matching.firms import Firm
from matching.params import ProgressCallback, SolveParams, StopCallback
from matching.report import Report, build_report
from matching.schemes import failed_rules
from matching.settings import RunSettings


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
        The cohort (unique external ids), e.g. from :func:`matching.firms.read_firms_csv`.
    competitors, partners
        Declared pairs of external ids (``sme_a, sme_b``).
    settings
        The run settings; ``settings.to_dict()`` is copied into ``stats["settings"]``.
    progress
        Called now and then with ``(fraction_done, best_objective_so_far)``; must be cheap.
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
    matching.build.UnknownFirmIdError
        When a pair or group names a firm not in ``firms``.
    matching.settings.SettingsError
        When settings cannot be applied (e.g. an unknown eligibility province).
    matching.errors.InvalidInstanceError
        When the cohort is inconsistent (e.g. repeated external ids).
    matching.errors.UnverifiedSolutionError
        When the solver returned a solution with violations (a bug, never an outcome).
    """
    from matching.solve import solve
    from matching.verify import verify

    started = time.perf_counter()
    if not firms:
        return Report((), (), {"firms": 0, "groups": 0, "placed": 0, "coverage": 0.0,
                               "verified": True, "settings": settings.to_dict()})  # fmt: skip
    instance, index = build_instance(
        firms, competitors, partners, settings, locked=locked, pinned=pinned
    )
    built = time.perf_counter()
    params = SolveParams(
        time_limit_s=settings.time_limit_s,
        max_iterations=settings.max_iterations,
        seed=settings.seed,
        progress=progress,
        should_stop=should_stop,
    )
    result = solve(instance, params)
    solved = time.perf_counter()
    violations = [] if result.solution is None else verify(instance, result.solution)
    if violations:
        raise UnverifiedSolutionError(violations)
    extra = {
        "settings": settings.to_dict(),
        "declared_competitor_pairs": len(competitors),
        "inferred_competitor_pairs": len(index.inferred_competitors),
        "partner_pairs": len(partners),
        "max_neighbours": instance.max_neighbours,
        "build_s": round(built - started, 3),
        "solve_s": round(solved - built, 3),
    }
    rules = failed_rules(firms, settings)
    report = build_report(
        firms, instance, result, violations=violations, extra_stats=extra, rules=rules
    )
    report.stats["total_s"] = round(time.perf_counter() - started, 3)
    return report
