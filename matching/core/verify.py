"""The verifier: an independent re-check of every hard constraint of a solution.

Its own simple code path: it never uses solver state, recomputes distances with the exact
geodesic (haversine only screens pairs clearly inside or outside the limit), and returns
every violation it finds.  A solution from :func:`matching.engines.solve` with violations is a bug.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from matching.core import constraints as c
from matching.core.problem import Instance
from matching.core.solution import Solution
from matching.core.violation import Violation


def _far_pairs(instance: Instance, members: tuple[int, ...]) -> list[tuple[int, int, float]]:
    """Member pairs farther apart than ``max_pair_km`` (exact geodesic where it matters)."""
    from geodata.distance import geodesic_km, haversine_km

    assert instance.max_pair_km is not None and instance.lats is not None
    assert instance.lons is not None
    limit = instance.max_pair_km
    idx = np.asarray(members, np.int64)
    a, b = np.triu_indices(len(idx), k=1)
    ia, ib = idx[a], idx[b]
    lat, lon = instance.lats, instance.lons
    approx = np.asarray(haversine_km(lat[ia], lon[ia], lat[ib], lon[ib]), np.float64)
    out = []
    for k in np.nonzero(approx > limit * (1 - c.GEODESIC_SCREEN))[0]:
        km = float(approx[k])
        if km <= limit * (1 + c.GEODESIC_SCREEN):
            km = float(geodesic_km(lat[ia[k]], lon[ia[k]], lat[ib[k]], lon[ib[k]]))
        if km > limit:
            out.append((int(ia[k]), int(ib[k]), km))
    return out


def check_group(
    instance: Instance,
    k: int | None,
    g: tuple[int, ...],
    theme: int | None,
    forbidden: NDArray[np.int64] | None = None,
) -> list[Violation]:
    """Violations of the per-group rules for one group.

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
    forbidden
        The competitor pairs to check (rows ``(i, j)``); default all of the instance's.
        :func:`verify` passes only the pairs touching a member, found once per solution.

    Returns
    -------
    list of Violation
        Size, weight, diameter, competitor, theme, eligibility and division findings.
    """
    out: list[Violation] = []
    assert instance.weights is not None
    if not c.size_ok(instance, len(g)):
        bounds = f"[{instance.min_size}, {instance.max_size}]"
        out.append(Violation("size", k, g, f"{len(g)} members, allowed {bounds}"))
    weight = int(instance.weights[list(g)].sum()) if g else 0
    if not c.weight_ok(instance, weight):
        bounds = f"[{instance.min_weight}, {instance.max_weight}]"
        out.append(Violation("weight", k, g, f"total weight {weight}, allowed {bounds}"))
    if instance.max_pair_km is not None and len(g) > 1:
        for i, j, km in _far_pairs(instance, g):
            out.append(Violation("diameter", k, (i, j), f"{km:.3f} km > {instance.max_pair_km} km"))
    fb = instance.forbidden if forbidden is None else forbidden
    if len(fb) and len(g) > 1:
        inside = np.isin(fb[:, 0], g) & np.isin(fb[:, 1], g)
        for i, j in fb[inside]:
            out.append(Violation("forbidden", k, (int(i), int(j)), "competitors share a group"))
    if instance.theme_required and not c.theme_ok(instance, g, theme):
        out.append(Violation("theme", k, g, f"theme {theme} not shared by enough members"))
    if instance.eligible is not None:
        bad = tuple(i for i in g if not instance.eligible[i])
        if bad:
            out.append(Violation("ineligible", k, bad, "ineligible firms placed"))
    for d in c.division_excess(instance, g):
        assert instance.divisions is not None
        firms = tuple(i for i in g if instance.divisions[i] == d)
        out.append(Violation("division", k, firms, f"{len(firms)} firms of division {d}"))
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
    touching = _pairs_touching(instance.forbidden, instance.n_firms)
    for k, (g, theme) in enumerate(zip(solution.groups, solution.themes, strict=True)):
        valid = tuple(i for i in g if 0 <= i < instance.n_firms)
        out.extend(check_group(instance, k, valid, theme, touching(valid)))
    return out


def _pairs_touching(
    forbidden: NDArray[np.int64], n: int
) -> Callable[[tuple[int, ...]], NDArray[np.int64]]:
    """A lookup of the forbidden pairs with an end among given firms (indexed once)."""
    pairs = np.asarray(forbidden, np.int64).reshape(-1, 2)
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    rows = np.concatenate([np.arange(len(pairs))] * 2)
    order = np.argsort(ends, kind="stable")
    ends, rows = ends[order], rows[order]
    starts = np.searchsorted(ends, np.arange(n + 1))

    def lookup(members: tuple[int, ...]) -> NDArray[np.int64]:
        if not len(pairs):
            return pairs
        found = [rows[starts[i] : starts[i + 1]] for i in members]
        return pairs[np.unique(np.concatenate(found))] if found else pairs[:0]

    return lookup
