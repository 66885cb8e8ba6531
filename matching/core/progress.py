"""What a running solve reports: named numbers a person can read, never one combined score.

The search maximises firms placed first and affinity second; internally it often ranks
solutions by ``placed * big + affinity``.  That number means nothing to a reader, so the
progress callback gets the parts instead (:class:`Progress`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


class Phase(enum.StrEnum):
    """What the run is doing now."""

    WARMING_UP = "warming_up"
    """Loading (on a fresh install: compiling) the numba search kernels; the first run
    after an install can spend most of a minute here with its fraction at 0."""
    BUILDING = "building"
    """Building the instance: distances, the compatible-pair graph."""
    SOLVING = "solving"
    """Searching: ``placed`` and ``mean_affinity`` describe the best solution so far."""
    REPORTING = "reporting"
    """Verifying the solution and writing the report (reasons, bound, explanations)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report of a solve.

    Attributes
    ----------
    fraction
        Share of the run's budget (time limit or iterations) used, in ``[0, 1]``.
    placed
        Firms placed in the best solution so far (locked groups included); ``None`` before
        the first solution.
    placed_bound
        The tightest valid upper bound known so far on the number of firms any solution
        can place; ``None`` while none is known.  ``placed <= placed_bound`` always.
    mean_affinity
        The mean, over the placed firms, of a firm's mean affinity to its group mates (the
        member-weighted mean of the groups' ``mean_affinity``); while solving it is
        computed from the search's neighbour lists.  ``None`` while nothing is placed or
        the engine does not report it (the windowed solve, the CCP search).
    phase
        What the solve is doing (:class:`Phase`).
    """

    fraction: float
    placed: int | None = None
    placed_bound: int | None = None
    mean_affinity: float | None = None
    phase: Phase = Phase.SOLVING

    @classmethod
    def of(
        cls, fraction: float, placed: int, mates: float, placed_bound: int | None = None
    ) -> Progress:
        """A solving-phase report from firms placed and the sum over them of their mean
        affinity to their group mates (:func:`mates_of_groups`)."""
        mean = round(mates / placed, 4) if placed > 0 else None
        return cls(min(max(fraction, 0.0), 1.0), placed, placed_bound, mean)


def mates_of_groups(sizes: NDArray[np.int64], pair_sums: NDArray[np.float64]) -> float:
    """Sum over the members of groups of ``sizes`` of their mean affinity to group mates.

    A group of ``s`` members whose pairs add up to ``pair_sum`` contributes
    ``2 * pair_sum / (s - 1)`` (each member's mean, added over its members).
    """
    s = np.asarray(sizes, np.float64)
    ok = s >= 2
    return float((2.0 * np.asarray(pair_sums, np.float64)[ok] / (s[ok] - 1.0)).sum())


def mates_of_assignment(
    slot: NDArray[np.int64],
    n_slots: int,
    indptr: NDArray[np.int64],
    nbr: NDArray[np.int64],
    nbr_aff: NDArray[np.float64],
) -> tuple[int, float]:
    """Firms placed and :func:`mates_of_groups` of an assignment (``n_slots``: unassigned)
    over a symmetric neighbour list (CSR ``indptr``, ``nbr``, ``nbr_aff``)."""
    rows = np.repeat(np.arange(len(slot)), np.diff(indptr))
    same = (slot[rows] == slot[nbr]) & (slot[rows] != n_slots)
    sizes = np.bincount(slot[slot != n_slots], minlength=n_slots)
    pair_sums = np.bincount(slot[rows[same]], weights=nbr_aff[same], minlength=n_slots) / 2.0
    return int(sizes.sum()), mates_of_groups(sizes, pair_sums)
