"""Iterated tabu search over relocate, swap, insert and eject moves (numba kernels).

Each iteration scans the whole neighbourhood with the incremental gain tables (a move's
delta is O(1)): relocate a firm to another group (or insert it from / eject it to the
pool), and swap two firms of different slots (a pool firm replacing a member).  The best
non-tabu move is applied even when it worsens the objective; leaving slot ``g`` makes a
return to ``g`` tabu for a random tenure; a tabu move is allowed when it reaches a new best
feasible solution (aspiration).  After ``depth`` iterations without a new best, the search
restarts from the best solution with a random perturbation whose strength grows while
restarts fail.

Weight bounds (CCP capacities) may be relaxed (``cfg.relax``): moves may then leave groups
outside ``[min_weight, max_weight]`` at a penalty ``lambda * excess`` that grows while the
current solution is infeasible and shrinks while it is feasible (strategic oscillation);
only feasible solutions become the best.  The objective is ``big * placed + affinity``,
lexicographic by construction (``big`` exceeds any possible affinity total).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from matching.engines.heuristics.construct import assign_all, open_groups
from matching.engines.heuristics.moves import (
    can_join,
    can_leave,
    excess,
    group_value,
    join_ok,
    leave_ok,
    move,
    pair_factor,
    rebuild,
    replace_ok,
    swap_in_ok,
    total_excess,
    total_value,
)

# ctl: search control, persisted between chunks
C_CUR, C_BEST, C_STALL, C_FAILS, C_IT, C_VIOL, C_LAMBDA, C_RUN = range(8)


class Tune(NamedTuple):
    """Float settings of the search (see :class:`matching.engines.heuristics.search.Tuning`).

    ``big`` exceeds any affinity total (placing a firm always wins); ``depth`` iterations
    without a new best before a restart; tenure ``tenure_min + U(0, tenure_rand)``;
    perturbation strength ``perturb`` up to ``perturb_max``; ``dense``: scan every slot (else
    only the slots of a firm's partners); penalty ``lambda0`` and its growth ``rate``;
    ``from_best``: restarts perturb the run's best; ``fresh``: failed restarts before a fresh
    construction.
    """

    big: float
    depth: float
    tenure_min: float
    tenure_rand: float
    perturb: float
    perturb_max: float
    dense: float
    lambda0: float
    rate: float
    from_best: float
    fresh: float


class Step(NamedTuple):
    """What one neighbourhood scan needs to know of the search (:func:`best_move`).

    ``it``: the iteration (tabu moves are those tabu beyond it); ``cur``/``best``: current
    and best objective (aspiration); ``lam``: the weight-excess penalty; ``viol``: the
    current excess.
    """

    it: int
    cur: float
    best: float
    big: float
    dense: bool
    lam: float
    viol: int


@njit(cache=True)
def placed_score(D, S, big):  # type: ignore[no-untyped-def]
    """``big * placed + affinity`` of the state (from the gain tables; ``member_mean``: from
    the pair sums ``S.pair``)."""
    G = D.cfg.n_slots
    total = 0.0
    placed = 0
    if D.cfg.mean != 0:
        return big * (S.a != G).sum() + total_value(D, S)
    for i in range(S.a.shape[0]):
        g = S.a[i]
        if g != G:
            placed += 1
            total += S.gain[i, g]
    return big * placed + total / 2.0


@njit(cache=True)
def best_move(D, S, tabu, step):  # type: ignore[no-untyped-def]
    """The best admissible move as ``(kind, i, target, delta, excess_delta)``.

    Kind 1 relocates ``i`` to slot ``target``; kind 2 swaps ``i`` with firm ``target``;
    kind 0: no admissible move.  Moves are ranked by ``delta - step.lam * excess_delta``.
    """
    a, size, wsum, gain, good, cnt, ccnt, pair = S  # unpacked once: see moves.leave_ok
    w, has, lab, lim, indptr, nbr, nbr_aff = D.w, D.has, D.lab, D.lim, D.indptr, D.nbr, D.nbr_aff
    compat, fixed, theme_ok, req = D.compat, D.fixed, D.theme_ok, D.req
    cfg = D.cfg
    it, cur, best, big, dense, lam, viol = step
    G = cfg.n_slots
    relax = cfg.relax != 0
    mean = cfg.mean != 0
    be = -np.inf
    kind, bi, bt, ties, bd, bv = 0, -1, -1, 0, 0.0, 0
    for i in range(a.shape[0]):
        if fixed[i] != 0:
            continue
        g1 = a[i]
        base = gain[i, g1]
        wi = w[i]
        f1 = pair_factor(size[g1], mean) if g1 != G else 0.0
        if leave_ok(i, g1, size, wsum, cnt, w, has, theme_ok, req, cfg):
            lose = 1.0 if g1 != G else 0.0
            v1 = 0
            if relax and g1 != G:
                v1 = excess(wsum[g1] - wi, cfg) - excess(wsum[g1], cfg)
            left = 0.0  # member_mean: value change of g1 when i leaves
            if mean and g1 != G:
                left = group_value(pair[g1] - base, size[g1] - 1, True) - group_value(
                    pair[g1], size[g1], True
                )
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
                if mean:
                    d = big * ((1.0 if g2 != G else 0.0) - lose) + left
                    if g2 != G:
                        d += group_value(pair[g2] + gain[i, g2], size[g2] + 1, True)
                        d -= group_value(pair[g2], size[g2], True)
                else:
                    d = big * ((1.0 if g2 != G else 0.0) - lose) + gain[i, g2] - base
                dv = v1
                if relax and g2 != G:
                    dv += excess(wsum[g2] + wi, cfg) - excess(wsum[g2], cfg)
                e = d - lam * dv
                if e < be - 1e-12:
                    continue
                if not join_ok(
                    i, g2, size, wsum, good, cnt, ccnt, w, has, lab, lim, theme_ok, req, cfg
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
            if mean:
                f2 = pair_factor(size[g2], True) if g2 != G else 0.0
                c = nbr_aff[p]
                d = f1 * (gain[j, g1] - base - c) + f2 * (gain[i, g2] - gain[j, g2] - c)
            else:
                both = (1.0 if g1 != G else 0.0) + (1.0 if g2 != G else 0.0)
                d = gain[i, g2] + gain[j, g1] - base - gain[j, g2] - nbr_aff[p] * both
            dv = 0
            if relax and w[j] != wi:
                if g1 != G:
                    dv += excess(wsum[g1] - wi + w[j], cfg) - excess(wsum[g1], cfg)
                if g2 != G:
                    dv += excess(wsum[g2] - w[j] + wi, cfg) - excess(wsum[g2], cfg)
            e = d - lam * dv
            if e < be - 1e-12:
                continue
            if not swap_in_ok(
                j, i, g1, size, wsum, good, cnt, ccnt, w, has, lab, lim, compat, theme_ok, req, cfg
            ):
                continue
            if not swap_in_ok(
                i, j, g2, size, wsum, good, cnt, ccnt, w, has, lab, lim, compat, theme_ok, req, cfg
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
def perturb(D, S, strength):  # type: ignore[no-untyped-def]
    """Apply ``strength`` random allowed relocations/swaps between groups."""
    m = S.a.shape[0]
    G = D.cfg.n_slots
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
    G = D.cfg.n_slots
    mean = D.cfg.mean != 0
    before = total_value(D, S) if mean else 0.0
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
    if mean and done == members.shape[0]:
        delta = total_value(D, S) - before
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
    G = D.cfg.n_slots
    if D.cfg.fixed_groups != 0 or D.cfg.require_all != 0:
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
    ctl[C_CUR] = placed_score(D, S, F.big)
    ctl[C_VIOL] = total_excess(D, S)
    ctl[C_STALL] = 0


@njit(cache=True)
def _fresh(D, S, keep, tabu, order, F, ctl):  # type: ignore[no-untyped-def]
    """Start a new run from a fresh randomised construction (the global best is kept)."""
    G = D.cfg.n_slots
    for i in range(S.a.shape[0]):
        if D.fixed[i] == 0:
            S.a[i] = G
    rebuild(D, S)
    tabu[:] = 0
    if D.cfg.require_all != 0:
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
    if ctl[C_FAILS] >= F.fresh:
        _fresh(D, S, keep, tabu, order, F, ctl)
        return
    if ctl[C_RUN] > -np.inf and F.from_best > 0:
        S.a[:] = keep[1]
        rebuild(D, S)
    tabu[:] = 0
    strength = int(min(F.perturb + ctl[C_FAILS], F.perturb_max))
    perturb(D, S, strength)
    if D.cfg.fixed_groups == 0 and D.cfg.require_all == 0:
        if np.random.random() < 0.5:
            g = S.a[np.random.randint(S.a.shape[0])]
            if g != D.cfg.n_slots:
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
    big = F.big
    dense = F.dense > 0
    relax = D.cfg.relax != 0
    for _ in range(n_iter):
        it = int(ctl[C_IT])
        ctl[C_IT] += 1
        step = Step(it, ctl[C_CUR], ctl[C_BEST], big, dense, ctl[C_LAMBDA], int(ctl[C_VIOL]))
        kind, i, t, d, dv = best_move(D, S, tabu, step)
        if kind == 0:
            _restart(D, S, keep, tabu, order, F, ctl)
            continue
        tenure = it + int(F.tenure_min) + np.random.randint(int(F.tenure_rand) + 1)
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
                ctl[C_LAMBDA] *= 1.0 + F.rate
            else:
                ctl[C_LAMBDA] = max(ctl[C_LAMBDA] / (1.0 + F.rate), F.lambda0 * 1e-3)
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
        if ctl[C_STALL] >= F.depth:
            _restart(D, S, keep, tabu, order, F, ctl)
