"""Group weight: the members' weights add up to between ``min_weight`` and ``max_weight``.

A group bound on :attr:`Instance.weights` (staff to train; CCP node weights) that every
engine reads directly.
"""

from __future__ import annotations

from dataclasses import replace

from matching.core import constraints as c
from matching.core.problem import Instance
from matching.core.registry import MAX_COUNT, Field, Loosening, Rule, register
from matching.core.violation import Violation


def _weight(instance: Instance, members: tuple[int, ...]) -> int:
    assert instance.weights is not None
    return int(instance.weights[list(members)].sum()) if members else 0


class Weight(Rule):
    """The sum of member weights lies within ``[min_weight, max_weight]``."""

    name = "weight"
    relaxes = ("max_weight", "min_weight")
    fields = (
        Field("min_weight", "int", None, nullable=True, ge=0, le=MAX_COUNT,
              nl="Kleinste totale gewicht van de leden van een groep (bijvoorbeeld "
                 "deelnemers aan een opleiding).",
              en="Least total weight of a group's members (e.g. trainees)."),
        Field("max_weight", "int", None, nullable=True, ge=0, le=MAX_COUNT,
              nl="Grootste totale gewicht van de leden van een groep.",
              en="Most total weight of a group's members."),
    )  # fmt: skip

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """A weight violation when the total is out of bounds."""
        weight = _weight(instance, members)
        if c.weight_ok(instance, weight):
            return []
        bounds = f"[{instance.min_weight}, {instance.max_weight}]"
        return [Violation("weight", group, members, f"total weight {weight}, allowed {bounds}")]

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``max_weight`` up or ``min_weight`` down to the candidate's total."""
        weight = _weight(instance, members)
        if instance.max_weight is not None and weight > instance.max_weight:
            return Loosening("max_weight", instance.max_weight, weight,
                             replace(instance, max_weight=weight))  # fmt: skip
        if instance.min_weight is not None and weight < instance.min_weight:
            return Loosening("min_weight", instance.min_weight, weight,
                             replace(instance, min_weight=weight))  # fmt: skip
        return None


register(Weight())
