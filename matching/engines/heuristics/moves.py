"""Move feasibility and incremental updates on the dense search state (numba kernels).

``D`` (:class:`Data`) holds the window's constant arrays, ``S`` (:class:`State`) the
assignment and its derived tables.  ``m`` firms, ``G`` group slots; slot ``G`` is the pool
of unassigned firms.  ``S.a[i]`` slot of firm ``i``; ``S.size``/``S.wsum`` per slot;
``S.gain[i, g]`` affinity of ``i`` to the members of ``g`` and ``S.good[i, g]`` how many of
them are compatible with ``i`` (the pool column stays 0); ``S.cnt[g, t]`` members of ``g``
with need ``t``; ``S.ccnt[g, c]`` members of ``g`` with count-cap label column ``c``
(``D.lab[i, k]``: firm ``i``'s column for cap ``k``, or -1 when that cap does not count it;
``D.lim[k]``: the cap's limit); ``S.pair[g]`` the sum of pairwise affinity within ``g`` (0
for the pool).

A group's value is its pair sum, or with ``cfg.mean`` (the ``member_mean`` group score of
:mod:`matching.core.objective`) its pair sum times ``2 / (size - 1)``: :func:`group_value`,
compiled from :func:`matching.core.terms.group_value` (the objective's own definition).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from numba import njit

from matching.core import terms


class Config(NamedTuple):
    """Integer settings of a window search (``D.cfg``).

    ``relax``: weight bounds become a penalty; ``fixed_groups``: the number of groups is fixed
    (groups may not be dissolved); ``mean``: groups are scored ``member_mean`` (pair sum times
    ``2 / (size - 1)``); ``n_slots``: the number of group slots ``G`` (slot ``G`` is the pool).
    """

    min_size: int
    max_size: int
    min_weight: int
    max_weight: int
    themed: int
    require_all: int
    n_slots: int
    relax: int
    fixed_groups: int
    mean: int


class Data(NamedTuple):
    """Constant window arrays (see :class:`matching.engines.heuristics.window.Window`)."""

    w: Any
    has: Any
    lab: Any
    lim: Any
    indptr: Any
    nbr: Any
    nbr_aff: Any
    aff: Any
    compat: Any
    fixed: Any
    theme_ok: Any
    req: Any
    cfg: Config


class State(NamedTuple):
    """Mutable search state; every table is derived from ``a`` (see :func:`rebuild`)."""

    a: Any
    size: Any
    wsum: Any
    gain: Any
    good: Any
    cnt: Any
    ccnt: Any
    pair: Any


group_value = njit(inline="always")(terms.group_value)
"""Value of a group with pair sum ``pair`` and ``size`` members (:mod:`matching.core.terms`)."""

pair_factor = njit(inline="always")(terms.pair_weight)
"""How much one unit of pair sum is worth in a group of ``size`` (size unchanged)."""


@njit(cache=True)
def total_value(D, S):  # type: ignore[no-untyped-def]
    """Sum of the group values from the maintained pair sums ``S.pair``."""
    mean = D.cfg.mean != 0
    total = 0.0
    for g in range(D.cfg.n_slots):
        if S.size[g] > 0:
            total += group_value(S.pair[g], S.size[g], mean)
    return total


@njit(cache=True)
def rebuild(D, S):  # type: ignore[no-untyped-def]
    """Recompute every derived table of ``S`` from the assignment ``S.a``."""
    G = D.cfg.n_slots
    S.size[:] = 0
    S.wsum[:] = 0
    S.gain[:] = 0.0
    S.good[:] = 0
    S.cnt[:] = 0
    S.ccnt[:] = 0
    S.pair[:] = 0.0
    for i in range(S.a.shape[0]):
        g = S.a[i]
        S.size[g] += 1
        S.wsum[g] += D.w[i]
        S.cnt[g] += D.has[i]
        count_in(S.ccnt, D.lab, i, g, 1)
        if g == G:
            continue
        for p in range(D.indptr[i], D.indptr[i + 1]):
            k = D.nbr[p]
            S.gain[k, g] += D.nbr_aff[p]
            S.good[k, g] += 1
    for i in range(S.a.shape[0]):
        if S.a[i] != G:
            S.pair[S.a[i]] += 0.5 * S.gain[i, S.a[i]]


@njit(cache=True, inline="always")
def count_in(ccnt, lab, i, g, step):  # type: ignore[no-untyped-def]
    """Add ``step`` to slot ``g``'s count of each cap label of firm ``i``."""
    for k in range(lab.shape[1]):
        col = lab[i, k]
        if col >= 0:
            ccnt[g, col] += step


@njit(cache=True, inline="always")
def caps_allow(ccnt, lab, lim, x, y, g):  # type: ignore[no-untyped-def]
    """Whether every count cap holds when ``x`` joins slot ``g`` and ``y`` (or -1) leaves it."""
    for k in range(lab.shape[1]):
        col = lab[x, k]
        if col < 0:
            continue
        c = ccnt[g, col] + 1
        if y >= 0 and lab[y, k] == col:
            c -= 1
        if c > lim[k]:
            return False
    return True


@njit(cache=True, inline="always")
def theme_fits(cnt, has, theme_ok, req, g, add, rem, new_size):  # type: ignore[no-untyped-def]
    """Whether some allowed theme keeps enough members after adding ``add``/removing ``rem``."""
    need = req[new_size]
    if need == 0:
        return True
    for t in range(cnt.shape[1]):
        if theme_ok[t] == 0:
            continue
        c = cnt[g, t]
        if add >= 0:
            c += has[add, t]
        if rem >= 0:
            c -= has[rem, t]
        if c >= need:
            return True
    return False


@njit(cache=True, inline="always")
def excess(wt, cfg):  # type: ignore[no-untyped-def]
    """How far a group weight ``wt`` lies outside ``[min_weight, max_weight]``."""
    if wt < cfg.min_weight:
        return cfg.min_weight - wt
    if wt > cfg.max_weight:
        return wt - cfg.max_weight
    return 0


@njit(cache=True)
def total_excess(D, S):  # type: ignore[no-untyped-def]
    """Summed weight-bound excess over all non-empty groups."""
    v = 0
    for g in range(D.cfg.n_slots):
        if S.size[g] > 0:
            v += excess(S.wsum[g], D.cfg)
    return v


# The hot scan (tabu.best_move) unpacks D and S once and calls these array forms: taking an
# array out of a NamedTuple inside the inner loop costs reference counting (measured: the
# scan ran 20-35 % slower when its checks read D and S directly).


@njit(cache=True, inline="always")
def leave_ok(i, g, size, wsum, cnt, w, has, theme_ok, req, cfg):  # type: ignore[no-untyped-def]
    """Array form of :func:`can_leave` (``g``: ``i``'s slot)."""
    if g == cfg.n_slots:
        return True
    s = size[g] - 1
    if s < cfg.min_size or (cfg.relax == 0 and wsum[g] - w[i] < cfg.min_weight):
        return False
    return cfg.themed == 0 or theme_fits(cnt, has, theme_ok, req, g, -1, i, s)


@njit(cache=True, inline="always")
def join_ok(i, g, size, wsum, good, cnt, ccnt, w, has, lab, lim, theme_ok, req, cfg):  # type: ignore[no-untyped-def]
    """Array form of :func:`can_join`."""
    if g == cfg.n_slots:
        return cfg.require_all == 0
    s = size[g]
    if s == 0 or s + 1 > cfg.max_size:
        return False
    if cfg.relax == 0 and wsum[g] + w[i] > cfg.max_weight:
        return False
    if good[i, g] != s or not caps_allow(ccnt, lab, lim, i, -1, g):
        return False
    return cfg.themed == 0 or theme_fits(cnt, has, theme_ok, req, g, i, -1, s + 1)


@njit(cache=True, inline="always")
def swap_in_ok(x, y, g, size, wsum, good, cnt, ccnt, w, has, lab, lim, compat, theme_ok, req, cfg):  # type: ignore[no-untyped-def]
    """Array form of :func:`replace_ok` (``g``: ``y``'s slot)."""
    if g == cfg.n_slots:
        return cfg.require_all == 0
    s = size[g]
    wt = wsum[g] - w[y] + w[x]
    if cfg.relax == 0 and (wt < cfg.min_weight or wt > cfg.max_weight):
        return False
    if good[x, g] - compat[x, y] != s - 1:
        return False
    if not caps_allow(ccnt, lab, lim, x, y, g):
        return False
    return cfg.themed == 0 or theme_fits(cnt, has, theme_ok, req, g, x, y, s)


@njit(cache=True)
def can_leave(D, S, i):  # type: ignore[no-untyped-def]
    """Whether firm ``i`` may leave its slot (size, weight and theme of what remains)."""
    return leave_ok(i, S.a[i], S.size, S.wsum, S.cnt, D.w, D.has, D.theme_ok, D.req, D.cfg)


@njit(cache=True)
def can_join(D, S, i, g):  # type: ignore[no-untyped-def]
    """Whether firm ``i`` may join the non-empty slot ``g`` (or the pool)."""
    return join_ok(
        i, g, S.size, S.wsum, S.good, S.cnt, S.ccnt, D.w, D.has, D.lab, D.lim, D.theme_ok,
        D.req, D.cfg,
    )  # fmt: skip


@njit(cache=True)
def replace_ok(D, S, x, y):  # type: ignore[no-untyped-def]
    """Whether ``x`` may take the place of ``y`` in ``y``'s slot (``y`` leaves, ``x`` joins)."""
    return swap_in_ok(
        x, y, S.a[y], S.size, S.wsum, S.good, S.cnt, S.ccnt, D.w, D.has, D.lab, D.lim,
        D.compat, D.theme_ok, D.req, D.cfg,
    )  # fmt: skip


@njit(cache=True)
def move(D, S, i, g2):  # type: ignore[no-untyped-def]
    """Move firm ``i`` from its slot to slot ``g2`` and update every table incrementally."""
    G = D.cfg.n_slots
    g1 = S.a[i]
    if g1 != G:
        S.pair[g1] -= S.gain[i, g1]
    if g2 != G:
        S.pair[g2] += S.gain[i, g2]
    S.a[i] = g2
    S.size[g1] -= 1
    S.size[g2] += 1
    S.wsum[g1] -= D.w[i]
    S.wsum[g2] += D.w[i]
    S.cnt[g1] -= D.has[i]
    S.cnt[g2] += D.has[i]
    count_in(S.ccnt, D.lab, i, g1, -1)
    count_in(S.ccnt, D.lab, i, g2, 1)
    for p in range(D.indptr[i], D.indptr[i + 1]):
        k = D.nbr[p]
        v = D.nbr_aff[p]
        if g1 != G:
            S.gain[k, g1] -= v
            S.good[k, g1] -= 1
        if g2 != G:
            S.gain[k, g2] += v
            S.good[k, g2] += 1
