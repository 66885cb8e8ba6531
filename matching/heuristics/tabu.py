"""Iterated tabu search over relocate, swap, insert and eject moves (numba kernels).

Each iteration scans the whole neighbourhood with the incremental gain tables (a move's
delta is O(1)): relocate a firm to another group (or insert it from / eject it to the
pool), and swap two firms of different slots (a pool firm replacing a member).  The best
non-tabu move is applied even when it worsens the objective; leaving slot ``g`` makes a
return to ``g`` tabu for a random tenure; a tabu move is allowed when it beats the best
solution (aspiration).  After ``depth`` iterations without improving the phase's best, the
search restarts from the best solution with a random perturbation whose strength grows
while phases fail.  The objective is ``big * placed + affinity``, lexicographic by
construction (``big`` exceeds any possible affinity total).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from matching.heuristics.construct import open_groups
from matching.heuristics.moves import (
    P_G,
    can_join,
    can_join_a,
    can_leave,
    can_leave_a,
    move,
    rebuild,
    replace_ok,
    replace_ok_a,
)

# ctl: search control, persisted between chunks
C_CUR, C_BEST, C_PHASE, C_STALL, C_FAILS, C_IT = range(6)
# F: float settings
F_BIG, F_DEPTH, F_TMIN, F_TRAND, F_PERT, F_PERT_MAX, F_DENSE = range(7)


@njit(cache=True)
def placed_score(D, S, big):  # type: ignore[no-untyped-def]
    """``big * placed + affinity`` of the state (from the gain tables)."""
    G = D.P[P_G]
    total = 0.0
    placed = 0
    for i in range(S.a.shape[0]):
        g = S.a[i]
        if g != G:
            placed += 1
            total += S.gain[i, g]
    return big * placed + total / 2.0


@njit(cache=True)
def _scan(  # type: ignore[no-untyped-def]
    a,
    size,
    wsum,
    gain,
    good,
    cnt,
    dcnt,
    w,
    has,
    div,
    compat,
    theme_ok,
    req,
    P,
    indptr,
    nbr,
    nbr_aff,
    fixed,
    tabu,
    it,
    cur,
    best,
    big,
    dense,
):
    G = P[P_G]
    bd = -np.inf
    kind, bi, bt, ties = 0, -1, -1, 0
    for i in range(a.shape[0]):
        if fixed[i] != 0:
            continue
        g1 = a[i]
        base = gain[i, g1]
        if can_leave_a(i, g1, size, wsum, cnt, w, has, theme_ok, req, P):
            lose = 1.0 if g1 != G else 0.0
            n_cand = G + 1 if dense else indptr[i + 1] - indptr[i] + 1
            for q in range(n_cand):
                if dense:
                    g2 = q
                elif q == 0:
                    g2 = G
                else:
                    g2 = a[nbr[indptr[i] + q - 1]]
                if g2 == g1:
                    continue
                if not can_join_a(
                    i, g2, size, wsum, good, cnt, dcnt, w, has, div, theme_ok, req, P
                ):
                    continue
                d = big * ((1.0 if g2 != G else 0.0) - lose) + gain[i, g2] - base
                if d < bd - 1e-12:
                    continue
                if tabu[i, g2] > it and cur + d <= best + 1e-9:
                    continue
                if d > bd + 1e-12:
                    ties = 0
                ties += 1
                if ties == 1 or np.random.random() * ties < 1.0:
                    bd, kind, bi, bt = d, 1, i, g2
        for p in range(indptr[i], indptr[i + 1]):
            j = nbr[p]
            g2 = a[j]
            if j <= i or g2 == g1 or fixed[j] != 0:
                continue
            both = (1.0 if g1 != G else 0.0) + (1.0 if g2 != G else 0.0)
            d = gain[i, g2] + gain[j, g1] - base - gain[j, g2] - nbr_aff[p] * both
            if d < bd - 1e-12:
                continue
            if not replace_ok_a(
                j, i, g1, size, wsum, good, cnt, dcnt, w, has, div, compat, theme_ok, req, P
            ):
                continue
            if not replace_ok_a(
                i, j, g2, size, wsum, good, cnt, dcnt, w, has, div, compat, theme_ok, req, P
            ):
                continue
            if (tabu[i, g2] > it or tabu[j, g1] > it) and cur + d <= best + 1e-9:
                continue
            if d > bd + 1e-12:
                ties = 0
            ties += 1
            if ties == 1 or np.random.random() * ties < 1.0:
                bd, kind, bi, bt = d, 2, i, j
    return kind, bi, bt, bd


@njit(cache=True)
def best_move(D, S, tabu, it, cur, best, big, dense):  # type: ignore[no-untyped-def]
    """The best admissible move as ``(kind, i, target, delta)``; kind 0 when none exists.

    Kind 1 relocates ``i`` to slot ``target``; kind 2 swaps ``i`` with firm ``target``.
    """
    return _scan(
        S.a,
        S.size,
        S.wsum,
        S.gain,
        S.good,
        S.cnt,
        S.dcnt,
        D.w,
        D.has,
        D.div,
        D.compat,
        D.theme_ok,
        D.req,
        D.P,
        D.indptr,
        D.nbr,
        D.nbr_aff,
        D.fixed,
        tabu,
        it,
        cur,
        best,
        big,
        dense,
    )


@njit(cache=True)
def perturb(D, S, strength, big):  # type: ignore[no-untyped-def]
    """Apply ``strength`` random feasible relocations/swaps; return the objective change."""
    m = S.a.shape[0]
    G = D.P[P_G]
    delta = 0.0
    done = 0
    for _ in range(50 * strength + 50):
        if done >= strength:
            break
        i = np.random.randint(m)
        j = np.random.randint(m)
        gi, gj = S.a[i], S.a[j]
        if D.fixed[i] != 0 or D.fixed[j] != 0 or gi == gj or (gi == G and gj == G):
            continue
        if np.random.random() < 0.5:
            if can_leave(D, S, i) and gj != G and can_join(D, S, i, gj):
                delta += S.gain[i, gj] - S.gain[i, gi] + big * (0.0 if gi != G else 1.0)
                move(D, S, i, gj)
                done += 1
        elif replace_ok(D, S, j, i) and replace_ok(D, S, i, j):
            both = (1.0 if gi != G else 0.0) + (1.0 if gj != G else 0.0)
            delta += S.gain[i, gj] + S.gain[j, gi] - S.gain[i, gi] - S.gain[j, gj]
            delta -= D.aff[i, j] * both
            move(D, S, i, gj)
            move(D, S, j, gi)
            done += 1
    return delta


@njit(cache=True)
def _restart(D, S, best_a, tabu, order, F, ctl):  # type: ignore[no-untyped-def]
    S.a[:] = best_a
    rebuild(D, S)
    tabu[:] = 0
    strength = int(min(F[F_PERT] + ctl[C_FAILS], F[F_PERT_MAX]))
    perturb(D, S, strength, F[F_BIG])
    open_groups(D, S, order)
    ctl[C_CUR] = placed_score(D, S, F[F_BIG])
    ctl[C_PHASE] = ctl[C_CUR]
    ctl[C_STALL] = 0


@njit(cache=True)
def search(D, S, best_a, tabu, order, F, ctl, n_iter, seed):  # type: ignore[no-untyped-def]
    """Run ``n_iter`` tabu iterations, continuing from ``ctl``; ``best_a`` keeps the best."""
    np.random.seed(seed)
    big = F[F_BIG]
    dense = F[F_DENSE] > 0
    for _ in range(n_iter):
        it = int(ctl[C_IT])
        ctl[C_IT] += 1
        kind, i, t, d = best_move(D, S, tabu, it, ctl[C_CUR], ctl[C_BEST], big, dense)
        if kind == 0:
            ctl[C_FAILS] += 1
            _restart(D, S, best_a, tabu, order, F, ctl)
            continue
        tenure = it + int(F[F_TMIN]) + np.random.randint(int(F[F_TRAND]) + 1)
        if kind == 1:
            tabu[i, S.a[i]] = tenure
            move(D, S, i, t)
        else:
            gi, gj = S.a[i], S.a[t]
            tabu[i, gi] = tenure
            tabu[t, gj] = tenure
            move(D, S, i, gj)
            move(D, S, t, gi)
        ctl[C_CUR] += d
        if ctl[C_CUR] > ctl[C_BEST] + 1e-9:
            ctl[C_BEST] = ctl[C_CUR]
            best_a[:] = S.a
            ctl[C_FAILS] = 0
        if ctl[C_CUR] > ctl[C_PHASE] + 1e-9:
            ctl[C_PHASE] = ctl[C_CUR]
            ctl[C_STALL] = 0
        else:
            ctl[C_STALL] += 1
        if ctl[C_STALL] >= F[F_DEPTH]:
            ctl[C_FAILS] += 1
            _restart(D, S, best_a, tabu, order, F, ctl)
