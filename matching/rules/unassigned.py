"""Why firms stay unassigned, and a cheap valid upper bound on the number placeable.

Reason codes (checked in this order, the first that applies wins):

``ineligible``
    The firm may not be placed under the run's eligibility rules.
``no_neighbourhood``
    Even ignoring competitors, the firm is not in the ``(min_size-1)``-core of the "within
    ``max_pair_km``" graph over placeable firms: every member of a group of at least
    ``min_size`` firms has at least ``min_size-1`` co-members within reach, all of them in the
    group, so a group always lies inside that core.  In particular this holds for a firm
    with fewer than ``min_size-1`` placeable firms within reach.
``competitors_block``
    The firm is in that core, but no longer once competitor pairs are removed.
``no_common_need``
    Themed purposes with ``min_theme_share == 1``: no allowed theme that the firm has leaves
    it in the core of the compatible firms sharing that theme.  With a lower share, the same
    test on the theme counts of its compatible reach (a necessary condition).
``left_over``
    None of the above: the firm could be placed in principle, but only by displacing others.

The bound is ``firms in locked groups + placeable firms with reason left_over or placed``:
every firm with one of the first four reasons can never be placed, so it is valid.  For
large cohorts whose search graph is capped (``Instance.max_neighbours``), the cores are
replaced by the star test (counts within reach of each unassigned firm, haversine with a
0.5 % margin so the test never wrongly flags a firm), which is weaker but still valid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from geodata.distance import geodesic_km, haversine_km
from geodata.neighbours import count_within
from matching.core.objective import pair_graph
from matching.core.problem import Instance

REASONS = ("ineligible", "no_neighbourhood", "competitors_block", "no_common_need", "left_over")
_MARGIN = 1.005
KM_PER_DEGREE = 110.5
"""Fewest km per degree of latitude (a lower bound, so the bounding-box widening is safe)."""


def _kcore(adj: sp.csr_matrix, alive: NDArray[np.bool_], k: int) -> NDArray[np.bool_]:
    """Vertices of the ``k``-core of the subgraph of ``adj`` induced by ``alive``."""
    alive = alive.copy()
    while True:
        deg = adj @ alive.astype(np.int64)
        drop = alive & (deg < k)
        if not drop.any():
            return alive
        alive &= ~drop


def _theme_matrix(instance: Instance) -> NDArray[np.bool_]:
    has = np.zeros((instance.n_firms, max(instance.n_needs, 1)), bool)
    for i, row in enumerate(instance.needs or ()):
        has[i, list(row)] = True
    return has


def _themes(instance: Instance) -> list[int]:
    if instance.allowed_themes is not None:
        return sorted(instance.allowed_themes)
    return list(range(instance.n_needs))


def _graphs(instance: Instance) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Compatible graph and "within reach" graph (compatible plus near competitor pairs)."""
    n = instance.n_firms
    pg = pair_graph(instance)
    compat = sp.csr_matrix((np.ones(len(pg.indices), np.int8), pg.indices, pg.indptr), shape=(n, n))
    near = []
    if instance.max_pair_km is not None and instance.lats is not None:
        assert instance.lons is not None
        lat, lon = instance.lats, instance.lons
        for a, b in instance.forbidden.tolist():
            if geodesic_km(lat[a], lon[a], lat[b], lon[b]) <= instance.max_pair_km:
                near += [(a, b), (b, a)]
    else:
        near = [(a, b) for a, b in instance.forbidden.tolist()]
        near += [(b, a) for a, b in near]
    if not near:
        return compat, compat
    rows, cols = np.array(near, np.int64).T
    extra = sp.csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(n, n))
    return compat, ((compat + extra) > 0).astype(np.int8).tocsr()


def _core_reasons(instance: Instance, placeable: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Reason index per firm from the graph cores (exact pair graph available)."""
    k = (instance.min_size or 1) - 1
    compat, reach = _graphs(instance)
    in_reach = _kcore(reach, placeable, k)
    in_compat = _kcore(compat, placeable, k)
    in_theme = in_compat.copy()
    if instance.theme_required:
        has = _theme_matrix(instance)
        if instance.min_theme_share >= 1:
            in_theme = np.zeros(instance.n_firms, bool)
            for t in _themes(instance):
                in_theme |= _kcore(compat, in_compat & has[:, t], k)
        else:
            in_theme = in_compat & _star_theme_ok(instance, compat, in_compat, has)
    reason = np.full(instance.n_firms, 4, np.int64)
    reason[~in_theme] = 3
    reason[~in_compat] = 2
    reason[~in_reach] = 1
    reason[~placeable] = 0
    return reason


def _star_theme_ok(
    instance: Instance, compat: sp.csr_matrix, alive: NDArray[np.bool_], has: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Some allowed theme has enough holders among each firm's compatible reach."""
    size = instance.min_size or 1
    need = math.ceil(instance.min_theme_share * size - 1e-9)
    counts = compat @ (has & alive[:, None]).astype(np.int64)  # holders within reach
    ok = np.zeros(instance.n_firms, bool)
    for t in _themes(instance):
        ok |= np.where(has[:, t], counts[:, t] >= need - 1, counts[:, t] >= need)
    return ok


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
) -> dict[int, int]:
    """Reason index for the given firms from counts within reach (capped pair graphs).

    Counts only (:func:`geodata.neighbours.count_within`, no neighbour lists): the placeable
    firms within ``max_pair_km`` (0.5 % margin) of each firm, less itself and its declared
    competitors within reach; with themes, the same counts per theme among its holders.
    """
    assert instance.lats is not None and instance.lons is not None
    assert instance.max_pair_km is not None
    size = instance.min_size or 1
    radius = instance.max_pair_km * _MARGIN
    lat, lon = instance.lats, instance.lons
    asked = np.asarray(list(firms), np.int64)
    out = {int(i): 0 for i in asked[~placeable[asked]]}
    q = asked[placeable[asked]]
    if not len(q):
        return out
    pool = _around(instance, np.flatnonzero(placeable), q, radius)
    near = count_within(lat[pool], lon[pool], lat[q], lon[q], radius) - 1  # less itself
    # declared competitors within reach, each pair once (a competitor cannot be a co-member)
    pairs = np.unique(
        np.sort(np.asarray(instance.forbidden, np.int64).reshape(-1, 2), axis=1), axis=0
    )
    pairs = pairs[(pairs[:, 0] != pairs[:, 1]) & placeable[pairs].all(axis=1)]
    if len(pairs):
        km = haversine_km(lat[pairs[:, 0]], lon[pairs[:, 0]], lat[pairs[:, 1]], lon[pairs[:, 1]])
        pairs = pairs[np.asarray(km) <= radius]
    position = np.full(instance.n_firms, -1, np.int64)
    position[q] = np.arange(len(q))
    ends = np.concatenate([pairs, pairs[:, ::-1]])  # (firm, its competitor) both ways
    ends = ends[position[ends[:, 0]] >= 0]
    blocked = np.bincount(position[ends[:, 0]], minlength=len(q))
    reason = np.full(len(q), 4, np.int64)
    if instance.theme_required:
        has = _theme_matrix(instance)
        need = math.ceil(instance.min_theme_share * size - 1e-9)
        ok = np.zeros(len(q), bool)
        for t in _themes(instance):
            holders = pool[has[pool, t]]
            count = count_within(lat[holders], lon[holders], lat[q], lon[q], radius)
            count -= has[q, t]  # less itself
            rivals = ends[has[ends[:, 1], t]]
            count -= np.bincount(position[rivals[:, 0]], minlength=len(q))
            ok |= count >= np.where(has[q, t], need - 1, need)
        reason[~ok] = 3
    reason[near - blocked < size - 1] = 2
    reason[near < size - 1] = 1
    out.update(zip(q.tolist(), reason.tolist(), strict=True))
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
        bound = locked + int(np.count_nonzero(reason == 4))
        return {i: REASONS[reason[i]] for i in unassigned}, bound, "core"
    star = _star_reasons(instance, placeable, unassigned)
    never = sum(1 for i in unassigned if 0 < star[i] < 4)
    bound = locked + int(np.count_nonzero(placeable)) - never
    return {i: REASONS[r] for i, r in star.items()}, bound, "star"


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
    star = _star_reasons(instance, instance.is_placeable, firms)
    return sum(1 for r in star.values() if 0 < r < 4)
