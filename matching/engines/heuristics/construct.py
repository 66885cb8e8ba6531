"""Construction heuristics (numba kernels): seeded greedy groups and capacity-aware assignment.

``open_groups`` (SME mode) turns pool firms into new groups: for each seed (hardest firms
first: fewest compatible partners) and each of its allowed needs as theme, grow a group by
adding the compatible pool firm with the highest affinity to the members so far until it
reaches ``min_size`` (and ``min_weight``); keep the best candidate.  Opening groups at
their minimum size leaves room for more groups; ``fill_groups`` then inserts the remaining
pool firms where they fit best.

``assign_all`` (CCP mode, fixed number of groups, every firm placed): spread seeds (each
new seed has the least affinity to those chosen), insert the rest heaviest first into the
group with the highest gain that has room, then repair weight bounds by relocations.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from matching.engines.heuristics.moves import (
    can_join,
    caps_allow,
    count_in,
    move,
)


@njit(cache=True)
def _grow(D, S, s, theme, members, score, ok):  # type: ignore[no-untyped-def]
    """Greedily grow a group from seed ``s`` (theme ``theme`` or -1); return (size, value)."""
    G = D.cfg.n_slots
    lo, hi = D.indptr[s], D.indptr[s + 1]
    members[0] = s
    k = 1
    weight = D.w[s]
    value = 0.0
    dc = np.zeros((1, S.ccnt.shape[1]), np.int64)  # the growing group's cap label counts
    count_in(dc, D.lab, s, 0, 1)
    for p in range(lo, hi):
        c = D.nbr[p]
        ok[p - lo] = S.a[c] == G and D.fixed[c] == 0 and (theme < 0 or D.has[c, theme] == 1)
        score[p - lo] = D.nbr_aff[p]
    while k < D.cfg.max_size and (k < D.cfg.min_size or weight < D.cfg.min_weight):
        bp = -1
        for p in range(lo, hi):
            q = p - lo
            if not ok[q]:
                continue
            c = D.nbr[p]
            if weight + D.w[c] > D.cfg.max_weight or not caps_allow(dc, D.lab, D.lim, c, -1, 0):
                continue
            if bp < 0 or score[q] > score[bp - lo]:
                bp = p
        if bp < 0:
            break
        c = D.nbr[bp]
        ok[bp - lo] = False
        value += score[bp - lo]
        members[k] = c
        k += 1
        weight += D.w[c]
        count_in(dc, D.lab, c, 0, 1)
        for p in range(lo, hi):
            if ok[p - lo]:
                if D.compat[c, D.nbr[p]] == 0:
                    ok[p - lo] = False
                else:
                    score[p - lo] += D.aff[c, D.nbr[p]]
    if k < D.cfg.min_size or weight < D.cfg.min_weight:
        return 0, 0.0
    return k, value


@njit(cache=True)
def open_groups(D, S, order):  # type: ignore[no-untyped-def]
    """Open new groups from pool firms in empty slots, seeds taken in ``order``."""
    G = D.cfg.n_slots
    n_t = D.has.shape[1]
    deg_max = 1
    for i in range(S.a.shape[0]):
        deg_max = max(deg_max, D.indptr[i + 1] - D.indptr[i])
    members = np.zeros(D.cfg.max_size + 1, np.int64)
    best_members = np.zeros(D.cfg.max_size + 1, np.int64)
    score = np.zeros(deg_max, np.float64)
    ok = np.zeros(deg_max, np.bool_)
    slot = 0
    for s in order:
        if S.a[s] != G or D.fixed[s] != 0:
            continue
        while slot < G and S.size[slot] > 0:
            slot += 1
        if slot >= G:
            return
        best_k, best_v = 0, -1.0
        for theme in range(-1, n_t):
            if (theme < 0) != (D.cfg.themed == 0):
                continue
            if theme >= 0 and (D.has[s, theme] == 0 or D.theme_ok[theme] == 0):
                continue
            k, v = _grow(D, S, s, theme, members, score, ok)
            if k > best_k or (k == best_k and k > 0 and v > best_v):
                best_k, best_v = k, v
                best_members[:k] = members[:k]
        for q in range(best_k):
            move(D, S, best_members[q], slot)
    fill_groups(D, S)


@njit(cache=True)
def fill_groups(D, S):  # type: ignore[no-untyped-def]
    """Insert pool firms into existing groups wherever allowed, best gain first."""
    G = D.cfg.n_slots
    m = S.a.shape[0]
    changed = True
    while changed:
        changed = False
        for g in range(G):
            if S.size[g] == 0:
                continue
            best, bi = -np.inf, -1
            for i in range(m):
                if S.a[i] == G and D.fixed[i] == 0 and can_join(D, S, i, g) and S.gain[i, g] > best:
                    best, bi = S.gain[i, g], i
            if bi >= 0:
                move(D, S, bi, g)
                changed = True


@njit(cache=True)
def assign_all(D, S, seed):  # type: ignore[no-untyped-def]
    """CCP mode: put every pool firm into one of the ``G`` groups; True when bounds hold."""
    np.random.seed(seed)
    G = D.cfg.n_slots
    m = S.a.shape[0]
    free = np.array([i for i in range(m) if S.a[i] == G])
    if free.size == 0:
        return _bounds_hold(D, S)
    np.random.shuffle(free)
    for g in range(G):
        if S.size[g] > 0:
            continue
        best, bi = np.inf, -1
        for i in free:
            if S.a[i] != G:
                continue
            worst = -np.inf
            for h in range(G):
                if S.size[h] > 0:
                    worst = max(worst, S.gain[i, h])
            if worst < best:
                best, bi = worst, i
        if bi >= 0:
            move(D, S, bi, g)
    by_weight = free[np.argsort(-D.w[free], kind="mergesort")]
    for i in by_weight:
        if S.a[i] != G:
            continue
        best, bg, light = -np.inf, -1, 0
        for g in range(G):
            if S.wsum[g] < S.wsum[light]:
                light = g
            fits = S.wsum[g] + D.w[i] <= D.cfg.max_weight and S.size[g] < D.cfg.max_size
            if fits and S.gain[i, g] > best:
                best, bg = S.gain[i, g], g
        move(D, S, i, bg if bg >= 0 else light)
    _repair(D, S)
    return _bounds_hold(D, S)


@njit(cache=True)
def _bounds_hold(D, S):  # type: ignore[no-untyped-def]
    G = D.cfg.n_slots
    for g in range(G):
        if S.size[g] == 0:
            continue
        if S.wsum[g] < D.cfg.min_weight or S.wsum[g] > D.cfg.max_weight:
            return False
        if S.size[g] < D.cfg.min_size or S.size[g] > D.cfg.max_size:
            return False
    return True


@njit(cache=True)
def _repair(D, S):  # type: ignore[no-untyped-def]
    """Relocate firms from groups with slack into groups outside their weight/size bounds."""
    G = D.cfg.n_slots
    m = S.a.shape[0]
    for _ in range(4 * m):
        bad = -1
        for g in range(G):
            over = S.wsum[g] > D.cfg.max_weight or S.size[g] > D.cfg.max_size
            under = S.wsum[g] < D.cfg.min_weight or S.size[g] < D.cfg.min_size
            if over or under:
                bad = g
                break
        if bad < 0:
            return
        over = S.wsum[bad] > D.cfg.max_weight or S.size[bad] > D.cfg.max_size
        best, bi, bg = -np.inf, -1, -1
        for i in range(m):
            g1 = S.a[i]
            if D.fixed[i] != 0 or g1 == G or (over and g1 != bad) or (not over and g1 == bad):
                continue
            for g2 in range(G):
                if g2 == g1 or (not over and g2 != bad):
                    continue
                w1, w2 = S.wsum[g1] - D.w[i], S.wsum[g2] + D.w[i]
                if not over and (w1 < D.cfg.min_weight or S.size[g1] - 1 < D.cfg.min_size):
                    continue
                if over and (w2 > D.cfg.max_weight or S.size[g2] + 1 > D.cfg.max_size):
                    continue
                d = S.gain[i, g2] - S.gain[i, g1]
                if d > best:
                    best, bi, bg = d, i, g2
        if bi < 0:
            return
        move(D, S, bi, bg)
