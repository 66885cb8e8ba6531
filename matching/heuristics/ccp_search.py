"""Iterated local search for capacitated clustering (the CCPLIB case), in numba.

Applies to instances where every firm must be placed into exactly ``n_groups`` groups
with weight (and optionally size) bounds and an explicit affinity matrix, and nothing
else: no distances, competitors, themes, eligibility, divisions, locked or pinned
groups (:func:`applies`).  The method follows the variable-neighbourhood / iterated
local search line for the CCP (Lai & Hao 2016; Brimberg et al. 2019):

* a gain table ``gain[i, k]`` (sum of ``c[i, j]`` over the members ``j`` of group ``k``)
  gives every move's delta in O(1) and is updated in O(n) per applied move;
* a first-improvement descent over *relocate* (best target group for firm ``i``),
  *swap* (best partner ``j`` for firm ``i``) and a sampled *2-1 exchange* (two firms of
  ``g2`` against one of ``g1``), in a random firm order;
* a shake of ``k`` random feasible swaps/relocations from the current local optimum,
  ``k`` growing while shakes fail (VNS); a new local optimum is accepted when it is not
  worse than the current one by more than a small share of the best value, and the
  search returns to the best solution after a number of non-improving shakes.

Deterministic for a seed and an iteration budget (one iteration = one shake + descent);
a time limit is checked between chunks of iterations.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from matching.problem import Instance

CHUNK = 64
"""Iterations per numba call between time/cancellation checks."""

# st: search state persisted between chunks
S_CUR, S_BEST, S_K, S_FAILS, S_DONE, S_LAM = range(6)
# cfg: integer settings
C_LO_W, C_HI_W, C_LO_S, C_HI_S, C_KMIN, C_KMAX, C_RESET, C_PAIRS = range(8)
EPS = 1e-9
HARD = 1e12
"""Penalty per unit of weight excess that makes the bounds effectively hard."""


@dataclass(frozen=True)
class CcpOutcome:
    """The best assignment found by :func:`search_ccp`.

    Attributes
    ----------
    groups
        ``groups[i]`` is the group (0 … n_groups-1) of firm ``i``.
    affinity
        Sum of within-group pairwise affinity (each pair once).
    iterations
        Shake-and-descent iterations done.
    """

    groups: NDArray[np.int64]
    affinity: float
    iterations: int


def applies(instance: Instance) -> bool:
    """Whether ``instance`` is a plain CCP that :func:`search_ccp` handles exactly.

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    bool
        True when every firm must be placed into ``n_groups`` groups, the affinity is an
        explicit matrix and only size and weight bounds apply.
    """
    eligible = instance.eligible
    return bool(
        instance.require_all
        and instance.n_groups is not None
        and instance.affinity_matrix is not None
        and instance.max_pair_km is None
        and len(instance.forbidden) == 0
        and len(instance.partners) == 0
        and not instance.theme_required
        and instance.allowed_themes is None
        and instance.max_same_division is None
        and not instance.locked_groups
        and not instance.pinned_groups
        and (eligible is None or bool(np.all(eligible)))
    )


@njit(cache=True)
def _seed(seed):  # type: ignore[no-untyped-def]
    np.random.seed(seed)


@njit(cache=True)
def _move(a, gain, wsum, size, c, w, i, g2):  # type: ignore[no-untyped-def]
    g1 = a[i]
    row = c[i]
    for u in range(a.shape[0]):
        gain[u, g1] -= row[u]
        gain[u, g2] += row[u]
    wsum[g1] -= w[i]
    wsum[g2] += w[i]
    size[g1] -= 1
    size[g2] += 1
    a[i] = g2


@njit(cache=True)
def _fits(wsum_new, size_new, cfg):  # type: ignore[no-untyped-def]
    return cfg[C_LO_W] <= wsum_new <= cfg[C_HI_W] and cfg[C_LO_S] <= size_new <= cfg[C_HI_S]


@njit(cache=True)
def _rebuild(a, gain, wsum, size, c, w):  # type: ignore[no-untyped-def]
    gain[:] = 0.0
    wsum[:] = 0
    size[:] = 0
    n = a.shape[0]
    for i in range(n):
        wsum[a[i]] += w[i]
        size[a[i]] += 1
        for j in range(n):
            gain[j, a[i]] += c[i, j]


@njit(cache=True)
def _score(a, gain):  # type: ignore[no-untyped-def]
    total = 0.0
    for i in range(a.shape[0]):
        total += gain[i, a[i]]
    return total / 2.0


@njit(cache=True)
def _construct(a, gain, wsum, size, c, w, cfg, p):  # type: ignore[no-untyped-def]
    """Randomised greedy: heavy firms first; groups below their lower bounds first."""
    n = a.shape[0]
    order = np.argsort(-(w.astype(np.float64) + np.random.random(n)))
    a[:] = -1
    gain[:] = 0.0
    wsum[:] = 0
    size[:] = 0
    for q in range(n):
        i = order[q]
        bg, bv = -1, -np.inf
        for g in range(p):
            if wsum[g] + w[i] > cfg[C_HI_W] or size[g] + 1 > cfg[C_HI_S]:
                continue
            v = gain[i, g] + np.random.random() * 1e-6
            if wsum[g] < cfg[C_LO_W] or size[g] < cfg[C_LO_S]:
                v += 1e12
            if v > bv:
                bg, bv = g, v
        if bg < 0:
            return False
        a[i] = bg
        wsum[bg] += w[i]
        size[bg] += 1
        row = c[i]
        for u in range(n):
            gain[u, bg] += row[u]
    short = 0
    for g in range(p):
        if wsum[g] < cfg[C_LO_W] or size[g] < cfg[C_LO_S]:
            short += 1
    return short == 0


@njit(cache=True)
def _exc(x, cfg):  # type: ignore[no-untyped-def]
    return max(0, x - cfg[C_HI_W]) + max(0, cfg[C_LO_W] - x)


@njit(cache=True)
def _total_exc(wsum, cfg):  # type: ignore[no-untyped-def]
    total = 0
    for g in range(wsum.shape[0]):
        total += _exc(wsum[g], cfg)
    return total


@njit(cache=True)
def _gaps(a, gain, p, gap):  # type: ignore[no-untyped-def]
    """``gap[g1, g2]``: the largest ``gain[j, g1] - gain[j, g2]`` over members j of g2."""
    gap[:] = -np.inf
    for j in range(a.shape[0]):
        g2 = a[j]
        for g1 in range(p):
            v = gain[j, g1] - gain[j, g2]
            if v > gap[g1, g2]:
                gap[g1, g2] = v


@njit(cache=True)
def _best_swap(i, a, gain, wsum, c, w, cfg, lam, gap, cmin, ok):  # type: ignore[no-untyped-def]
    """Best swap partner of ``i``; groups whose bound cannot improve are skipped."""
    g1 = a[i]
    wi = w[i]
    base = gain[i, g1]
    x1 = _exc(wsum[g1], cfg)
    bd, bj = EPS, -1
    any_ok = False
    for g2 in range(ok.shape[0]):
        bound = gain[i, g2] - base + gap[g1, g2] - 2.0 * cmin
        ok[g2] = g2 != g1 and bound + lam * (x1 + _exc(wsum[g2], cfg)) > bd
        any_ok = any_ok or ok[g2]
    if not any_ok:
        return bd, bj
    row = c[i]
    for j in range(a.shape[0]):
        g2 = a[j]
        if not ok[g2]:
            continue
        d = gain[i, g2] - base + gain[j, g1] - gain[j, g2] - 2.0 * row[j]
        x2 = _exc(wsum[g2], cfg)
        if d + lam * (x1 + x2) <= bd:
            continue
        wj = w[j]
        if wj != wi:
            dv = _exc(wsum[g1] - wi + wj, cfg) - x1 + _exc(wsum[g2] - wj + wi, cfg) - x2
            d -= lam * dv
        if d > bd:
            bd, bj = d, j
    return bd, bj


@njit(cache=True)
def _two_one(i, a, gain, wsum, size, c, w, cfg, tries, lam):  # type: ignore[no-untyped-def]
    """Sampled 2-1 exchange: firm ``i`` (group g1) against two firms of one group g2."""
    n = a.shape[0]
    g1 = a[i]
    for _ in range(tries):
        j = np.random.randint(n)
        g2 = a[j]
        if g2 == g1:
            continue
        k = np.random.randint(n)
        if k == j or a[k] != g2:
            continue
        if size[g1] + 1 > cfg[C_HI_S] or size[g2] - 1 < cfg[C_LO_S]:
            continue
        n1 = wsum[g1] - w[i] + w[j] + w[k]
        n2 = wsum[g2] + w[i] - w[j] - w[k]
        dv = _exc(n1, cfg) - _exc(wsum[g1], cfg) + _exc(n2, cfg) - _exc(wsum[g2], cfg)
        d = (
            gain[i, g2]
            - gain[i, g1]
            + gain[j, g1]
            - gain[j, g2]
            + gain[k, g1]
            - gain[k, g2]
            + 2.0 * c[j, k]
            - 2.0 * c[i, j]
            - 2.0 * c[i, k]
            - lam * dv
        )
        if d > EPS:
            _move(a, gain, wsum, size, c, w, i, g2)
            _move(a, gain, wsum, size, c, w, j, g1)
            _move(a, gain, wsum, size, c, w, k, g1)
            return d
    return 0.0


@njit(cache=True)
def _descent(a, gain, wsum, size, c, w, cfg, p, order, lam):  # type: ignore[no-untyped-def]
    """First-improvement descent over relocate, swap and sampled 2-1 moves.

    Moves are ranked by ``delta - lam * (change of total weight-bound excess)``; sizes
    stay within their bounds.  A huge ``lam`` first repairs the weights, then keeps them.
    """
    total = 0.0
    improved = True
    gap = np.empty((p, p))
    ok = np.zeros(p, np.bool_)
    cmin = min(0.0, c.min())
    while improved:
        improved = False
        np.random.shuffle(order)
        _gaps(a, gain, p, gap)
        for i in order:
            g1 = a[i]
            wi = w[i]
            if size[g1] - 1 >= cfg[C_LO_S]:
                v1 = _exc(wsum[g1] - wi, cfg) - _exc(wsum[g1], cfg)
                bd, bg = EPS, -1
                for g in range(p):
                    if g != g1 and size[g] + 1 <= cfg[C_HI_S]:
                        dv = v1 + _exc(wsum[g] + wi, cfg) - _exc(wsum[g], cfg)
                        d = gain[i, g] - gain[i, g1] - lam * dv
                        if d > bd:
                            bd, bg = d, g
                if bg >= 0:
                    _move(a, gain, wsum, size, c, w, i, bg)
                    _gaps(a, gain, p, gap)
                    total += bd
                    improved = True
                    continue
            bd, bj = _best_swap(i, a, gain, wsum, c, w, cfg, lam, gap, cmin, ok)
            if bj >= 0:
                g2 = a[bj]
                _move(a, gain, wsum, size, c, w, i, g2)
                _move(a, gain, wsum, size, c, w, bj, g1)
                _gaps(a, gain, p, gap)
                total += bd
                improved = True
                continue
            if cfg[C_PAIRS] > 0:
                d = _two_one(i, a, gain, wsum, size, c, w, cfg, cfg[C_PAIRS], lam)
                if d > 0.0:
                    _gaps(a, gain, p, gap)
                    total += d
                    improved = True
    return total


@njit(cache=True)
def _shake(a, gain, wsum, size, c, w, cfg, k):  # type: ignore[no-untyped-def]
    """Apply ``k`` random feasible swaps or relocations."""
    n = a.shape[0]
    done = 0
    for _ in range(100 * k + 100):
        if done >= k:
            break
        i = np.random.randint(n)
        j = np.random.randint(n)
        gi, gj = a[i], a[j]
        if gi == gj:
            continue
        if np.random.random() < 0.8:
            if _fits(wsum[gi] - w[i] + w[j], size[gi], cfg) and _fits(
                wsum[gj] - w[j] + w[i], size[gj], cfg
            ):
                _move(a, gain, wsum, size, c, w, i, gj)
                _move(a, gain, wsum, size, c, w, j, gi)
                done += 1
        elif _fits(wsum[gi] - w[i], size[gi] - 1, cfg) and _fits(
            wsum[gj] + w[i], size[gj] + 1, cfg
        ):
            _move(a, gain, wsum, size, c, w, i, gj)
            done += 1


@njit(cache=True)
def _ils(  # type: ignore[no-untyped-def]
    a, gain, wsum, size, best_a, c, w, cfg, p, st, n_iter, seed, accept, rate
):
    """Run ``n_iter`` shake-and-descent iterations continuing from ``st``."""
    np.random.seed(seed)
    n = a.shape[0]
    order = np.arange(n)
    cur_a = a.copy()
    cur_gain = gain.copy()
    cur_w = wsum.copy()
    cur_s = size.copy()
    for _ in range(n_iter):
        st[S_DONE] += 1
        k = int(st[S_K])
        _shake(a, gain, wsum, size, c, w, cfg, k)
        if st[S_LAM] > 0.0:
            _descent(a, gain, wsum, size, c, w, cfg, p, order, st[S_LAM])
            if _total_exc(wsum, cfg) > 0:
                st[S_LAM] *= 1.0 + rate
            else:
                st[S_LAM] /= 1.0 + rate
        _descent(a, gain, wsum, size, c, w, cfg, p, order, HARD)
        val = _score(a, gain)
        if _total_exc(wsum, cfg) > 0:
            val = -np.inf
        if val > st[S_BEST] + EPS:
            st[S_BEST] = val
            best_a[:] = a
            st[S_FAILS] = 0
        else:
            st[S_FAILS] += 1
        if val > st[S_CUR] + EPS:
            st[S_K] = cfg[C_KMIN]
        else:
            st[S_K] = cfg[C_KMIN] + (k + 1 - cfg[C_KMIN]) % (cfg[C_KMAX] - cfg[C_KMIN] + 1)
        if st[S_FAILS] >= cfg[C_RESET]:
            a[:] = best_a
            _rebuild(a, gain, wsum, size, c, w)
            val = st[S_BEST]
            st[S_FAILS] = 0
        elif val < st[S_CUR] - accept * abs(st[S_BEST]):
            a[:] = cur_a
            gain[:] = cur_gain
            wsum[:] = cur_w
            size[:] = cur_s
            continue
        st[S_CUR] = val
        cur_a[:] = a
        cur_gain[:] = gain
        cur_w[:] = wsum
        cur_s[:] = size


def _config(instance: Instance, p: int) -> NDArray[np.int64]:
    n = instance.n_firms
    big = np.iinfo(np.int64).max // 4
    cfg = np.zeros(8, np.int64)
    cfg[C_LO_W] = instance.min_weight or 0
    cfg[C_HI_W] = instance.max_weight if instance.max_weight is not None else big
    cfg[C_LO_S] = instance.min_size or 1
    cfg[C_HI_S] = instance.max_size if instance.max_size is not None else n
    cfg[C_KMIN] = 2
    cfg[C_KMAX] = max(3, min(n // p, 30))
    cfg[C_RESET] = 200
    cfg[C_PAIRS] = 20
    return cfg


def search_ccp(
    instance: Instance,
    *,
    seed: int = 0,
    max_iterations: int | None = None,
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    accept: float = 1e-3,
    lam0: float = 1.0,
    rate: float = 0.1,
) -> CcpOutcome | None:
    """Iterated local search for a plain CCP instance (see :func:`applies`).

    Parameters
    ----------
    instance
        A CCP-like instance (:func:`applies` is True).
    seed
        Seed of every random choice.
    max_iterations
        Shake-and-descent budget; with ``deadline=None`` the result depends only on the
        instance, the seed and this budget.
    deadline
        ``time.monotonic()`` value after which to stop (checked every ``CHUNK``
        iterations).
    should_stop
        Cancellation callback, checked with the deadline.
    accept
        A new local optimum replaces the current one unless it is worse by more than
        ``accept`` times the best value.
    lam0
        Initial penalty per unit of weight excess in the relaxed descent, relative to
        the mean affinity; 0 keeps the weight bounds hard throughout.
    rate
        The penalty grows by this factor after an infeasible relaxed descent and
        shrinks by it after a feasible one (strategic oscillation).

    Returns
    -------
    CcpOutcome or None
        The best assignment, or ``None`` when the randomised construction found no
        assignment within the bounds (the caller falls back to its general search).

    Raises
    ------
    ValueError
        If ``instance`` is not CCP-like or no stopping rule is given.
    """
    if not applies(instance):
        raise ValueError("instance is not a plain CCP instance")
    if max_iterations is None and deadline is None:
        raise ValueError("give max_iterations or a deadline")
    assert instance.n_groups is not None and instance.affinity_matrix is not None
    n, p = instance.n_firms, instance.n_groups
    c = np.ascontiguousarray(instance.affinity_matrix, dtype=np.float64).copy()
    np.fill_diagonal(c, 0.0)
    w = (instance.weights if instance.weights is not None else np.ones(n)).astype(np.int64)
    cfg = _config(instance, p)
    a = np.zeros(n, np.int64)
    gain = np.zeros((n, p), np.float64)
    wsum = np.zeros(p, np.int64)
    size = np.zeros(p, np.int64)
    _seed(seed)
    if not any(_construct(a, gain, wsum, size, c, w, cfg, p) for _ in range(20)):
        return None
    _descent(a, gain, wsum, size, c, w, cfg, p, np.arange(n), HARD)
    st = np.zeros(6, np.float64)
    st[S_LAM] = lam0 * float(np.abs(c).sum()) / max(n * (n - 1), 1)
    st[S_CUR] = st[S_BEST] = _score(a, gain)
    st[S_K] = cfg[C_KMIN]
    best_a = a.copy()
    chunk = 0
    while True:
        todo = CHUNK
        if max_iterations is not None:
            todo = min(todo, max_iterations - int(st[S_DONE]))
        if todo <= 0:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        if should_stop is not None and should_stop():
            break
        _ils(a, gain, wsum, size, best_a, c, w, cfg, p, st, todo, seed * 7919 + chunk, accept, rate)
        chunk += 1
    return CcpOutcome(best_a, float(st[S_BEST]), int(st[S_DONE]))
