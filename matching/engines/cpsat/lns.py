"""Large-neighbourhood search with CP-SAT as the exact sub-solver.

Each round frees a few neighbouring groups (2-4; neighbours by centroid distance, or by
affinity between groups without coordinates) plus unassigned firms compatible with their
members, up to ``MAX_FREE`` firms, and solves that window exactly with the current
assignment as a hint.  The result replaces the freed groups when it is lexicographically
better (more firms placed, then more affinity, recomputed exactly with
:mod:`matching.core.objective`) and every new group passes the verifier's group checks.
Seeded and, in budget mode, limited by CP-SAT's deterministic time, so reproducible.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.core import constraints as c
from matching.core.objective import group_pair_sums, group_values, pair_graph
from matching.core.params import SolveParams
from matching.core.problem import Instance
from matching.core.progress import Progress, mates_of_groups
from matching.core.stop import Budget
from matching.core.verify import check_group
from matching.engines.cpsat.model import ClusteringModel
from matching.engines.heuristics.window import make_window

MAX_FREE = 60
"""Most firms freed per round."""

ROUND_LIMIT_S = 2.0
"""Wall-clock cap of one CP-SAT call."""

DETERMINISTIC_LIMIT = 0.25
"""CP-SAT deterministic-time cap of one call in budget mode."""


def _value(instance: Instance, groups: list[list[int]]) -> tuple[int, float]:
    """Firms placed and affinity of ``groups``, as :func:`matching.core.objective.evaluate` adds
    them up (the CP-SAT model maximises the pair sum; with ``member_mean`` its result is
    kept only when it is better by this measure too)."""
    return sum(len(g) for g in groups), float(group_values(instance, groups).sum())


def _neighbour_groups(instance: Instance, groups: list[list[int]], g0: int, k: int) -> list[int]:
    if instance.lats is not None and instance.lons is not None:
        lat = np.array([instance.lats[g].mean() for g in groups])
        lon = np.array([instance.lons[g].mean() for g in groups])
        scale = np.cos(np.radians(lat[g0]))
        dist = (lat - lat[g0]) ** 2 + ((lon - lon[g0]) * scale) ** 2
        return [int(g) for g in np.argsort(dist, kind="mergesort")[:k]]
    if instance.affinity_matrix is not None:
        mat = instance.affinity_matrix
        score = np.array([mat[np.ix_(groups[g0], g)].sum() / max(len(g), 1) for g in groups])
        score[g0] = np.inf
        return [int(g) for g in np.argsort(-score, kind="mergesort")[:k]]
    return [g0, *[g for g in range(len(groups)) if g != g0][: k - 1]]


def _free_pool(
    instance: Instance, members: list[int], pool: NDArray[np.int64], room: int
) -> list[int]:
    if room <= 0 or len(pool) == 0:
        return []
    pg = pair_graph(instance)
    hits = np.zeros(instance.n_firms, np.int64)
    for i in members:
        hits[pg.of(i)] += 1
    cand = pool[hits[pool] > 0]
    order = np.argsort(-hits[cand], kind="mergesort")
    return [int(i) for i in cand[order[:room]]]


def _round(
    instance: Instance,
    groups: list[list[int]],
    pool: NDArray[np.int64],
    rng: np.random.Generator,
    params: SolveParams,
    budget: Budget,
) -> list[list[int]] | None:
    k = int(rng.integers(2, 5))
    g0 = int(rng.integers(len(groups)))
    chosen: list[int] = []
    for g in _neighbour_groups(instance, groups, g0, k):
        if sum(len(groups[h]) for h in chosen) + len(groups[g]) <= MAX_FREE:
            chosen.append(g)
    members = [i for g in chosen for i in groups[g]]
    extra = (
        [] if instance.require_all else _free_pool(instance, members, pool, MAX_FREE - len(members))
    )
    firms = np.array(sorted(members + extra), np.int64)
    local = {int(f): q for q, f in enumerate(firms)}
    pinned = np.zeros(instance.n_firms, bool)
    window = make_window(instance, firms, pinned)
    n_slots = len(chosen) + (0 if instance.n_groups is not None else 1)
    hint = [[local[i] for i in groups[g]] for g in chosen]
    model = ClusteringModel(
        window, n_slots, instance.min_theme_share, hint, all_open=instance.n_groups is not None
    )
    pins = [set(p) for p in instance.pinned_groups if p[0] in local]
    for p in pins:  # pinned firms stay together: same slot for all of them
        q0 = local[min(p)]
        for i in p:
            for g in range(n_slots):
                model.model.add(model.vars.x[local[i], g] == model.vars.x[q0, g])
    if params.deterministic:
        out = model.solve(seed=params.seed, workers=1, deterministic_limit=DETERMINISTIC_LIMIT)
    else:
        left = min(ROUND_LIMIT_S, budget.clock.remaining_s())
        out = model.solve(seed=params.seed, workers=params.workers, time_limit_s=left)
    if not out.groups:
        return None
    new = [[int(firms[q]) for q in g] for g in out.groups]
    old = [groups[g] for g in chosen]
    (p_new, a_new), (p_old, a_old) = _value(instance, new), _value(instance, old)
    if p_new < p_old or (p_new == p_old and a_new <= a_old + 1e-9):
        return None
    for members in new:
        theme = c.best_theme(instance, members)
        if check_group(instance, None, tuple(sorted(members)), theme):
            return None
    keep = [g for h, g in enumerate(groups) if h not in set(chosen)]
    return keep + new


def improve(
    instance: Instance,
    groups: list[list[int]],
    params: SolveParams,
    budget: Budget,
    rounds: int | None = None,
) -> tuple[list[list[int]], int]:
    """Improve ``groups`` by CP-SAT rounds until the budget (or ``rounds``) is spent.

    Parameters
    ----------
    instance
        The instance.
    groups
        Current groups (global indices), excluding locked groups.
    params
        Solve parameters (seed, workers, determinism).
    budget
        The solve's shared budget (time and cancellation).
    rounds
        Number of rounds, or ``None`` to run until the time limit.

    Returns
    -------
    tuple
        The improved groups and the number of rounds run.
    """
    if not groups:
        return groups, 0
    rng = np.random.default_rng(params.seed + 104729)
    limit = rounds if rounds is not None else 1_000_000
    done = 0
    locked = {i for g in instance.locked_groups for i in g}
    while done < limit and not (budget.clock() or (params.should_stop and params.should_stop())):
        placed = {i for g in groups for i in g} | locked
        pool = np.array(
            [i for i in np.nonzero(instance.is_placeable)[0] if i not in placed], np.int64
        )
        better = _round(instance, groups, pool, rng, params, budget)
        if better is not None:
            groups = better
        done += 1
        if params.progress is not None:
            everything = [list(g) for g in instance.locked_groups] + groups
            sizes = np.array([len(g) for g in everything], np.int64)
            mates = mates_of_groups(sizes, group_pair_sums(instance, everything))
            params.progress(Progress.of(budget.fraction_done(), int(sizes.sum()), mates))
    return groups, done
