"""The objective's term functions: the one definition of every affinity term and group value.

Each function works on numpy arrays (vectorised, in :func:`matching.core.objective.
affinity_of_pairs` and :func:`~matching.core.objective.group_values`) and on scalars inside
numba kernels, which compile these same functions (``numba.njit(inline="always")(f)``):
the top-k pair kernel (:mod:`matching.core.topk`) and the tabu search
(:mod:`matching.engines.heuristics.moves`).  The CP-SAT model maximises the pair sum of
the same pair affinities (the window's ``aff``), and its results are re-scored with
:mod:`matching.core.objective` before they are kept.  ``tests/matching/test_properties.py``
asserts that every engine's score of random groups equals the objective's.

(Numba caches a kernel by its own file: after editing this module, delete the kernels'
``__pycache__`` so they recompile.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

SIZE_SCALE = float(np.log1p(250.0))
"""Employee-count scale of the size similarity: log1p(250), the SME ceiling."""

_TINY = 1e-300


def need_similarity(shared: Any, either: Any) -> Any:
    """Weighted Jaccard of two need vectors: ``sum min / sum max`` (0 when both are empty).

    ``shared`` is the sum of the element-wise minima, ``either`` of the maxima.
    """
    return shared / np.maximum(either, _TINY)


def size_similarity(log_emp_i: Any, log_emp_j: Any) -> Any:
    """``1 - |log1p(emp_i) - log1p(emp_j)| / log1p(250)``, clipped to ``[0, 1]``."""
    return np.minimum(np.maximum(1.0 - np.abs(log_emp_i - log_emp_j) / SIZE_SCALE, 0.0), 1.0)


def digital_similarity(level_i: Any, level_j: Any) -> Any:
    """``1 - |level_i - level_j| / 3`` on the digital ladder (levels 1-4)."""
    return 1.0 - np.abs(level_i - level_j) / 3.0


def distance_penalty(km: Any, max_pair_km: Any) -> Any:
    """Distance as a share of the radius (the distance term subtracts ``weight *`` this)."""
    return km / max_pair_km


def group_value(pair_sum: Any, size: Any, mean: Any) -> Any:
    """A group's share of the objective: its pair sum, or with ``mean`` (the ``member_mean``
    group score) the pair sum times ``2 / (size - 1)`` (0 for groups of fewer than two)."""
    if not mean:
        return pair_sum
    return 2.0 * pair_sum / np.maximum(size - 1, 1) * np.minimum(np.maximum(size - 1, 0), 1)


def pair_weight(size: Any, mean: Any) -> Any:
    """What one unit of pair sum is worth in a group of ``size``: ``group_value(1, size)``."""
    if not mean:
        return 1.0
    return 2.0 / np.maximum(size - 1, 1) * np.minimum(np.maximum(size - 1, 0), 1)
