"""The few generic primitives that hard rules compile into, and the engines understand.

The engines (tabu and memetic search, CP-SAT, the windowed decomposition) know these
shapes, never a particular rule:

* **bounds** on a group's size and weight, and the radius ``max_pair_km`` — fields of
  :class:`~matching.core.problem.Instance`;
* **forbidden pairs**: the instance's explicit ``forbidden`` pairs, plus every
  :class:`PairSplit` (two firms with different labels never share a group);
* **count caps** (:class:`CountCap`): at most ``limit`` members of one group carry the same
  label (labels ``< 0`` are not counted);
* **group predicates**: the theme rule and per-firm eligibility, fields of the instance.

A rule in :mod:`matching.rules` turns its settings and the instance's raw data into
:class:`Primitives`; :func:`matching.core.registry.primitives` merges those of all rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

NOT_COUNTED = -1
"""Label of a firm that a :class:`CountCap` does not count."""


def _frozen_labels(labels: object) -> NDArray[np.int64]:
    arr = np.asarray(labels, np.int64).copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class CountCap:
    """At most ``limit`` members of any group share one label.

    Parameters
    ----------
    rule
        Name of the rule that made it (for messages and the relaxation).
    labels
        Per firm a non-negative label, or :data:`NOT_COUNTED`.
    limit
        The cap, ``>= 1``.
    """

    rule: str
    labels: NDArray[np.int64]
    limit: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen_labels(self.labels))
        if self.limit < 1:
            raise ValueError(f"{self.rule}: a count cap must be >= 1")


@dataclass(frozen=True, eq=False)
class PairSplit:
    """Two firms share a group only when their labels are equal (e.g. reach zones).

    Parameters
    ----------
    rule
        Name of the rule that made it.
    labels
        Per firm a label; firms with different labels are incompatible.
    """

    rule: str
    labels: NDArray[np.int64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen_labels(self.labels))

    def allows(self, src: NDArray[np.int64], dst: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Per pair ``(src[k], dst[k])``: whether this split lets them share a group."""
        return np.asarray(self.labels[src] == self.labels[dst], np.bool_)


@dataclass(frozen=True)
class Primitives:
    """What the rules of an instance compile into, beyond the instance's own fields."""

    caps: tuple[CountCap, ...] = ()
    splits: tuple[PairSplit, ...] = ()

    def __add__(self, other: Primitives) -> Primitives:
        return Primitives(self.caps + other.caps, self.splits + other.splits)

    def allows(self, src: NDArray[np.int64], dst: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Per pair: whether every split lets the two firms share a group."""
        keep = np.ones(len(src), np.bool_)
        for split in self.splits:
            keep &= split.allows(src, dst)
        return keep
