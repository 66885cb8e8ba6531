"""Division cap: at most ``max_same_division`` members of a group from one SBI division.

Reads the firms' SBI division (``Instance.attributes["division"]``, 2 digits) and the cap
(``Instance.options["max_same_division"]``, off when absent or ``None``), and compiles into
a :class:`~matching.core.primitives.CountCap`.  The verifier counts the divisions of the
members itself; the relaxation raises the cap to the count the group needs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.core.errors import InvalidInstanceError
from matching.core.primitives import CountCap, Primitives
from matching.core.problem import Instance
from matching.core.registry import MAX_COUNT, Field, Loosening, Rule, register, with_option
from matching.core.violation import Violation

ATTRIBUTE = "division"
SETTING = "max_same_division"


def _cap(instance: Instance) -> tuple[int, NDArray[np.int64]] | None:
    cap = instance.options.get(SETTING)
    if cap is None:
        return None
    labels = instance.attributes.get(ATTRIBUTE)
    if labels is None or int(cap) < 1:
        raise InvalidInstanceError(SETTING, "needs attributes['division'] and >= 1")
    return int(cap), labels


class Division(Rule):
    """At most ``max_same_division`` members per SBI division."""

    name = "division"
    relaxes = (SETTING,)
    fields = (
        Field(SETTING, "int", None, nullable=True, ge=1, le=MAX_COUNT,
              nl="Hooguit zoveel bedrijven uit dezelfde branche (SBI-afdeling, 2 cijfers) "
                 "in een groep; leeg: geen grens.",
              en="At most this many firms of one industry (SBI division, 2 digits) in a "
                 "group; empty: no limit."),
    )  # fmt: skip

    def compile(self, instance: Instance) -> Primitives:
        """One count cap over the divisions, when a cap is set."""
        found = _cap(instance)
        if found is None:
            return Primitives()
        return Primitives(caps=(CountCap(self.name, found[1], found[0]),))

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One ``division`` violation per division over the cap."""
        found = _cap(instance)
        if found is None or not members:
            return []
        cap, divisions = found
        values, counts = np.unique(divisions[list(members)], return_counts=True)
        out = []
        for d, n in zip(values.tolist(), counts.tolist(), strict=True):
            if n > cap:
                firms = tuple(i for i in members if divisions[i] == d)
                out.append(Violation(self.name, group, firms, f"{n} firms of division {d}"))
        return out

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``max_same_division`` up to the largest count in the group."""
        cap = _cap(instance)
        if cap is None:
            return None
        need = max(len(v.firms) for v in found)
        return Loosening(SETTING, cap[0], need, with_option(instance, SETTING, need))


register(Division())
