"""Iterated tabu search over relocate, swap, insert and eject moves (numba kernels).

Each iteration scans the whole neighbourhood with the incremental gain tables (a move's
delta is O(1)): relocate a firm to another group (or insert it from / eject it to the
pool), and swap two firms of different slots (a pool firm replacing a member).  The best
non-tabu move is applied even when it worsens the objective; leaving slot ``g`` makes a
return to ``g`` tabu for a random tenure; a tabu move is allowed when it reaches a new best
feasible solution (aspiration).  After ``depth`` iterations without a new best, the search
restarts from the best solution with a random perturbation whose strength grows while
restarts fail.

Weight bounds (CCP capacities) may be relaxed (``P_RELAX``): moves may then leave groups
outside ``[min_weight, max_weight]`` at a penalty ``lambda * excess`` that grows while the
current solution is infeasible and shrinks while it is feasible (strategic oscillation);
only feasible solutions become the best.  The objective is ``big * placed + affinity``,
lexicographic by construction (``big`` exceeds any possible affinity total).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from matching.heuristics.construct import assign_all, open_groups
from matching.heuristics.moves import (
    P_FIXED_GROUPS,
    P_G,
    P_MAX_SIZE,
    P_MAX_W,
    P_MIN_SIZE,
    P_MIN_W,
    P_RELAX,
    P_REQUIRE_ALL,
    can_join,
    can_join_a,
    can_leave,
    can_leave_a,
    excess,
    move,
    rebuild,
    replace_ok,
    replace_ok_a,
    total_excess,
)

# ctl: search control, persisted between chunks
C_CUR, C_BEST, C_STALL, C_FAILS, C_IT, C_VIOL, C_LAMBDA, C_RUN = range(8)
# F: float settings
(F_BIG, F_DEPTH, F_TMIN, F_TRAND, F_PERT, F_PERT_MAX, F_DENSE, F_LAMBDA0, F_RATE, F_FLOOR,
 F_FROM_BEST, F_FRESH) = range(12)  # fmt: skip


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
    lam,
    viol,
):
    G = P[P_G]
    relax = P[P_RELAX] != 0
    be = -np.inf
    kind, bi, bt, ties, bd, bv = 0, -1, -1, 0, 0.0, 0
    for i in range(a.shape[0]):
        if fixed[i] != 0:
            continue
        g1 = a[i]
        base = gain[i, g1]
        wi = w[i]
        if can_leave_a(i, g1, size, wsum, cnt, w, has, theme_ok, req, P):
            lose = 1.0 if g1 != G else 0.0
            v1 = 0
            if relax and g1 != G:
                v1 = excess(wsum[g1] - wi, P) - excess(wsum[g1], P)
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
                d = big * ((1.0 if g2 != G else 0.0) - lose) + gain[i, g2] - base
                dv = v1
                if relax and g2 != G:
                    dv += excess(wsum[g2] + wi, P) - excess(wsum[g2], P)
                e = d - lam * dv
                if e < be - 1e-12:
                    continue
                if not can_join_a(
                    i, g2, size, wsum, good, cnt, dcnt, w, has, div, theme_ok, req, P
                ):
                    continue
                if tabu[i, g2] > it and not (viol + dv == 0 and cur + d > best + 1e-9):
                    continue
                if e > be + 1e-12:
                    ties = 0
                ties += 1
                if ties == 1 or np.random.random() * ties < 1.0:
                    be, bd, bv, kind, bi, bt = e, d, dv, 1, i, g2
        for p in range(indptr[i], indptr[i + 1]):
            j = nbr[p]
            g2 = a[j]
            if j <= i or g2 == g1 or fixed[j] != 0:
                continue
            both = (1.0 if g1 != G else 0.0) + (1.0 if g2 != G else 0.0)
            d = gain[i, g2] + gain[j, g1] - base - gain[j, g2] - nbr_aff[p] * both
            dv = 0
            if relax and w[j] != wi:
                if g1 != G:
                    dv += excess(wsum[g1] - wi + w[j], P) - excess(wsum[g1], P)
                if g2 != G:
                    dv += excess(wsum[g2] - w[j] + wi, P) - excess(wsum[g2], P)
            e = d - lam * dv
            if e < be - 1e-12:
                continue
            if not replace_ok_a(
                j, i, g1, size, wsum, good, cnt, dcnt, w, has, div, compat, theme_ok, req, P
            ):
                continue
            if not replace_ok_a(
                i, j, g2, size, wsum, good, cnt, dcnt, w, has, div, compat, theme_ok, req, P
            ):
                continue
            if (tabu[i, g2] > it or tabu[j, g1] > it) and not (
                viol + dv == 0 and cur + d > best + 1e-9
            ):
                continue
            if e > be + 1e-12:
                ties = 0
            ties += 1
            if ties == 1 or np.random.random() * ties < 1.0:
                be, bd, bv, kind, bi, bt = e, d, dv, 2, i, j
    return kind, bi, bt, bd, bv


@njit(cache=True)
def _scan_dense(  # type: ignore[no-untyped-def]
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
    aff,
    compat,
    theme_ok,
    req,
    P,
    fixed,
    tabu,
    it,
    cur,
    best,
    big,
    lam,
    viol,
    aff_floor,
):
    """Dense variant (few groups, large neighbourhoods): swaps scanned group by group.

    For firm ``i`` in ``g1`` and a target group ``g2`` an upper bound on every swap's score
    is ``gain[i, g2] - gain[i, g1] + max_j(gain[j, g1] - gain[j, g2])`` plus the largest
    possible affinity and penalty corrections; groups whose bound cannot beat the best move
    so far are skipped without looking at their members.
    """
    G = P[P_G]
    m = a.shape[0]
    relax = P[P_RELAX] != 0
    be = -np.inf
    kind, bi, bt, ties, bd, bv = 0, -1, -1, 0, 0.0, 0
    start = np.zeros(G + 2, np.int64)
    for i in range(m):
        start[a[i] + 1] += 1
    for g in range(G + 1):
        start[g + 1] += start[g]
    mem = np.empty(m, np.int64)
    fill = start[:-1].copy()
    for i in range(m):
        mem[fill[a[i]]] = i
        fill[a[i]] += 1
    exc = np.zeros(G + 1, np.int64)
    if relax:
        for g in range(G):
            if size[g] > 0:
                exc[g] = excess(wsum[g], P)
    best_gap = np.full((G + 1, G + 1), -np.inf)
    for j in range(m):
        if fixed[j] != 0:
            continue
        g2 = a[j]
        for g1 in range(G + 1):
            v = gain[j, g1] - gain[j, g2]
            if v > best_gap[g1, g2]:
                best_gap[g1, g2] = v
    for i in range(m):
        if fixed[i] != 0:
            continue
        g1 = a[i]
        if not can_leave_a(i, g1, size, wsum, cnt, w, has, theme_ok, req, P):
            continue
        base = gain[i, g1]
        lose = 1.0 if g1 != G else 0.0
        v1 = excess(wsum[g1] - w[i], P) - exc[g1] if relax and g1 != G else 0
        for g2 in range(G + 1):
            if g2 == g1:
                continue
            d = big * ((1.0 if g2 != G else 0.0) - lose) + gain[i, g2] - base
            dv = v1
            if relax and g2 != G:
                dv += excess(wsum[g2] + w[i], P) - exc[g2]
            e = d - lam * dv
            if e < be - 1e-12:
                continue
            if not can_join_a(i, g2, size, wsum, good, cnt, dcnt, w, has, div, theme_ok, req, P):
                continue
            if tabu[i, g2] > it and not (viol + dv == 0 and cur + d > best + 1e-9):
                continue
            if e > be + 1e-12:
                ties = 0
            ties += 1
            if ties == 1 or np.random.random() * ties < 1.0:
                be, bd, bv, kind, bi, bt = e, d, dv, 1, i, g2
    for i in range(m):
        if fixed[i] != 0:
            continue
        g1 = a[i]
        base = gain[i, g1]
        wi = w[i]
        for g2 in range(G + 1):
            if g2 == g1 or (g1 == G and g2 == G) or start[g2 + 1] == start[g2]:
                continue
            both = (1.0 if g1 != G else 0.0) + (1.0 if g2 != G else 0.0)
            bound = gain[i, g2] - base + best_gap[g1, g2] - both * aff_floor
            if bound + lam * (exc[g1] + exc[g2]) < be - 1e-12:
                continue
            for q in range(start[g2], start[g2 + 1]):
                j = mem[q]
                if j <= i or fixed[j] != 0:
                    continue
                d = gain[i, g2] + gain[j, g1] - base - gain[j, g2] - aff[i, j] * both
                dv = 0
                if relax and w[j] != wi:
                    if g1 != G:
                        dv += excess(wsum[g1] - wi + w[j], P) - exc[g1]
                    if g2 != G:
                        dv += excess(wsum[g2] - w[j] + wi, P) - exc[g2]
                e = d - lam * dv
                if e < be - 1e-12:
                    continue
                if not replace_ok_a(
                    j, i, g1, size, wsum, good, cnt, dcnt, w, has, div, compat, theme_ok, req, P
                ):
                    continue
                if not replace_ok_a(
                    i, j, g2, size, wsum, good, cnt, dcnt, w, has, div, compat, theme_ok, req, P
                ):
                    continue
                if (tabu[i, g2] > it or tabu[j, g1] > it) and not (
                    viol + dv == 0 and cur + d > best + 1e-9
                ):
                    continue
                if e > be + 1e-12:
                    ties = 0
                ties += 1
                if ties == 1 or np.random.random() * ties < 1.0:
                    be, bd, bv, kind, bi, bt = e, d, dv, 2, i, j
    return kind, bi, bt, bd, bv


@njit(cache=True)
def _scan_ccp(a, size, wsum, gain, w, aff, P, tabu, it, cur, best, lam, viol):  # type: ignore[no-untyped-def]
    """Plain variant for CCP-like windows: all pairs compatible, no themes, divisions,
    pinned firms or pool moves (every firm placed); only size and weight rules apply.

    A tight loop over all pairs: a swap's delta is O(1) from the gain table, and its
    penalty term can only lower it when the groups involved are within their bounds.
    """
    G = P[P_G]
    m = a.shape[0]
    relax = P[P_RELAX] != 0
    lo, hi = P[P_MIN_SIZE], P[P_MAX_SIZE]
    be = -np.inf
    kind, bi, bt, ties, bd, bv = 0, -1, -1, 0, 0.0, 0
    exc = np.zeros(G + 1, np.int64)
    if relax:
        for g in range(G):
            exc[g] = excess(wsum[g], P)
    for i in range(m):
        g1 = a[i]
        if size[g1] - 1 < lo or (not relax and wsum[g1] - w[i] < P[P_MIN_W]):
            continue
        base = gain[i, g1]
        v1 = excess(wsum[g1] - w[i], P) - exc[g1] if relax else 0
        for g2 in range(G):
            if g2 == g1 or size[g2] + 1 > hi or size[g2] == 0:
                continue
            if not relax and wsum[g2] + w[i] > P[P_MAX_W]:
                continue
            d = gain[i, g2] - base
            dv = v1 + (excess(wsum[g2] + w[i], P) - exc[g2] if relax else 0)
            e = d - lam * dv
            if e < be - 1e-12:
                continue
            if tabu[i, g2] > it and not (viol + dv == 0 and cur + d > best + 1e-9):
                continue
            if e > be + 1e-12:
                ties = 0
            ties += 1
            if ties == 1 or np.random.random() * ties < 1.0:
                be, bd, bv, kind, bi, bt = e, d, dv, 1, i, g2
    for i in range(m):
        g1 = a[i]
        base = gain[i, g1]
        wi = w[i]
        row = aff[i]
        for j in range(i + 1, m):
            g2 = a[j]
            if g2 == g1:
                continue
            d = gain[i, g2] - base + gain[j, g1] - gain[j, g2] - 2.0 * row[j]
            slack = lam * (exc[g1] + exc[g2]) if relax else 0.0
            if d + slack < be - 1e-12:
                continue
            wj = w[j]
            dv = 0
            if wj != wi:
                n1, n2 = wsum[g1] - wi + wj, wsum[g2] - wj + wi
                if relax:
                    dv = excess(n1, P) - exc[g1] + excess(n2, P) - exc[g2]
                elif excess(n1, P) > 0 or excess(n2, P) > 0:
                    continue
            e = d - lam * dv
            if e < be - 1e-12:
                continue
            if (tabu[i, g2] > it or tabu[j, g1] > it) and not (
                viol + dv == 0 and cur + d > best + 1e-9
            ):
                continue
            if e > be + 1e-12:
                ties = 0
            ties += 1
            if ties == 1 or np.random.random() * ties < 1.0:
                be, bd, bv, kind, bi, bt = e, d, dv, 2, i, j
    return kind, bi, bt, bd, bv


@njit(cache=True)
def best_move(D, S, tabu, it, cur, best, big, dense, lam, viol, floor):  # type: ignore[no-untyped-def]
    """The best admissible move as ``(kind, i, target, delta, excess_delta)``.

    Kind 1 relocates ``i`` to slot ``target``; kind 2 swaps ``i`` with firm ``target``;
    kind 0: no admissible move.  Moves are ranked by ``delta - lam * excess_delta``.
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
        lam,
        viol,
    )


@njit(cache=True)
def perturb(D, S, strength):  # type: ignore[no-untyped-def]
    """Apply ``strength`` random allowed relocations/swaps between groups."""
    m = S.a.shape[0]
    G = D.P[P_G]
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
                move(D, S, i, gj)
                done += 1
        elif replace_ok(D, S, j, i) and replace_ok(D, S, i, j):
            move(D, S, i, gj)
            move(D, S, j, gi)
            done += 1


@njit(cache=True)
def dissolve(D, S, g, min_gain):  # type: ignore[no-untyped-def]
    """Move every member of group ``g`` to its best other group.

    Returns ``(done, delta)``: when some member fits nowhere, or the affinity change
    ``delta`` is not above ``min_gain``, everything is undone and ``done`` is False.
    """
    members = np.nonzero(S.a == g)[0]
    for i in members:
        if D.fixed[i] != 0:
            return False, 0.0
    G = D.P[P_G]
    done = 0
    delta = 0.0
    for i in members:
        best, bh = -np.inf, -1
        for h in range(G):
            if h != g and S.size[h] > 0 and can_join(D, S, i, h) and S.gain[i, h] > best:
                best, bh = S.gain[i, h], h
        if bh < 0:
            break
        delta += S.gain[i, bh] - S.gain[i, g]
        move(D, S, i, bh)
        done += 1
    if done == members.shape[0] and delta > min_gain:
        return True, delta
    for q in range(done - 1, -1, -1):
        move(D, S, members[q], g)
    return False, 0.0


@njit(cache=True)
def merge_groups(D, S):  # type: ignore[no-untyped-def]
    """Dissolve groups (weakest first) whose members all fit elsewhere with a net gain.

    Larger groups have more pairs, so spreading a weak group over its neighbours often
    raises the total affinity while every firm stays placed.  Returns the affinity gain.
    """
    G = D.P[P_G]
    if D.P[P_FIXED_GROUPS] != 0 or D.P[P_REQUIRE_ALL] != 0:
        return 0.0
    mean = np.full(G, np.inf)
    for i in range(S.a.shape[0]):
        g = S.a[i]
        if g != G:
            if mean[g] == np.inf:
                mean[g] = 0.0
            mean[g] += S.gain[i, g] / S.size[g]
    total = 0.0
    for g in np.argsort(mean):
        if S.size[g] > 0:
            done, delta = dissolve(D, S, g, 1e-9)
            if done:
                total += delta
    return total


@njit(cache=True)
def _rescore(D, S, F, ctl):  # type: ignore[no-untyped-def]
    ctl[C_CUR] = placed_score(D, S, F[F_BIG])
    ctl[C_VIOL] = total_excess(D, S)
    ctl[C_STALL] = 0


@njit(cache=True)
def _fresh(D, S, keep, tabu, order, F, ctl):  # type: ignore[no-untyped-def]
    """Start a new run from a fresh randomised construction (the global best is kept)."""
    G = D.P[P_G]
    for i in range(S.a.shape[0]):
        if D.fixed[i] == 0:
            S.a[i] = G
    rebuild(D, S)
    tabu[:] = 0
    if D.P[P_REQUIRE_ALL] != 0:
        assign_all(D, S, np.random.randint(1 << 30))
    else:
        shuffled = order.copy()
        np.random.shuffle(shuffled)
        open_groups(D, S, shuffled)
        merge_groups(D, S)
    _rescore(D, S, F, ctl)
    ctl[C_FAILS] = 0
    ctl[C_RUN] = ctl[C_CUR] if ctl[C_VIOL] == 0 else -np.inf
    keep[1] = S.a


@njit(cache=True)
def _restart(D, S, keep, tabu, order, F, ctl):  # type: ignore[no-untyped-def]
    """Perturb the run's best solution (or the current one), or start fresh when stuck."""
    ctl[C_FAILS] += 1
    if ctl[C_FAILS] >= F[F_FRESH]:
        _fresh(D, S, keep, tabu, order, F, ctl)
        return
    if ctl[C_RUN] > -np.inf and F[F_FROM_BEST] > 0:
        S.a[:] = keep[1]
        rebuild(D, S)
    tabu[:] = 0
    strength = int(min(F[F_PERT] + ctl[C_FAILS], F[F_PERT_MAX]))
    perturb(D, S, strength)
    if D.P[P_FIXED_GROUPS] == 0 and D.P[P_REQUIRE_ALL] == 0:
        if np.random.random() < 0.5:
            g = S.a[np.random.randint(S.a.shape[0])]
            if g != D.P[P_G]:
                dissolve(D, S, g, -np.inf)
        merge_groups(D, S)
    open_groups(D, S, order)
    _rescore(D, S, F, ctl)


@njit(cache=True)
def search(D, S, keep, tabu, order, F, ctl, n_iter, seed):  # type: ignore[no-untyped-def]
    """Run ``n_iter`` tabu iterations, continuing from ``ctl``.

    ``keep[0]`` holds the best assignment found, ``keep[1]`` the best of the current run
    (restarts perturb it; after ``F_FRESH`` failed restarts a new run starts from scratch).
    """
    np.random.seed(seed)
    big = F[F_BIG]
    dense = F[F_DENSE] > 0
    relax = D.P[P_RELAX] != 0
    for _ in range(n_iter):
        it = int(ctl[C_IT])
        ctl[C_IT] += 1
        kind, i, t, d, dv = best_move(
            D,
            S,
            tabu,
            it,
            ctl[C_CUR],
            ctl[C_BEST],
            big,
            dense,
            ctl[C_LAMBDA],
            int(ctl[C_VIOL]),
            F[F_FLOOR],
        )
        if kind == 0:
            _restart(D, S, keep, tabu, order, F, ctl)
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
        ctl[C_VIOL] += dv
        if relax:
            if ctl[C_VIOL] > 0:
                ctl[C_LAMBDA] *= 1.0 + F[F_RATE]
            else:
                ctl[C_LAMBDA] = max(ctl[C_LAMBDA] / (1.0 + F[F_RATE]), F[F_LAMBDA0] * 1e-3)
        if ctl[C_VIOL] == 0 and ctl[C_CUR] > ctl[C_RUN] + 1e-9:
            ctl[C_RUN] = ctl[C_CUR]
            keep[1] = S.a
            ctl[C_FAILS] = 0
            ctl[C_STALL] = 0
            if ctl[C_CUR] > ctl[C_BEST] + 1e-9:
                ctl[C_BEST] = ctl[C_CUR]
                keep[0] = S.a
        else:
            ctl[C_STALL] += 1
        if ctl[C_STALL] >= F[F_DEPTH]:
            _restart(D, S, keep, tabu, order, F, ctl)
