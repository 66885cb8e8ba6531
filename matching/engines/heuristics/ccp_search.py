"""Memetic search for capacitated clustering (the CCPLIB case), in numba.

Applies to instances where every firm must be placed into exactly ``n_groups`` groups
with weight (and optionally size) bounds and an explicit affinity matrix, and nothing
else: no distances, competitors, themes, eligibility, count caps, pair splits, locked or
pinned groups (:func:`applies`).  The method follows the memetic line for the CCP and other
grouping problems (Lai & Hao 2016; Zhou, Benlic, Wu & Hao 2019):

* a small population of assignments, each improved by a tabu search;
* the tabu search scans every *relocate* (firm ``i`` to group ``g``) and every *swap*
  (firms ``i`` and ``j`` of different groups) with the gain table ``gain[i, k]`` (sum of
  ``c[i, j]`` over the members ``j`` of group ``k``: a move's delta is O(1), the table
  is updated in O(n) per applied move), applies the best non-tabu move (a tabu move
  when it reaches a new best feasible value), and forbids a moved firm's return to its
  old group for a random tenure;
* while the weight bounds hold, the tabu search also considers *one-for-two swaps* (a
  firm for two firms of another group with a total weight that keeps both groups within
  bounds; Martinez-Gavara et al. 2015) for a random sample of the firms: in CCPLIB's
  RanReal instances most groups sit on a weight bound, where a plain swap needs two firms
  of equal weight and group sizes cannot change without these moves;
* the weight bounds are relaxed now and then (strategic oscillation): moves pay
  ``lam`` per unit of weight outside the bounds, ``lam`` grows while the search stays
  infeasible and shrinks while it is feasible; only feasible assignments count as best;
* a crossover keeps the backbone of two parents: alternately from each parent it takes
  the group with the highest internal affinity among the firms not yet taken, then the
  left-over firms go greedily to the group they gain most in, and the weight bounds are
  repaired;
* the offspring's local optimum enters the population unless it duplicates a member;
  the member with the worst mix of quality and distance to the others then leaves.

Deterministic for a seed and a budget of offspring (``max_iterations``); a time limit
is checked between tabu-search chunks.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from matching.core import registry
from matching.core.problem import Instance
from matching.engines.heuristics.window import count_caps

CHUNK = 2000
"""Tabu iterations per numba call between time/cancellation checks."""

PAIR_SAMPLE = 50
"""Per mille of firms whose one-for-two swaps are scanned per feasible tabu iteration."""

# st: tabu-search state persisted between chunks
S_IT, S_CUR, S_BEST, S_STALL, S_LAM, S_PHASE, S_RATE = range(7)
# cfg: integer settings
(C_LO_W, C_HI_W, C_LO_S, C_HI_S, C_TMIN, C_TRAND, C_DEPTH, C_RELAX_AT, C_RELAX_LEN,
 C_PAIR_SAMPLE) = range(10)  # fmt: skip
EPS = 1e-9


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
        Offspring produced (crossover plus tabu search) after the initial populations,
        summed over the populations.
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
        explicit matrix and only size and weight bounds apply (no rule compiles a count cap or
        a pair split).
    """
    eligible = instance.eligible
    return bool(
        instance.require_all
        and instance.n_groups is not None
        and instance.affinity_matrix is not None
        and instance.group_score == "pair_sum"
        and instance.max_pair_km is None
        and len(instance.forbidden) == 0
        and len(instance.partners) == 0
        and not instance.theme_required
        and instance.allowed_themes is None
        and not count_caps(instance)
        and not registry.primitives(instance).splits
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
def _exc(x, cfg):  # type: ignore[no-untyped-def]
    return max(0, x - cfg[C_HI_W]) + max(0, cfg[C_LO_W] - x)


@njit(cache=True)
def _total_exc(wsum, cfg):  # type: ignore[no-untyped-def]
    total = 0
    for g in range(wsum.shape[0]):
        total += _exc(wsum[g], cfg)
    return total


@njit(cache=True)
def _place(a, gain, wsum, size, c, w, cfg, p, order):  # type: ignore[no-untyped-def]
    """Put the unplaced firms (``a < 0``) of ``order`` where they gain most.

    Groups below their lower bounds come first; a group never exceeds its upper bounds
    unless no group can take the firm (the repair fixes that).
    """
    n = a.shape[0]
    for i in order:
        if a[i] >= 0:
            continue
        bg, bv = -1, -np.inf
        for g in range(p):
            v = gain[i, g] + np.random.random() * 1e-6
            if wsum[g] + w[i] > cfg[C_HI_W] or size[g] + 1 > cfg[C_HI_S]:
                v -= 1e15
            elif wsum[g] < cfg[C_LO_W] or size[g] < cfg[C_LO_S]:
                v += 1e12
            if v > bv:
                bg, bv = g, v
        a[i] = bg
        wsum[bg] += w[i]
        size[bg] += 1
        row = c[i]
        for u in range(n):
            gain[u, bg] += row[u]


@njit(cache=True)
def _construct(a, gain, wsum, size, c, w, cfg, p):  # type: ignore[no-untyped-def]
    """Random assignment: each firm (random order) to a random group below its lower
    bounds, else to a random group with room; groups stay near-balanced."""
    n = a.shape[0]
    a[:] = -1
    wsum[:] = 0
    size[:] = 0
    cand = np.empty(p, np.int64)
    for i in np.random.permutation(n):
        k = 0
        for g in range(p):
            if wsum[g] < cfg[C_LO_W] or size[g] < cfg[C_LO_S]:
                cand[k] = g
                k += 1
        if k == 0:
            for g in range(p):
                if wsum[g] + w[i] <= cfg[C_HI_W] and size[g] + 1 <= cfg[C_HI_S]:
                    cand[k] = g
                    k += 1
        g = cand[np.random.randint(k)] if k > 0 else np.random.randint(p)
        a[i] = g
        wsum[g] += w[i]
        size[g] += 1
    _rebuild(a, gain, wsum, size, c, w)


@njit(cache=True)
def _repair(a, gain, wsum, size, c, w, cfg, p):  # type: ignore[no-untyped-def]
    """Greedy moves that reduce the weight excess (best affinity first); True if feasible."""
    n = a.shape[0]
    for _ in range(4 * n):
        x = _total_exc(wsum, cfg)
        if x == 0:
            return True
        bd, bi, bt, kind = -np.inf, -1, -1, 0
        for i in range(n):
            g1 = a[i]
            wi = w[i]
            if size[g1] - 1 >= cfg[C_LO_S]:
                v1 = _exc(wsum[g1] - wi, cfg) - _exc(wsum[g1], cfg)
                for g in range(p):
                    if g == g1 or size[g] + 1 > cfg[C_HI_S]:
                        continue
                    dv = v1 + _exc(wsum[g] + wi, cfg) - _exc(wsum[g], cfg)
                    if dv < 0:
                        d = gain[i, g] - gain[i, g1] - 1e9 * dv
                        if d > bd:
                            bd, bi, bt, kind = d, i, g, 1
            for j in range(i + 1, n):
                g2 = a[j]
                if g2 == g1 or w[j] == wi:
                    continue
                dv = (
                    _exc(wsum[g1] - wi + w[j], cfg)
                    - _exc(wsum[g1], cfg)
                    + _exc(wsum[g2] - w[j] + wi, cfg)
                    - _exc(wsum[g2], cfg)
                )
                if dv < 0:
                    d = gain[i, g2] - gain[i, g1] + gain[j, g1] - gain[j, g2] - 2.0 * c[i, j]
                    d -= 1e9 * dv
                    if d > bd:
                        bd, bi, bt, kind = d, i, j, 2
        if kind == 0:
            return False
        if kind == 1:
            _move(a, gain, wsum, size, c, w, bi, bt)
        else:
            g1 = a[bi]
            _move(a, gain, wsum, size, c, w, bi, a[bt])
            _move(a, gain, wsum, size, c, w, bt, g1)
    return _total_exc(wsum, cfg) == 0


@njit(cache=True)
def _best_one_for_two(  # type: ignore[no-untyped-def]
    a, gain, wsum, size, c, w, cfg, p, tabu, it, cur, best, dmat, start, be, ties
):
    """Best non-tabu feasible *one-for-two swap* better than (or tied with) ``be``.

    Firm ``i`` of group ``g1`` goes to ``g2`` while two firms ``j, k`` of ``g2`` go to
    ``g1`` (Martinez-Gavara et al. 2015).  When groups sit on their weight bounds, a
    plain swap needs ``w[j] == w[i]``; this move trades one firm for two lighter ones of
    the same total weight, so group *sizes* can change without leaving the bounds.  The
    pairs ``(j, k)`` are found through weight buckets (only total weights that keep both
    groups within bounds are enumerated), and only a random ``C_PAIR_SAMPLE`` per mille of
    the firms ``i`` is scanned per iteration (the full scan costs about ten swap scans).

    Returns ``(be, delta, ties, i, j, k)``; ``i == -1`` when no move beats ``be``.
    """
    n = a.shape[0]
    lo_w, hi_w = cfg[C_LO_W], cfg[C_HI_W]
    lo_s, hi_s = cfg[C_LO_S], cfg[C_HI_S]
    R = w.max()
    wb = np.zeros((p, R + 2), np.int64)  # wb[g, x]: members of g lighter than x
    for u in range(n):
        wb[a[u], w[u] + 1] += 1
    for g in range(p):
        for x in range(1, R + 2):
            wb[g, x] += wb[g, x - 1]
    fill = wb.copy()
    by_weight = np.empty(n, np.int64)  # members of each group, lightest first
    for u in range(n):
        g = a[u]
        by_weight[start[g] + fill[g, w[u]]] = u
        fill[g, w[u]] += 1
    bd, bi, bj, bk = 0.0, -1, -1, -1
    for i in range(n):
        g1 = a[i]
        wi = w[i]
        if size[g1] + 1 > hi_s or np.random.randint(1000) >= cfg[C_PAIR_SAMPLE]:
            continue
        own = gain[i, g1]
        row_i = c[i]
        for g2 in range(p):
            if g2 == g1 or size[g2] - 2 < lo_s:
                continue
            s_lo = max(lo_w - wsum[g1] + wi, wsum[g2] + wi - hi_w, 2)
            s_hi = min(hi_w - wsum[g1] + wi, wsum[g2] + wi - lo_w, 2 * R)
            base = gain[i, g2] - own
            for s in range(s_lo, s_hi + 1):
                for wj in range(max(1, s - R), s // 2 + 1):
                    wk = s - wj
                    for qj in range(start[g2] + wb[g2, wj], start[g2] + wb[g2, wj + 1]):
                        j = by_weight[qj]
                        dj = base + dmat[g1, j] - 2.0 * row_i[j]
                        row_j = c[j]
                        q0 = qj + 1 if wk == wj else start[g2] + wb[g2, wk]
                        for qk in range(q0, start[g2] + wb[g2, wk + 1]):
                            k = by_weight[qk]
                            d = dj + dmat[g1, k] - 2.0 * row_i[k] + 2.0 * row_j[k]
                            if d < be - EPS:
                                continue
                            if (tabu[i, g2] > it or tabu[j, g1] > it or tabu[k, g1] > it) and not (
                                cur + d > best + EPS
                            ):
                                continue
                            if d > be + EPS:
                                ties = 0
                            ties += 1
                            if ties == 1 or np.random.random() * ties < 1.0:
                                be, bd, bi, bj, bk = d, d, i, j, k
    return be, bd, ties, bi, bj, bk


@njit(cache=True)
def _tabu(a, gain, wsum, size, c, w, cfg, p, tabu, best_a, st, n_iter):  # type: ignore[no-untyped-def]
    """Run up to ``n_iter`` tabu iterations from ``st``; stop when ``C_DEPTH`` stall.

    ``st[S_CUR]`` is the current affinity, ``st[S_BEST]`` the best feasible one (kept in
    ``best_a``).  Every ``C_RELAX_AT`` stalled iterations the weight bounds are relaxed
    for ``C_RELAX_LEN`` iterations (penalty ``st[S_LAM]`` per unit of excess).
    """
    n = a.shape[0]
    lo_w, hi_w = cfg[C_LO_W], cfg[C_HI_W]
    lo_s, hi_s = cfg[C_LO_S], cfg[C_HI_S]
    dmat = np.empty((p, n))
    maxgap = np.empty((p, p))
    start = np.zeros(p + 1, np.int64)
    fill = np.zeros(p, np.int64)
    perm = np.empty(n, np.int64)
    cmin = min(0.0, c.min())
    R = w.max() - min(0, w.min())
    ex = np.empty((p, 2 * R + 1), np.int64)
    for _ in range(n_iter):
        if st[S_STALL] >= cfg[C_DEPTH]:
            return
        it = int(st[S_IT])
        relax = st[S_PHASE] > 0
        lam = st[S_LAM]
        viol = _total_exc(wsum, cfg)
        cur, best = st[S_CUR], st[S_BEST]
        be = -np.inf
        bd = 0.0
        kind, bi, bt, bk = 0, -1, -1, -1
        ties = 0
        for g in range(p):
            xg = _exc(wsum[g], cfg)
            for k in range(2 * R + 1):
                ex[g, k] = _exc(wsum[g] + k - R, cfg) - xg
        start[:] = 0
        for u in range(n):
            start[a[u] + 1] += 1
        for g in range(p):
            start[g + 1] += start[g]
        fill[:] = start[:p]
        maxgap[:] = -np.inf
        for u in range(n):
            gu = a[u]
            perm[fill[gu]] = u
            fill[gu] += 1
            for g in range(p):
                v = gain[u, g] - gain[u, gu]
                dmat[g, u] = v
                if v > maxgap[g, gu]:
                    maxgap[g, gu] = v
        for i in range(n):
            g1 = a[i]
            wi = w[i]
            own = gain[i, g1]
            w1 = wsum[g1]
            x1 = _exc(w1, cfg)
            if size[g1] - 1 >= lo_s:
                v1 = ex[g1, R - wi]
                if relax or w1 - wi >= lo_w:
                    for g in range(p):
                        if g == g1 or size[g] + 1 > hi_s:
                            continue
                        if not relax and wsum[g] + wi > hi_w:
                            continue
                        d = gain[i, g] - own
                        dv = v1 + ex[g, R + wi]
                        e = d - lam * dv if relax else d
                        if e < be - EPS:
                            continue
                        if tabu[i, g] > it and not (viol + dv == 0 and cur + d > best + EPS):
                            continue
                        if e > be + EPS:
                            ties = 0
                        ties += 1
                        if ties == 1 or np.random.random() * ties < 1.0:
                            be, bd, kind, bi, bt = e, d, 1, i, g
            row = c[i]
            for g2 in range(g1 + 1, p):
                base = gain[i, g2] - own
                x2 = _exc(wsum[g2], cfg)
                bound = base + maxgap[g1, g2] - 2.0 * cmin
                if relax:
                    bound += lam * (x1 + x2)
                if bound < be - EPS:
                    continue
                for q in range(start[g2], start[g2 + 1]):
                    j = perm[q]
                    d = base + dmat[g1, j] - 2.0 * row[j]
                    dv = 0
                    wj = w[j]
                    if relax:
                        dv = ex[g1, R + wj - wi] + ex[g2, R + wi - wj]
                        e = d - lam * dv
                    else:
                        e = d
                    if e < be - EPS:
                        continue
                    if not relax and wj != wi:
                        n1 = w1 - wi + wj
                        n2 = wsum[g2] - wj + wi
                        if n1 < lo_w or n1 > hi_w or n2 < lo_w or n2 > hi_w:
                            continue
                    if (tabu[i, g2] > it or tabu[j, g1] > it) and not (
                        viol + dv == 0 and cur + d > best + EPS
                    ):
                        continue
                    if e > be + EPS:
                        ties = 0
                    ties += 1
                    if ties == 1 or np.random.random() * ties < 1.0:
                        be, bd, kind, bi, bt = e, d, 2, i, j
        if not relax and cfg[C_PAIR_SAMPLE] > 0:
            be, d3, ties, i3, j3, k3 = _best_one_for_two(
                a, gain, wsum, size, c, w, cfg, p, tabu, it, cur, best, dmat, start, be, ties
            )
            if i3 >= 0:
                bd, kind, bi, bt, bk = d3, 3, i3, j3, k3
        st[S_IT] += 1
        if kind == 0:
            st[S_STALL] += 1
            continue
        g1 = a[bi]
        if kind == 1:
            _move(a, gain, wsum, size, c, w, bi, bt)
            tabu[bi, g1] = it + cfg[C_TMIN] + np.random.randint(cfg[C_TRAND] + 1)
        else:  # swap (kind 2) or one-for-two swap (kind 3: bt and bk go to g1)
            g2 = a[bt]
            _move(a, gain, wsum, size, c, w, bi, g2)
            _move(a, gain, wsum, size, c, w, bt, g1)
            tabu[bi, g1] = it + cfg[C_TMIN] + np.random.randint(cfg[C_TRAND] + 1)
            tabu[bt, g2] = it + cfg[C_TMIN] + np.random.randint(cfg[C_TRAND] + 1)
            if kind == 3:
                _move(a, gain, wsum, size, c, w, bk, g1)
                tabu[bk, g2] = it + cfg[C_TMIN] + np.random.randint(cfg[C_TRAND] + 1)
        st[S_CUR] = cur + bd
        feasible = _total_exc(wsum, cfg) == 0
        if feasible and st[S_CUR] > best + EPS:
            st[S_BEST] = st[S_CUR]
            best_a[:] = a
            st[S_STALL] = 0
        else:
            st[S_STALL] += 1
        if relax:
            st[S_LAM] *= 1.0 if feasible else st[S_RATE]
            st[S_LAM] /= st[S_RATE] if feasible else 1.0
            st[S_PHASE] -= 1
            if st[S_PHASE] <= 0 and not feasible:
                if not _repair(a, gain, wsum, size, c, w, cfg, p):
                    a[:] = best_a
                    _rebuild(a, gain, wsum, size, c, w)
                st[S_CUR] = _score(a, gain)
        elif cfg[C_RELAX_LEN] > 0 and st[S_STALL] > 0 and st[S_STALL] % cfg[C_RELAX_AT] == 0:
            st[S_PHASE] = cfg[C_RELAX_LEN]


@njit(cache=True)
def _inner(x, c, p, taken):  # type: ignore[no-untyped-def]
    """Within-group affinity of each group of ``x`` over the firms not yet taken."""
    out = np.zeros(p)
    n = x.shape[0]
    for i in range(n):
        if taken[i]:
            continue
        for j in range(i + 1, n):
            if not taken[j] and x[j] == x[i]:
                out[x[i]] += c[i, j]
    return out


@njit(cache=True)
def _crossover(pa, pb, a, gain, wsum, size, c, w, cfg, p):  # type: ignore[no-untyped-def]
    """Backbone crossover into ``a``; returns True when the child meets the bounds."""
    n = a.shape[0]
    taken = np.zeros(n, np.bool_)
    inner_a = _inner(pa, c, p, taken)
    inner_b = _inner(pb, c, p, taken)
    a[:] = -1
    for step in range(p):
        take, other = (pa, pb) if step % 2 == 0 else (pb, pa)
        inner_t, inner_o = (inner_a, inner_b) if step % 2 == 0 else (inner_b, inner_a)
        k = np.argmax(inner_t)
        inner_t[k] = -np.inf
        for v in range(n):
            if taken[v] or take[v] != k:
                continue
            ko = other[v]
            s = 0.0
            for u in range(n):
                if not taken[u] and u != v and other[u] == ko:
                    s += c[v, u]
            inner_o[ko] -= s
            taken[v] = True
            a[v] = step
    _rebuild_partial(a, gain, wsum, size, c, w, p)
    _place(a, gain, wsum, size, c, w, cfg, p, np.random.permutation(n))
    return _repair(a, gain, wsum, size, c, w, cfg, p)


@njit(cache=True)
def _rebuild_partial(a, gain, wsum, size, c, w, p):  # type: ignore[no-untyped-def]
    gain[:] = 0.0
    wsum[:] = 0
    size[:] = 0
    n = a.shape[0]
    for i in range(n):
        g = a[i]
        if g < 0:
            continue
        wsum[g] += w[i]
        size[g] += 1
        for j in range(n):
            gain[j, g] += c[i, j]


@njit(cache=True)
def _similarity(x, y, p):  # type: ignore[no-untyped-def]
    """Firms kept together by a greedy matching of the groups of ``x`` and ``y``."""
    m = np.zeros((p, p), np.int64)
    for i in range(x.shape[0]):
        m[x[i], y[i]] += 1
    total = 0
    for _ in range(p):
        bk, bl, bv = 0, 0, -1
        for k in range(p):
            for q in range(p):
                if m[k, q] > bv:
                    bk, bl, bv = k, q, m[k, q]
        total += bv
        m[bk, :] = -1
        m[:, bl] = -1
    return total


@dataclass
class _Context:
    """Instance arrays and settings shared by every step of one search."""

    c: NDArray[np.float64]
    w: NDArray[np.int64]
    cfg: NDArray[np.int64]
    p: int
    lam0: float
    stop: Callable[[], bool]
    rate: float = 1.1

    @property
    def n(self) -> int:
        return int(self.c.shape[0])

    def empty(
        self,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
        n, p = self.n, self.p
        return np.zeros(n, np.int64), np.zeros((n, p)), np.zeros(p, np.int64), np.zeros(p, np.int64)

    def improve(
        self,
        a: NDArray[np.int64],
        gain: NDArray[np.float64],
        wsum: NDArray[np.int64],
        size: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], float]:
        """Tabu search from the feasible ``a`` until it stalls or the search must stop."""
        tabu = np.zeros((self.n, self.p), np.int64)
        best_a = a.copy()
        st = np.zeros(7)
        st[S_CUR] = st[S_BEST] = _score(a, gain)
        st[S_LAM] = self.lam0
        st[S_RATE] = self.rate
        while st[S_STALL] < self.cfg[C_DEPTH] and not self.stop():
            _tabu(a, gain, wsum, size, self.c, self.w, self.cfg, self.p, tabu, best_a, st, CHUNK)
        return best_a, float(st[S_BEST])


def _config(instance: Instance, p: int, depth: int) -> NDArray[np.int64]:
    n = instance.n_firms
    big = np.iinfo(np.int64).max // 4
    cfg = np.zeros(10, np.int64)
    cfg[C_LO_W] = instance.min_weight or 0
    cfg[C_HI_W] = instance.max_weight if instance.max_weight is not None else big
    cfg[C_LO_S] = instance.min_size or 1
    cfg[C_HI_S] = instance.max_size if instance.max_size is not None else n
    cfg[C_TMIN] = 2
    cfg[C_TRAND] = 5
    cfg[C_DEPTH] = depth
    cfg[C_RELAX_AT] = 100
    cfg[C_RELAX_LEN] = 100
    cfg[C_PAIR_SAMPLE] = PAIR_SAMPLE
    return cfg


class _Pool:
    """Population of local optima; replacement by quality and distance."""

    def __init__(self, p: int, beta: float = 0.6) -> None:
        self.p = p
        self.beta = beta
        self.members: list[NDArray[np.int64]] = []
        self.values: list[float] = []

    def best(self) -> tuple[NDArray[np.int64], float]:
        k = int(np.argmax(self.values))
        return self.members[k], self.values[k]

    def keep_best(self) -> None:
        """Drop every member but the best (a restart of the population)."""
        best_a, best = self.best()
        self.members, self.values = [best_a], [best]

    def offer(self, a: NDArray[np.int64], value: float, capacity: int) -> bool:
        """Add ``a`` unless it duplicates a member; drop the worst member beyond capacity."""
        n = a.shape[0]
        dist = [n - int(_similarity(a, m, self.p)) for m in self.members]
        if dist and min(dist) == 0:
            return False
        self.members.append(a.copy())
        self.values.append(value)
        if len(self.members) <= capacity:
            return True
        k = len(self.members)
        d = np.zeros((k, k))
        for x in range(k):
            for y in range(x + 1, k):
                d[x, y] = d[y, x] = n - int(_similarity(self.members[x], self.members[y], self.p))
        np.fill_diagonal(d, np.inf)
        near = d.min(axis=1)
        q = np.array(self.values)
        score = self.beta * _norm(q) + (1.0 - self.beta) * _norm(near)
        score[int(np.argmax(q))] = np.inf
        drop = int(np.argmin(score))
        del self.members[drop]
        del self.values[drop]
        return drop != k - 1


def _fill(ctx: _Context, pool: _Pool, pop_size: int) -> None:
    """Add tabu-search local optima of random assignments until ``pop_size`` members."""
    for _ in range(2 * pop_size):
        if len(pool.members) >= pop_size or (pool.members and ctx.stop()):
            break
        a, gain, wsum, size = ctx.empty()
        _construct(a, gain, wsum, size, ctx.c, ctx.w, ctx.cfg, ctx.p)
        if _repair(a, gain, wsum, size, ctx.c, ctx.w, ctx.cfg, ctx.p):
            pool.offer(*ctx.improve(a, gain, wsum, size), capacity=pop_size)


def _norm(x: NDArray[np.float64]) -> NDArray[np.float64]:
    span = float(x.max() - x.min())
    return (x - x.min()) / (span + 1.0) if span > 0 else np.zeros_like(x)


class _Share:
    """Each population's best assignment in memory shared across the fork.

    Slot ``k`` holds population ``k``'s best groups, value and offspring count; ``stop``
    tells the forked populations to end (cancellation seen by population 0).
    """

    def __init__(self, workers: int, n: int) -> None:
        ctx = mp.get_context("fork")
        self.lock = ctx.Lock()
        self.n = n
        self._groups = ctx.RawArray("q", workers * n)
        self._values = ctx.RawArray("d", [-np.inf] * workers)
        self._done = ctx.RawArray("q", workers)
        self._stop = ctx.RawValue("b", 0)

    @property
    def groups(self) -> NDArray[np.int64]:
        return np.frombuffer(self._groups, np.int64).reshape(-1, self.n)

    @property
    def values(self) -> NDArray[np.float64]:
        return np.frombuffer(self._values, np.float64)

    def publish(self, slot: int, a: NDArray[np.int64], value: float, done: int) -> None:
        """Record population ``slot``'s best (when better) and its offspring count."""
        with self.lock:
            if value > self.values[slot]:
                self.groups[slot] = a
                self.values[slot] = value
            np.frombuffer(self._done, np.int64)[slot] = done

    def best_other(self, slot: int) -> tuple[NDArray[np.int64], float]:
        """The best assignment published by any population but ``slot``."""
        with self.lock:
            values = self.values.copy()
            values[slot] = -np.inf
            k = int(np.argmax(values))
            return self.groups[k].copy(), float(values[k])

    def stop(self) -> None:
        self._stop.value = 1

    def stopped(self) -> bool:
        return bool(self._stop.value)

    def done(self) -> int:
        return int(np.frombuffer(self._done, np.int64).sum())


def warm_up() -> None:
    """Load (or compile) every numba kernel of the search on a tiny instance.

    The first call of each kernel in a process reads it from numba's on-disk cache (about
    1-2 s in all, more after a source change: compilation); a benchmark calls this before
    starting its clock so that the first instance does not pay for it.
    """
    n, p = 6, 2
    rng = np.random.default_rng(0)
    c = rng.random((n, n))
    c = c + c.T
    np.fill_diagonal(c, 0.0)
    w = np.ones(n, np.int64)
    cfg = np.array([2, 4, 1, n, 2, 5, 10, 3, 3, 1000], np.int64)
    ctx = _Context(c, w, cfg, p, 1.0, lambda: False)
    _seed(0)
    parents = []
    for _ in range(2):
        a, gain, wsum, size = ctx.empty()
        _construct(a, gain, wsum, size, c, w, cfg, p)
        _repair(a, gain, wsum, size, c, w, cfg, p)
        parents.append(ctx.improve(a, gain, wsum, size)[0])
    a, gain, wsum, size = ctx.empty()
    _crossover(parents[0], parents[1], a, gain, wsum, size, c, w, cfg, p)
    _similarity(parents[0], parents[1], p)


def search_ccp(
    instance: Instance,
    *,
    seed: int = 0,
    max_iterations: int | None = None,
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_best: Callable[[float, int], None] | None = None,
    pop_size: int = 10,
    depth: int | None = None,
    restart_after: int = 60,
    workers: int = 1,
) -> CcpOutcome | None:
    """Memetic search for a plain CCP instance (see :func:`applies`).

    Parameters
    ----------
    instance
        A CCP-like instance (:func:`applies` is True).
    seed
        Seed of every random choice.
    max_iterations
        Budget of offspring per population after its initial population; with
        ``deadline=None`` the result depends only on the instance, the seed, this budget
        and ``workers``.
    deadline
        ``time.monotonic()`` value after which to stop (checked every ``CHUNK`` tabu
        iterations).
    should_stop
        Cancellation callback, checked with the deadline (in this process; the other
        populations follow through shared memory).
    on_best
        Called with ``(best_affinity, offspring_done)`` after every offspring of
        population 0 (progress reporting); must be cheap.
    pop_size
        Population size.
    depth
        Tabu iterations without a new best after which one tabu search ends; by default
        ``n * n / 20`` within [300, 1500] (it grows with the swap neighbourhood).
    restart_after
        Offspring without a new best after which the population is rebuilt around its
        best member from new random assignments.
    workers
        Populations, one per process (seeds ``seed``, ``seed + 1``, ...; population 0
        runs in this process, the others in forked ones).  Under a deadline each
        population offers the best assignment found by any other to its own pool after
        every offspring; in budget mode (no deadline) they stay independent, so the
        result is deterministic.  The best result is kept (the lowest seed on ties).
        Inside a daemonic process only population 0 runs.

    Returns
    -------
    CcpOutcome or None
        The best assignment, or ``None`` when no assignment within the bounds was found
        (the caller falls back to its general search).

    Raises
    ------
    ValueError
        If ``instance`` is not CCP-like or no stopping rule is given.
    """
    if not applies(instance):
        raise ValueError("instance is not a plain CCP instance")
    if max_iterations is None and deadline is None:
        raise ValueError("give max_iterations or a deadline")
    n = instance.n_firms
    if depth is None:
        depth = int(min(1500, max(300, n * n // 20)))
    args = (max_iterations, deadline, pop_size, depth, restart_after)
    if workers <= 1 or mp.current_process().daemon:
        return _memetic(instance, seed, should_stop, on_best, None, 0, False, *args)
    share = _Share(workers, n)
    exchange = deadline is not None
    fork = mp.get_context("fork")
    children = [
        fork.Process(
            target=_memetic,
            args=(instance, seed + k, share.stopped, None, share, k, exchange, *args),
            daemon=True,
        )
        for k in range(1, workers)
    ]
    for child in children:
        child.start()
    stop = None
    if should_stop is not None:
        ask = should_stop

        def stop() -> bool:
            if ask():
                share.stop()
                return True
            return False

    try:
        _memetic(instance, seed, stop, on_best, share, 0, exchange, *args)
        if not share.stopped():  # the others end on their own deadline or budget
            for child in children:
                child.join()
    finally:
        share.stop()
        for child in children:
            child.join()
    values = share.values
    k = int(np.argmax(values))  # first maximum: the lowest seed
    if not np.isfinite(values[k]):
        return None
    return CcpOutcome(share.groups[k].copy(), float(values[k]), share.done())


def _memetic(
    instance: Instance,
    seed: int,
    should_stop: Callable[[], bool] | None,
    on_best: Callable[[float, int], None] | None,
    share: _Share | None,
    slot: int,
    exchange: bool,
    max_iterations: int | None,
    deadline: float | None,
    pop_size: int,
    depth: int,
    restart_after: int,
) -> CcpOutcome | None:
    """One population (see :func:`search_ccp`); publishes its best to ``share``."""
    assert instance.n_groups is not None and instance.affinity_matrix is not None
    n, p = instance.n_firms, instance.n_groups
    c = np.ascontiguousarray(instance.affinity_matrix, dtype=np.float64).copy()
    np.fill_diagonal(c, 0.0)
    w = (instance.weights if instance.weights is not None else np.ones(n)).astype(np.int64)

    def stop() -> bool:
        if deadline is not None and time.monotonic() >= deadline:
            return True
        return should_stop is not None and should_stop()

    lam0 = float(np.abs(c).sum()) / max(n * (n - 1), 1)
    ctx = _Context(c, w, _config(instance, p, depth), p, max(lam0, EPS), stop)
    _seed(seed)
    rng = np.random.default_rng(seed)
    pool = _Pool(p)
    _fill(ctx, pool, pop_size)
    done = stale = 0
    record = pool.best()[1] if pool.members else -np.inf
    while len(pool.members) >= 2 and not stop():
        if max_iterations is not None and done >= max_iterations:
            break
        if share is not None:
            share.publish(slot, *pool.best(), done)
        if on_best is not None:
            on_best(pool.best()[1], done)
        if exchange and share is not None:
            other, value = share.best_other(slot)
            if value > record + EPS:
                pool.offer(other, value, capacity=pop_size)
        done += 1
        x, y = rng.choice(len(pool.members), 2, replace=False)
        a, gain, wsum, size = ctx.empty()
        if _crossover(pool.members[x], pool.members[y], a, gain, wsum, size, c, w, ctx.cfg, p):
            pool.offer(*ctx.improve(a, gain, wsum, size), capacity=pop_size)
        stale += 1
        if pool.best()[1] > record + EPS:
            record, stale = pool.best()[1], 0
        elif stale >= restart_after:
            pool.keep_best()
            _fill(ctx, pool, pop_size)
            stale = 0
    if not pool.members:
        return None
    best_a, best = pool.best()
    if share is not None:
        share.publish(slot, best_a, best, done)
    return CcpOutcome(best_a.copy(), float(best), done)
