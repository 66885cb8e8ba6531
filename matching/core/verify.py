"""The verifier: an independent re-check of every hard constraint of a solution.

Its own simple code path: it never uses solver state.  It checks the structure of a
solution here (firms in range, placed once, required counts, locked and pinned groups) and
asks every registered rule (:func:`matching.core.registry.rules`) to check each group from
the raw data (the distance rule with the exact geodesic), returning every violation
found.  A solution from :func:`matching.engines.solve` with violations is a bug.
"""

from __future__ import annotations

from matching.core import registry
from matching.core.problem import Instance
from matching.core.solution import Solution
from matching.core.violation import Violation as Violation  # re-exported: its old home


def check_group(
    instance: Instance, k: int | None, g: tuple[int, ...], theme: int | None
) -> list[Violation]:
    """Violations of every registered rule by one group.

    Parameters
    ----------
    instance
        The instance.
    k
        Group index to report (``None`` for a candidate group not yet in a solution).
    g
        Member firms (valid indices).
    theme
        The group's theme (ignored unless themes are required).

    Returns
    -------
    list of Violation
        What each rule's own check finds (size, weight, distance, competitors, theme,
        eligibility, caps, reach...), in registration order.
    """
    out: list[Violation] = []
    for rule in registry.rules():
        out.extend(rule.check(instance, k, g, theme))
    return out


def _check_global(instance: Instance, solution: Solution) -> list[Violation]:
    out: list[Violation] = []
    n = instance.n_firms
    count: dict[int, int] = {}
    for k, g in enumerate(solution.groups):
        for i in g:
            if not 0 <= i < n:
                out.append(Violation("unknown_firm", k, (i,), f"firm {i} not in 0..{n - 1}"))
            count[i] = count.get(i, 0) + 1
    dups = tuple(sorted(i for i, m in count.items() if m > 1))
    if dups:
        out.append(Violation("duplicate", None, dups, f"{len(dups)} firms placed twice"))
    if instance.require_all:
        missing = tuple(i for i in range(n) if i not in count)
        if missing:
            out.append(Violation("require_all", None, missing, f"{len(missing)} firms unplaced"))
    if instance.n_groups is not None and len(solution.groups) != instance.n_groups:
        detail = f"{len(solution.groups)} groups, required {instance.n_groups}"
        out.append(Violation("group_count", None, (), detail))
    groups = {tuple(sorted(g)) for g in solution.groups}
    for g in instance.locked_groups:
        if g not in groups:
            out.append(Violation("locked", None, g, "locked group not kept exactly"))
    of = solution.group_of()
    for g in instance.pinned_groups:
        if len({of.get(i, -1) for i in g}) != 1 or of.get(g[0], -1) < 0:
            out.append(Violation("pinned", None, g, "pinned firms not together in one group"))
    return out


def verify(instance: Instance, solution: Solution) -> list[Violation]:
    """Check every hard constraint of ``solution`` against ``instance``.

    Parameters
    ----------
    instance
        The instance.
    solution
        The solution to check.

    Returns
    -------
    list of Violation
        Empty when the solution is valid.
    """
    if solution.n_firms != instance.n_firms or len(solution.themes) != len(solution.groups):
        detail = f"solution for {solution.n_firms} firms, instance has {instance.n_firms}"
        return [Violation("shape", None, (), detail)]
    out = _check_global(instance, solution)
    for k, (g, theme) in enumerate(zip(solution.groups, solution.themes, strict=True)):
        valid = tuple(i for i in g if 0 <= i < instance.n_firms)
        out.extend(check_group(instance, k, valid, theme))
    return out
