"""A throwaway rule for tests only: at most ``max_small_firms`` members with < 5 employees.

Not in :mod:`matching.rules`, so nothing imports it: a test registers it with
``registry.registered(SmallFirms())`` and the engines, the verifier and the relaxation
must honour it through the registry alone.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.core.primitives import NOT_COUNTED, CountCap, Primitives
from matching.core.problem import Instance
from matching.core.registry import Field, Loosening, Rule, with_option
from matching.core.violation import Violation

SMALL = 5
"""Fewer employees than this is a small firm."""
SETTING = "max_small_firms"


def _small(instance: Instance) -> tuple[int, NDArray[np.bool_]] | None:
    cap = instance.options.get(SETTING)
    if cap is None or instance.employees is None:
        return None
    return int(cap), np.asarray(instance.employees < SMALL, bool)


class SmallFirms(Rule):
    """At most ``max_small_firms`` members with fewer than 5 employees."""

    name = "small_firms"
    relaxes = (SETTING,)
    fields = (
        Field(SETTING, "int", None, nullable=True, ge=1, le=100,
              nl="Hooguit zoveel bedrijven met minder dan 5 medewerkers in een groep.",
              en="At most this many firms with fewer than 5 employees in a group."),
    )  # fmt: skip

    def compile(self, instance: Instance) -> Primitives:
        """One count cap: small firms share label 0, the others are not counted."""
        found = _small(instance)
        if found is None:
            return Primitives()
        labels = np.where(found[1], 0, NOT_COUNTED)
        return Primitives(caps=(CountCap(self.name, labels, found[0]),))

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One violation naming the small members when there are too many."""
        found = _small(instance)
        if found is None:
            return []
        small = tuple(i for i in members if found[1][i])
        if len(small) <= found[0]:
            return []
        return [Violation(self.name, group, small, f"{len(small)} small firms")]

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``max_small_firms`` up to the group's count of small firms."""
        cap = _small(instance)
        if cap is None:
            return None
        need = max(len(v.firms) for v in found)
        return Loosening(SETTING, cap[0], need, with_option(instance, SETTING, need))
