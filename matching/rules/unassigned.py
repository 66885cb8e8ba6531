"""Why firms stay unassigned, and a cheap valid upper bound on the number placeable.

The reasons come from the registered rules (:mod:`matching.core.registry`), in the order of
their stage and :attr:`~matching.core.registry.Rule.explain_order`; the first that applies
wins:

``firms`` rules (eligibility: ``ineligible``)
    The rule never places the firm.
the ``reach`` rule (distance: ``no_neighbourhood``)
    Even ignoring every pair rule, the firm is not in the ``(min_size-1)``-core of the
    "within ``max_pair_km``" graph over placeable firms: every member of a group of at
    least ``min_size`` firms has at least ``min_size-1`` co-members within reach, all of
    them in the group, so a group always lies inside that core.
``pairs`` rules (reach zones: ``no_reach``, competitors: ``competitors_block``)
    The firm is in that core, but no longer once the pairs this rule (and the pair rules
    before it) keep apart are removed.
``group`` rules (theme: ``no_common_need``)
    What a whole group needs (a shared theme) cannot be had in the remaining core.
``left_over``
    None of the above: the firm could be placed in principle, but only by displacing others.

The bound is ``firms in locked groups + placeable firms with reason left_over or placed``:
every firm with another reason can never be placed, so it is valid.  For large cohorts
whose search graph is capped (``Instance.max_neighbours``), the cores are replaced by the
star test (counts within reach of each unassigned firm, haversine widened by the distance
rule's geodesic screen so the test never wrongly flags a firm), weaker but still valid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from weakref import WeakKeyDictionary

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from geodata.neighbours import count_within
from matching.core import registry
from matching.core.objective import pair_graph
from matching.core.problem import Instance
from matching.core.registry import Rule
from matching.rules.distance import GEODESIC_SCREEN
from matching.rules.explain import Star, kcore

LEFT_OVER = "left_over"
KM_PER_DEGREE = 110.5
"""Fewest km per degree of latitude (a lower bound, so the bounding-box widening is safe)."""
_STAGES = ("firms", "reach", "pairs", "group")
_BLOCKED: WeakKeyDictionary[Instance, dict[tuple[str, float | None], NDArray[np.int64]]] = (
    WeakKeyDictionary()
)


def _blocked(rule: Rule, instance: Instance, radius: float | None) -> NDArray[np.int64]:
    """``rule.blocked_pairs``, computed once per instance (windowed runs ask per window)."""
    known = _BLOCKED.setdefault(instance, {})
    key = (rule.name, radius)
    if key not in known:
        known[key] = np.asarray(rule.blocked_pairs(instance, radius), np.int64).reshape(-1, 2)
    return known[key]


def _explaining() -> list[Rule]:
    """The rules that explain, in the order they are asked."""
    found = [r for r in registry.rules() if r.explains and r.reason]
    return sorted(found, key=lambda r: (_STAGES.index(r.explains), r.explain_order))


def reasons() -> tuple[str, ...]:
    """Every reason code an unassigned firm can get, in order (``left_over`` last)."""
    return (*dict.fromkeys(str(r.reason) for r in _explaining()), LEFT_OVER)


def _reach_km(instance: Instance) -> float | None:
    """The radius within which firms may share a group, widened by the geodesic screen."""
    if instance.max_pair_km is None or instance.lats is None:
        return None
    return instance.max_pair_km * (1 + GEODESIC_SCREEN)


def _excluded(instance: Instance) -> dict[int, str]:
    """Reason per firm that a ``firms`` rule excludes (the first such rule wins)."""
    out: dict[int, str] = {}
    for r in _explaining():
        mask = r.excluded(instance) if r.explains == "firms" else None
        if mask is not None:
            for i in np.flatnonzero(mask).tolist():
                out.setdefault(int(i), str(r.reason))
    return out


def _graph(n: int, pairs: NDArray[np.int64]) -> sp.csr_matrix:
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return sp.csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(n, n))


def _core_reasons(instance: Instance, placeable: NDArray[np.bool_]) -> list[str]:
    """Reason per firm from the graph cores (exact pair graph available)."""
    n, k = instance.n_firms, (instance.min_size or 1) - 1
    pg = pair_graph(instance)
    compat = sp.csr_matrix((np.ones(len(pg.indices), np.int8), pg.indices, pg.indptr), shape=(n, n))
    radius = _reach_km(instance)
    staged = [r for r in _explaining() if r.explains == "pairs"]
    blocked = [_blocked(r, instance, radius) for r in staged]
    graph = compat
    for pairs in blocked:
        graph = graph + _graph(n, pairs)
    reason = [LEFT_OVER] * n
    alive = placeable.copy()

    def drop(now: NDArray[np.bool_], code: str | None) -> None:
        for i in np.flatnonzero(alive & ~now).tolist():
            reason[i] = str(code)

    for r in _explaining():
        if r.explains == "reach":
            now = kcore((graph > 0).astype(np.int8).tocsr(), alive, k)
        elif r.explains == "pairs":
            graph = graph - _graph(n, blocked[staged.index(r)])
            now = kcore((graph > 0).astype(np.int8).tocsr(), alive, k)
        elif r.explains == "group":
            got = r.group_core(instance, compat, alive, k)
            now = alive if got is None else alive & got
        else:
            continue
        drop(now, r.reason)
        alive = now
    for i, code in _excluded(instance).items():
        reason[i] = code
    for i in np.flatnonzero(~placeable).tolist():
        if reason[i] == LEFT_OVER:
            reason[i] = reasons()[0]
    return reason


def _around(
    instance: Instance, pool: NDArray[np.int64], q: NDArray[np.int64], km: float
) -> NDArray[np.int64]:
    """The firms of ``pool`` inside the query firms' bounding box widened by ``km``.

    Only those can lie within ``km`` of a query firm; a window's few left-out firms then
    search a small tree, not the whole cohort.  The widening is generous (1 % and 0.01°).
    """
    assert instance.lats is not None and instance.lons is not None
    lat, lon = instance.lats, instance.lons
    d_lat = km * 1.01 / KM_PER_DEGREE + 0.01
    top = float(np.max(np.abs(lat[q]))) + d_lat
    if top >= 89.0:
        return pool
    d_lon = d_lat / math.cos(math.radians(top))
    keep = (
        (lat[pool] >= lat[q].min() - d_lat)
        & (lat[pool] <= lat[q].max() + d_lat)
        & (lon[pool] >= lon[q].min() - d_lon)
        & (lon[pool] <= lon[q].max() + d_lon)
    )
    out: NDArray[np.int64] = pool[keep]
    return out


def _star_reasons(
    instance: Instance, placeable: NDArray[np.bool_], firms: Sequence[int]
) -> dict[int, str]:
    """Reason for the given firms from counts within reach (capped pair graphs).

    Counts only (:func:`geodata.neighbours.count_within`, no neighbour lists): the placeable
    firms within reach of each firm, less itself and the partners each pair rule keeps
    apart from it; ``group`` rules count what they need among those.
    """
    assert instance.lats is not None and instance.lons is not None
    radius = _reach_km(instance)
    assert radius is not None
    size = instance.min_size or 1
    lat, lon = instance.lats, instance.lons
    asked = np.asarray(list(firms), np.int64)
    excluded = _excluded(instance)
    out = {int(i): excluded.get(int(i), reasons()[0]) for i in asked[~placeable[asked]]}
    q = asked[placeable[asked]]
    if not len(q):
        return out
    pool = _around(instance, np.flatnonzero(placeable), q, radius)
    near = count_within(lat[pool], lon[pool], lat[q], lon[q], radius) - 1  # less itself
    position = np.full(instance.n_firms, -1, np.int64)
    position[q] = np.arange(len(q))
    explaining = _explaining()
    # Later stages first, so that an earlier stage's reason wins where both apply.
    reason = np.full(len(q), LEFT_OVER, dtype=object)
    star = Star(instance, pool, q, radius,
                _ends(_pairs_of(instance, radius), position, placeable), position)  # fmt: skip
    for r in reversed(explaining):
        ok = r.group_star(instance, star) if r.explains == "group" else None
        if ok is not None:
            reason[~ok] = r.reason
    seen = np.zeros((0, 2), np.int64)
    cumulative = []
    for r in (r for r in explaining if r.explains == "pairs"):
        seen = np.unique(np.concatenate([seen, _blocked(r, instance, radius)]), axis=0)
        ends = _ends(seen, position, placeable)
        cumulative.append((r, np.bincount(position[ends[:, 0]], minlength=len(q))))
    for r, blocked in reversed(cumulative):
        reason[near - blocked < size - 1] = r.reason
    for r in (r for r in explaining if r.explains == "reach"):
        reason[near < size - 1] = r.reason
    out.update(zip(q.tolist(), reason.tolist(), strict=True))
    return out


def _pairs_of(instance: Instance, radius: float | None) -> NDArray[np.int64]:
    """Every pair within reach that some pair rule keeps apart, each once."""
    found = [_blocked(r, instance, radius) for r in _explaining() if r.explains == "pairs"]
    if not found:
        return np.zeros((0, 2), np.int64)
    return np.unique(np.concatenate(found).astype(np.int64).reshape(-1, 2), axis=0)


def _ends(
    pairs: NDArray[np.int64],
    position: NDArray[np.int64],
    placeable: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """``(query firm, other)`` rows of ``pairs`` among placeable firms, both directions."""
    pairs = pairs.reshape(-1, 2)
    pairs = pairs[(pairs[:, 0] != pairs[:, 1]) & placeable[pairs].all(axis=1)]
    ends = np.concatenate([pairs, pairs[:, ::-1]])
    out: NDArray[np.int64] = ends[position[ends[:, 0]] >= 0]
    return out


def unassigned_reasons(
    instance: Instance, unassigned: Sequence[int]
) -> tuple[dict[int, str], int, str]:
    """Reason code per unassigned firm and a valid upper bound on the firms placeable.

    Parameters
    ----------
    instance
        The instance that was solved.
    unassigned
        Dense indices of the firms the solution left out.

    Returns
    -------
    (dict, int, str)
        ``{firm: reason}``, the bound, and ``"core"`` or ``"star"`` (the method used).
    """
    placeable = instance.is_placeable
    locked = sum(len(g) for g in instance.locked_groups)
    if instance.max_neighbours is None:
        reason = _core_reasons(instance, placeable)
        bound = locked + sum(1 for i in range(instance.n_firms) if reason[i] == LEFT_OVER)
        return {i: reason[i] for i in unassigned}, bound, "core"
    star = _star_reasons(instance, placeable, unassigned)
    never = sum(1 for i in unassigned if placeable[i] and star[i] != LEFT_OVER)
    bound = locked + int(np.count_nonzero(placeable)) - never
    return star, bound, "star"


def star_upper_bound(instance: Instance, unassigned: Sequence[int]) -> int | None:
    """The star test's valid upper bound on the firms placeable, from the left-out firms only.

    Local (a radius query per left-out firm): it never needs the whole pair graph, so a
    windowed run can afford it at any size.  Weaker than the cores of
    :func:`unassigned_reasons` on uncapped instances, but valid.

    Parameters
    ----------
    instance
        The instance (with coordinates and ``max_pair_km``).
    unassigned
        Dense indices of the firms a solution left out.

    Returns
    -------
    int or None
        Firms in locked groups plus placeable firms, less the left-out firms the star test
        proves can never be placed; ``None`` without coordinates or a reach.
    """
    never = star_unplaceable(instance, unassigned)
    if never is None:
        return None
    locked = sum(len(g) for g in instance.locked_groups)
    return locked + int(np.count_nonzero(instance.is_placeable)) - never


def star_unplaceable(instance: Instance, firms: Sequence[int]) -> int | None:
    """How many of ``firms`` (placeable ones) the star test proves can never be placed.

    Such a firm is left out by every valid solution, so the count over any set of firms
    that contains all of them is the same: a windowed run can count per window (over the
    firms its core left out) and add up.

    Parameters
    ----------
    instance
        The instance (with coordinates and ``max_pair_km``).
    firms
        Dense indices.

    Returns
    -------
    int or None
        The count (reasons ``no_neighbourhood``, ``competitors_block``, ``no_common_need``);
        ``None`` without coordinates or a reach.
    """
    if instance.lats is None or instance.lons is None or instance.max_pair_km is None:
        return None
    placeable = instance.is_placeable
    star = _star_reasons(instance, placeable, firms)
    return sum(1 for i, r in star.items() if placeable[i] and r != LEFT_OVER)


REASONS = reasons()
"""The reason codes of the shipped rules (this module is imported after every rule)."""
