"""Group size: every group has between ``min_size`` and ``max_size`` members.

A group bound (:attr:`Instance.min_size`, :attr:`Instance.max_size`) that every engine
reads directly.  Too small a neighbourhood is the distance rule's explanation; this rule
only proposes the smallest change of a bound for a candidate group.
"""

from __future__ import annotations

from dataclasses import replace

from matching.core import constraints as c
from matching.core.problem import Instance
from matching.core.registry import Field, Loosening, Rule, register
from matching.core.violation import Violation

MAX_GROUP_SIZE = 100
"""Largest group size a run may ask for."""


class Size(Rule):
    """Between ``min_size`` and ``max_size`` members per group."""

    name = "size"
    relaxes = ("max_size", "min_size")
    fields = (
        Field("min_size", "int", 10, ge=2, le=MAX_GROUP_SIZE,
              nl="Kleinste aantal bedrijven in een groep.",
              en="Fewest firms in a group."),
        Field("max_size", "int", 15, ge=2, le=MAX_GROUP_SIZE,
              nl="Grootste aantal bedrijven in een groep.",
              en="Most firms in a group."),
    )  # fmt: skip

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """A size violation when the member count is out of bounds."""
        if c.size_ok(instance, len(members)):
            return []
        bounds = f"[{instance.min_size}, {instance.max_size}]"
        return [Violation("size", group, members, f"{len(members)} members, allowed {bounds}")]

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``max_size`` up or ``min_size`` down to the candidate's size."""
        size = len(members)
        if instance.max_size is not None and size > instance.max_size:
            return Loosening("max_size", instance.max_size, size,
                             replace(instance, max_size=size))  # fmt: skip
        if instance.min_size is not None and size < instance.min_size and size >= 2:
            return Loosening("min_size", instance.min_size, size,
                             replace(instance, min_size=size))  # fmt: skip
        return None


register(Size())
