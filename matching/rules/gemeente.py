"""Gemeente cap: at most ``max_per_gemeente`` members of a group from one gemeente.

Programmes use it for cross-municipal groups.  Off by default.  Reads the firms' gemeente
(``Instance.attributes["gemeente"]``: the CBS number, 14 for GM0014; ``-1`` unknown, not
counted) and compiles into a :class:`~matching.core.primitives.CountCap`; the verifier
counts the members' gemeenten itself; the relaxation raises the cap to what a group needs
("Verhoog max_per_gemeente van 3 naar 4: past dan in groep 12").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.core.primitives import NOT_COUNTED, CountCap, Primitives
from matching.core.problem import Instance
from matching.core.registry import MAX_COUNT, Field, Loosening, Rule, register, with_option
from matching.core.violation import Violation

ATTRIBUTE = "gemeente"
SETTING = "max_per_gemeente"


def _cap(instance: Instance) -> tuple[int, NDArray[np.int64]] | None:
    cap = instance.options.get(SETTING)
    labels = instance.attributes.get(ATTRIBUTE)
    return None if cap is None or labels is None else (int(cap), labels)


class Gemeente(Rule):
    """At most ``max_per_gemeente`` members per gemeente."""

    name = "gemeente"
    relaxes = (SETTING,)
    fields = (
        Field(SETTING, "int", None, nullable=True, ge=1, le=MAX_COUNT,
              nl="Hooguit zoveel bedrijven uit dezelfde gemeente in een groep (voor "
                 "groepen over gemeentegrenzen heen); leeg: geen grens.",
              en="At most this many firms of one gemeente (municipality) in a group, for "
                 "cross-municipal groups; empty: no limit."),
    )  # fmt: skip

    def compile(self, instance: Instance) -> Primitives:
        """One count cap over the gemeenten, when a cap is set."""
        found = _cap(instance)
        if found is None:
            return Primitives()
        return Primitives(caps=(CountCap(self.name, found[1], found[0]),))

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One violation per gemeente with more members than the cap."""
        found = _cap(instance)
        if found is None or not members:
            return []
        cap, labels = found
        values, counts = np.unique(labels[list(members)], return_counts=True)
        out = []
        for code, n in zip(values.tolist(), counts.tolist(), strict=True):
            if code != NOT_COUNTED and n > cap:
                firms = tuple(i for i in members if labels[i] == code)
                out.append(Violation(self.name, group, firms, f"{n} firms of GM{code:04d}"))
        return out

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``max_per_gemeente`` up to the largest count of one gemeente in the group."""
        cap = _cap(instance)
        if cap is None:
            return None
        need = max(len(v.firms) for v in found)
        return Loosening(SETTING, cap[0], need, with_option(instance, SETTING, need))


register(Gemeente())
