"""A proven upper bound on the affinity objective: Lagrangian relaxation of "mates agree".

The affinity objective adds up, over the placed firms, each firm's *share*: with
``member_mean`` (peer) its mean affinity to its group mates, ``sum_j a_ij / (s - 1)`` in a
group of ``s``; with ``pair_sum`` half its affinity to each mate, ``sum_j a_ij / 2`` (every
pair is counted once, half by each side).  So a solution is a choice, per firm, of a group
size ``s`` and a set ``S_i`` of ``s - 1`` compatible mates, subject to agreement: ``j`` is a
mate of ``i`` exactly when ``i`` is a mate of ``j`` (``y_ij = y_ji``), and mates of mates are
mates of each other.

**Relaxation.**  Drop "mates of mates" (and every other rule that only removes groups:
caps, pins, weights, themes that not every member needs to have), and move the agreement
constraints into the objective with multipliers ``mu_ij = -mu_ji`` (one free number per
compatible pair)::

    L(mu) = sum_i max( 0, max_s  top_{s-1} over j of ( a_ij * w_s + mu_ij ) )

where ``w_s`` is ``1 / (s - 1)`` (member_mean) or ``1 / 2`` (pair_sum), ``s`` runs over the
allowed sizes, and the 0 is "leave ``i`` unassigned" (absent when every firm must be
placed).  For any agreeing choice the multiplier terms cancel (``mu_ij + mu_ji = 0``), so
``L(mu)`` is at least the value of every feasible solution, whatever ``mu`` is: **every
``L(mu)`` is a valid bound**.  ``mu = 0`` is the per-firm "star" bound (each firm with its
``s - 1`` best partners); the multipliers make firms that want each other one-sidedly pay
for it.  They are improved by subgradient steps (Polyak's rule, aiming at the best known
solution's value); the bound reported is the smallest ``L(mu)`` evaluated.  It is evaluated
exactly in floating point, with a relative safety margin of ``1e-9``.

**Themes.**  Where every member must have the group's theme (``min_theme_share`` 1, the
``training`` default), a firm picks one of its own allowed needs and only mates that have
it: that keeps the bound near the truth when many firms share no theme with enough others.

**Pairs.**  All compatible pairs are needed (the relaxation's firms may choose any).  When
the pair graph keeps only each firm's ``k`` best partners (``max_neighbours``), the pairs it
dropped are represented per firm by "phantom" mates worth the most a dropped pair can be
worth (see :func:`_tail_values`), so the bound stays valid there too.

Firms in locked groups are fixed: their groups' value is added as it is.  Firms that cannot
be placed (ineligible) contribute 0.  Instances without a largest group size (the CCP
benchmark's weight-bounded groups) get no bound (``None``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from matching.core import constraints as c
from matching.core.objective import group_values, pair_graph
from matching.core.problem import Instance

SAFETY = 1e-9
"""Relative margin added to the bound against floating-point rounding."""

STALL_ITERATIONS = 12
"""Halve the subgradient step after this many iterations without a lower bound."""

MIN_STEP_SCALE = 1e-4
"""Stop when the step scale falls below this."""


@dataclass(frozen=True)
class Bound:
    """An upper bound on the affinity objective of every feasible solution.

    Attributes
    ----------
    value
        The bound (``>=`` the affinity of any solution that satisfies the hard rules).
    star
        The plain per-firm bound (``mu = 0``), for comparison.
    iterations
        Subgradient iterations performed.
    seconds
        Time spent.
    """

    value: float
    star: float
    iterations: int
    seconds: float


def applies(instance: Instance) -> bool:
    """Whether :func:`affinity_bound` can bound ``instance`` (it has a largest group size)."""
    return instance.max_size is not None and instance.n_firms > 0


@njit(cache=True, inline="always")
def _insert(buf: NDArray[np.float64], pos: NDArray[np.int64], k: int, v: float, e: int) -> None:
    """Put value ``v`` of entry ``e`` into the descending top-``k`` buffer."""
    t = k - 1
    while t > 0 and buf[t - 1] < v:
        buf[t], pos[t] = buf[t - 1], pos[t - 1]
        t -= 1
    buf[t], pos[t] = v, e


@njit(cache=True)
def _top(
    i: int, lo: int, hi: int, k: int, w: float, phantom: float, theme: int,
    aff: NDArray[np.float64], mu: NDArray[np.float64], order: NDArray[np.int64],
    indices: NDArray[np.int64], moved: NDArray[np.bool_], moved_ptr: NDArray[np.int64],
    moved_idx: NDArray[np.int64], has_need: NDArray[np.bool_], buf: NDArray[np.float64],
    pos: NDArray[np.int64],
) -> float:  # fmt: skip
    """Firm ``i``'s best ``k`` mates worth ``aff * w + mu`` (with ``theme >= 0``: only mates
    that have that need), ``k`` phantom mates worth ``phantom`` among them; the sum."""
    for u in range(k):
        buf[u], pos[u] = phantom, -1
    for q in range(moved_ptr[i], moved_ptr[i + 1]):
        e = moved_idx[q]
        if theme >= 0 and not has_need[indices[e], theme]:
            continue
        v = aff[e] * w + mu[e]
        if v > buf[k - 1]:
            _insert(buf, pos, k, v, e)
    for q in range(lo, hi):
        e = order[q]
        if moved[e] or (theme >= 0 and not has_need[indices[e], theme]):
            continue
        v = aff[e] * w
        if v <= buf[k - 1]:
            break  # the rest of the row is worth no more
        _insert(buf, pos, k, v, e)
    value = 0.0
    for u in range(k):
        value += buf[u]
    return value


@njit(cache=True)
def _evaluate(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    aff: NDArray[np.float64],
    mu: NDArray[np.float64],
    order: NDArray[np.int64],
    moved: NDArray[np.bool_],
    moved_ptr: NDArray[np.int64],
    moved_idx: NDArray[np.int64],
    tail: NDArray[np.float64],
    sizes: NDArray[np.int64],
    weights: NDArray[np.float64],
    whole_theme: NDArray[np.bool_],
    theme_ptr: NDArray[np.int64],
    theme_idx: NDArray[np.int64],
    has_need: NDArray[np.bool_],
    allow_empty: bool,
    picks: NDArray[np.int64],
) -> float:
    """``L(mu)``; ``picks[i]`` gets the mates firm ``i`` picks at its best size (``-1``: none).

    Only the entries in ``moved`` can have ``mu != 0`` (``moved_idx[moved_ptr[i]:moved_ptr[i +
    1]]`` are firm ``i``'s); every other entry is worth ``aff * w``, so firm ``i``'s best of
    those are the first of its row in ``order`` (each row sorted by affinity, descending):
    a firm looks at its moved entries and at the head of its row, never at the whole row.
    Where a size demands the theme of every member (``whole_theme``), the firm and all its
    mates share one of the firm's allowed needs (``theme_idx[theme_ptr[i]:theme_ptr[i+1]]``).
    """
    n = len(indptr) - 1
    total = 0.0
    k_max = picks.shape[1]
    buf = np.empty(max(k_max, 1), np.float64)
    pos = np.empty(max(k_max, 1), np.int64)
    for i in range(n):
        lo, hi = indptr[i], indptr[i + 1]
        has_tail = not np.isnan(tail[i])
        best, best_t = (0.0 if allow_empty else -np.inf), -1
        for t in range(len(sizes)):
            k = sizes[t] - 1
            if k == 0:
                if best < 0.0:
                    best, best_t = 0.0, t
                    picks[i, :] = -1
                continue
            if k > hi - lo and not has_tail:
                continue
            w = weights[t]
            phantom = tail[i] * w if has_tail else -np.inf
            if not whole_theme[t]:
                value = _top(i, lo, hi, k, w, phantom, -1, aff, mu, order, indices, moved,
                             moved_ptr, moved_idx, has_need, buf, pos)  # fmt: skip
                if value > best:
                    best, best_t = value, t
                    for u in range(k_max):
                        picks[i, u] = pos[u] if u < k else -1
                continue
            for q in range(theme_ptr[i], theme_ptr[i + 1]):
                value = _top(i, lo, hi, k, w, phantom, theme_idx[q], aff, mu, order, indices,
                             moved, moved_ptr, moved_idx, has_need, buf, pos)  # fmt: skip
                if value > best:
                    best, best_t = value, t
                    for u in range(k_max):
                        picks[i, u] = pos[u] if u < k else -1
        if best_t < 0:
            picks[i, :] = -1
        if best > -np.inf:
            total += best
    return total


@njit(cache=True)
def _one_sided(
    picks: NDArray[np.int64], reverse: NDArray[np.int64], mark: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """The picked entries ``i -> j`` whose reverse ``j -> i`` is not picked (``mark`` is
    scratch, all False on entry and on return)."""
    flat = picks.ravel()
    for e in flat:
        if e >= 0:
            mark[e] = True
    out = np.empty(len(flat), np.int64)
    m = 0
    for e in flat:
        if e >= 0 and not mark[reverse[e]]:
            out[m] = e
            m += 1
    for e in flat:
        if e >= 0:
            mark[e] = False
    return out[:m]


@njit(cache=True)
def _rows_by_affinity(indptr: NDArray[np.int64], aff: NDArray[np.float64]) -> NDArray[np.int64]:
    """Entry indices, each CSR row sorted by affinity, highest first."""
    order = np.empty(len(aff), np.int64)
    for i in range(len(indptr) - 1):
        lo, hi = indptr[i], indptr[i + 1]
        order[lo:hi] = lo + np.argsort(-aff[lo:hi], kind="mergesort")
    return order


@njit(cache=True)
def _reverse(indptr: NDArray[np.int64], indices: NDArray[np.int64]) -> NDArray[np.int64]:
    """For each CSR entry ``i -> j``, the index of its entry ``j -> i``.

    The graph is symmetric with every row sorted ascending: walking the rows in order, the
    ``c``-th time firm ``j`` appears as a partner, the partner is row ``j``'s ``c``-th entry.
    """
    n = len(indptr) - 1
    cursor = indptr[:-1].copy()
    out = np.empty(len(indices), np.int64)
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            out[e] = cursor[j]
            cursor[j] += 1
    return out


def _tail_values(instance: Instance, indptr: NDArray[np.int64], aff: NDArray[np.float64],
                 partner: NDArray[np.bool_]) -> NDArray[np.float64]:  # fmt: skip
    """Per firm the most a pair left out of a capped graph can be worth (NaN: none left out).

    With ``max_neighbours = k`` a firm keeps its ``k`` best partners by the affinity's
    feature terms (no partner bonus), before forbidden pairs are removed; its list also
    holds pairs kept by the other side.  A dropped partner's feature affinity is at most
    the smallest of the firm's own ``k``, and at least ``k - f`` of those (``f``: forbidden
    pairs of the firm) are in its list, so the ``(k - f)``-th largest feature affinity in
    the list is at least as large.  Add the partner bonus when the firm has a declared
    partner.  A list shorter than ``k - f`` lost nothing.
    """
    n = instance.n_firms
    tail = np.full(n, np.nan)
    k = instance.max_neighbours
    if k is None:
        return tail
    bonus = instance.affinity_weights.partner
    feature = aff - bonus * partner
    forbidden = np.bincount(instance.forbidden.reshape(-1), minlength=n)
    has_partner = np.bincount(instance.partners.reshape(-1), minlength=n) > 0
    for i in range(n):
        need = k - int(forbidden[i])
        row = feature[indptr[i] : indptr[i + 1]]
        if len(row) < need:
            continue
        top = -np.partition(-row, need - 1)[need - 1] if need > 0 else float(row.max(initial=0))
        tail[i] = top + (bonus if has_partner[i] else 0.0)
    return tail


def _themes(
    instance: Instance, sizes: NDArray[np.int64]
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Per size whether every member must have the group's theme (``min_theme_share`` makes
    ``ceil(share * s) == s``); per firm its needs that may be a theme; who has which need.

    With a smaller required count the firm itself or some mate may lack the theme, and the
    relaxation leaves the theme out (still an upper bound).
    """
    n = instance.n_firms
    n_needs = max(instance.n_needs, 1)
    has_need = np.zeros((n, n_needs), bool)
    if not instance.theme_required or instance.needs is None:
        return np.zeros(len(sizes), bool), np.zeros(n + 1, np.int64), np.zeros(0, np.int64), \
            has_need  # fmt: skip
    whole = np.array([c.required_theme_count(instance.min_theme_share, int(s)) >= s
                      for s in sizes])  # fmt: skip
    allowed = set(c.theme_options(instance))
    rows = [[t for t in instance.needs[i] if t in allowed] for i in range(n)]
    for i, needs in enumerate(instance.needs):
        has_need[i, list(needs)] = True
    theme_ptr = np.zeros(n + 1, np.int64)
    np.cumsum([len(r) for r in rows], out=theme_ptr[1:])
    theme_idx = np.array([t for r in rows for t in r], np.int64)
    return whole, theme_ptr, theme_idx, has_need


def _partner_entries(instance: Instance, indptr: NDArray[np.int64],
                     indices: NDArray[np.int64]) -> NDArray[np.bool_]:  # fmt: skip
    n = instance.n_firms
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    if not len(instance.partners):
        return np.zeros(len(indices), bool)
    p = instance.partners
    keys = np.concatenate([p[:, 0] * n + p[:, 1], p[:, 1] * n + p[:, 0]])
    return np.isin(src * n + indices, keys)


def affinity_bound(
    instance: Instance,
    *,
    target: float | None = None,
    deadline: float | None = None,
    max_iterations: int = 200,
) -> Bound | None:
    """An upper bound on the affinity of every feasible solution of ``instance``.

    Parameters
    ----------
    instance
        The instance.
    target
        The affinity of the best known solution (aims the subgradient steps; without it the
        star bound's 95 % is used).
    deadline
        ``time.monotonic()`` value to stop improving at (the bound so far is returned).
    max_iterations
        Most subgradient iterations (the bound is deterministic for a given count when no
        deadline cuts it short).

    Returns
    -------
    Bound or None
        ``None`` when :func:`applies` is false.
    """
    if not applies(instance):
        return None
    started = time.monotonic()
    assert instance.max_size is not None
    graph = pair_graph(instance)
    placeable = instance.is_placeable
    src = np.repeat(np.arange(instance.n_firms, dtype=np.int64), graph.degree)
    keep = placeable[src] & placeable[graph.indices]
    indices, aff = graph.indices[keep], graph.affinity[keep]
    indptr = np.zeros(instance.n_firms + 1, np.int64)
    np.cumsum(np.bincount(src[keep], minlength=instance.n_firms), out=indptr[1:])
    partner = _partner_entries(instance, indptr, indices)
    tail = _tail_values(instance, indptr, aff, partner)
    tail[~placeable] = np.nan

    lo_size = max(instance.min_size or 1, 1)
    sizes = np.arange(lo_size, instance.max_size + 1, dtype=np.int64)
    if instance.group_score == "member_mean":
        weights = np.array([1.0 / max(s - 1, 1) for s in sizes])
    else:
        weights = np.full(len(sizes), 0.5)
    whole_theme, theme_ptr, theme_idx, has_need = _themes(instance, sizes)
    fixed = float(group_values(instance, instance.locked_groups).sum())
    allow_empty = not instance.require_all
    empty_rows = ~placeable
    if empty_rows.any() and not allow_empty:
        allow_empty = True  # unplaceable firms under require_all: no feasible solution anyway

    reverse = _reverse(indptr, indices)
    rows = np.repeat(np.arange(instance.n_firms, dtype=np.int64), np.diff(indptr))
    if not np.array_equal(indices[reverse], rows):  # pragma: no cover - pair graphs are sorted
        raise AssertionError("the pair graph must be symmetric with sorted rows")
    order = _rows_by_affinity(indptr, aff)
    mu = np.zeros(len(indices))
    moved = np.zeros(len(indices), bool)
    mark = np.zeros(len(indices), bool)
    picks = np.full((instance.n_firms, max(int(sizes.max()) - 1, 1)), -1, np.int64)

    def evaluate() -> float:
        moved_idx = np.flatnonzero(moved).astype(np.int64)
        moved_ptr = np.searchsorted(moved_idx, indptr).astype(np.int64)
        return float(_evaluate(indptr, indices, aff, mu, order, moved, moved_ptr, moved_idx,
                               tail, sizes, weights, whole_theme, theme_ptr, theme_idx,
                               has_need, allow_empty, picks))  # fmt: skip

    star = value = best = evaluate()
    aim = 0.95 * star if target is None else target - fixed
    scale, stall, iterations = 1.0, 0, 0
    while iterations < max_iterations and scale > MIN_STEP_SCALE:
        if deadline is not None and time.monotonic() >= deadline:
            break
        one_sided = _one_sided(picks, reverse, mark)
        if not len(one_sided):
            break  # the firms' choices agree: no multiplier can lower L further
        # the subgradient is +1 on i -> j and -1 on j -> i for each one-sided pick
        step = scale * max(value - aim, 1e-6 * max(abs(value), 1.0)) / len(one_sided)
        back = reverse[one_sided]
        mu[one_sided] -= step
        mu[back] += step
        moved[one_sided] = True
        moved[back] = True
        value = evaluate()
        iterations += 1
        if value < best - 1e-12 * max(abs(best), 1.0):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= STALL_ITERATIONS:
                scale, stall = scale / 2.0, 0
    value = fixed + best
    value += SAFETY * max(abs(value), 1.0)
    return Bound(value, fixed + star, iterations, time.monotonic() - started)
