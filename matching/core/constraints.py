"""Solver-independent predicates on one group: the rules every group must satisfy.

Used by the verifier, the construction and the CP-SAT modules so that "valid" means one
thing.  Each predicate takes plain numbers or member lists, never solver state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from matching.core.objective import pair_graph
from matching.core.problem import Instance


def required_theme_count(min_theme_share: float, size: int) -> int:
    """Members that must have the group's theme: ``ceil(share * size)`` (float-safe)."""
    return max(0, math.ceil(min_theme_share * size - 1e-9))


def size_ok(instance: Instance, size: int) -> bool:
    """Whether a group of ``size`` members respects ``min_size``/``max_size``."""
    lo, hi = instance.min_size, instance.max_size
    return (lo is None or size >= lo) and (hi is None or size <= hi)


def weight_ok(instance: Instance, weight: int) -> bool:
    """Whether a group of total ``weight`` respects ``min_weight``/``max_weight``."""
    lo, hi = instance.min_weight, instance.max_weight
    return (lo is None or weight >= lo) and (hi is None or weight <= hi)


def theme_options(instance: Instance) -> list[int]:
    """Need indices a group may take as its theme."""
    if instance.allowed_themes is not None:
        return sorted(instance.allowed_themes)
    return list(range(instance.n_needs))


def theme_ok(instance: Instance, members: Sequence[int], theme: int | None) -> bool:
    """Whether ``theme`` is a valid theme for a group with these members."""
    if not instance.theme_required:
        return True
    if theme is None or theme not in theme_options(instance) or instance.needs is None:
        return False
    having = sum(1 for i in members if theme in instance.needs[i])
    return having >= required_theme_count(instance.min_theme_share, len(members))


def best_theme(instance: Instance, members: Sequence[int]) -> int | None:
    """A valid theme for the members (the one most members have), or ``None`` if none is."""
    if not instance.theme_required or instance.needs is None:
        return None
    counts = np.zeros(max(instance.n_needs, 1), np.int64)
    for i in members:
        for t in instance.needs[i]:
            counts[t] += 1
    options = theme_options(instance)
    if not options:
        return None
    theme = max(options, key=lambda t: (counts[t], -t))
    return theme if theme_ok(instance, members, theme) else None


def placement_upper_bound(instance: Instance) -> int:
    """A cheap valid upper bound on the number of firms that can be placed.

    Every member of a group of at least ``min_size`` firms has ``min_size - 1`` compatible
    partners inside the group, who have the same property; so members lie in the
    ``(min_size - 1)``-core of the compatibility graph restricted to placeable firms.
    Locked groups count in full.

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    int
        Firms in locked groups plus the size of that core.
    """
    locked = sum(len(g) for g in instance.locked_groups)
    if instance.require_all:
        return instance.n_firms
    alive = instance.is_placeable.copy()
    k = max((instance.min_size or 1) - 1, 0)
    pg = pair_graph(instance)
    rows = np.repeat(np.arange(instance.n_firms), pg.degree)
    while True:
        keep = alive[rows] & alive[pg.indices]
        degree = np.bincount(rows[keep], minlength=instance.n_firms)
        drop = alive & (degree < k)
        if not drop.any():
            return locked + int(alive.sum())
        alive &= ~drop
