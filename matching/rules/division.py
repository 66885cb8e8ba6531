"""Division cap: at most ``max_same_division`` members of a group from one SBI division.

Compiles into a :class:`~matching.core.primitives.CountCap` over the firms' SBI divisions
(2 digits).  The verifier counts the divisions of the members itself; the relaxation
raises the cap to the count the group needs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from matching.core.primitives import CountCap, Primitives
from matching.core.problem import Instance
from matching.core.registry import MAX_COUNT, Field, Loosening, Rule, register
from matching.core.violation import Violation


class Division(Rule):
    """At most ``max_same_division`` members per SBI division."""

    name = "division"
    relaxes = ("max_same_division",)
    fields = (
        Field("max_same_division", "int", None, nullable=True, ge=1, le=MAX_COUNT,
              nl="Hooguit zoveel bedrijven uit dezelfde branche (SBI-afdeling, 2 cijfers) "
                 "in een groep; leeg: geen grens.",
              en="At most this many firms of one industry (SBI division, 2 digits) in a "
                 "group; empty: no limit."),
    )  # fmt: skip

    def compile(self, instance: Instance) -> Primitives:
        """One count cap over the divisions, when a cap is set."""
        if instance.max_same_division is None or instance.divisions is None:
            return Primitives()
        return Primitives(
            caps=(CountCap(self.name, instance.divisions, instance.max_same_division),)
        )

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One ``division`` violation per division over the cap."""
        cap, divisions = instance.max_same_division, instance.divisions
        if cap is None or divisions is None or not members:
            return []
        values, counts = np.unique(divisions[list(members)], return_counts=True)
        out = []
        for d, n in zip(values.tolist(), counts.tolist(), strict=True):
            if n > cap:
                firms = tuple(i for i in members if divisions[i] == d)
                out.append(Violation("division", group, firms, f"{n} firms of division {d}"))
        return out

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``max_same_division`` up to the largest count in the group."""
        if instance.max_same_division is None:
            return None
        need = max(len(v.firms) for v in found)
        return Loosening("max_same_division", instance.max_same_division, need,
                         replace(instance, max_same_division=need))  # fmt: skip


register(Division())
