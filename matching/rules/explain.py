"""Shared tools of the rules' explanations of unplaced firms (no rule of its own).

:func:`kcore` is the graph core the exact explanations use; :class:`Star` carries the
counts within reach that the capped ("star") explanations use, handed to each rule's
:meth:`~matching.core.registry.Rule.group_star`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matching.core.problem import Instance


def kcore(adj: sp.csr_matrix, alive: NDArray[np.bool_], k: int) -> NDArray[np.bool_]:
    """Vertices of the ``k``-core of the subgraph of ``adj`` induced by ``alive``."""
    alive = alive.copy()
    while True:
        deg = adj @ alive.astype(np.int64)
        drop = alive & (deg < k)
        if not drop.any():
            return alive
        alive &= ~drop


def needed_count(share: float, size: int) -> int:
    """Members a group of ``size`` needs with its theme: ``ceil(share * size)``."""
    return math.ceil(share * size - 1e-9)


@dataclass(frozen=True)
class Star:
    """Counts within reach of the query firms (capped instances).

    Attributes
    ----------
    instance
        The instance.
    pool
        Placeable firms that may lie within reach of a query firm.
    query
        The placeable query firms.
    radius_km
        Reach (``max_pair_km`` widened by the distance rule's screen).
    blocked
        Pairs ``(query firm, other firm)`` within reach that some pair rule keeps apart,
        both directions, each pair once.
    position
        Per firm its row in ``query``, or ``-1``.
    """

    instance: Instance
    pool: NDArray[np.int64]
    query: NDArray[np.int64]
    radius_km: float
    blocked: NDArray[np.int64]
    position: NDArray[np.int64]

    def blocked_count(self, mask: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        """Per query firm, its blocked partners (only those in ``mask``, when given)."""
        rows = self.blocked if mask is None else self.blocked[mask[self.blocked[:, 1]]]
        return np.bincount(self.position[rows[:, 0]], minlength=len(self.query))
