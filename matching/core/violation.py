"""One broken rule, as the verifier and a rule's check report it."""

from __future__ import annotations

from dataclasses import dataclass

ViolationKind = str
"""Which rule: a kind a rule reports (``Rule.violation_kinds``), or a structural kind."""
BUILTIN_KINDS: tuple[str, ...] = (
    "shape",
    "unknown_firm",
    "duplicate",
    "require_all",
    "locked",
    "pinned",
    "group_count",
)
"""Kinds of the verifier's structural checks (the rules' kinds come from the registry)."""


@dataclass(frozen=True)
class Violation:
    """One broken rule.

    Parameters
    ----------
    kind
        Which rule (see ``ViolationKind``).
    group
        Index of the group in ``solution.groups``, or ``None`` for solution-wide rules.
    firms
        The firms involved (e.g. the pair that is too far apart).
    detail
        A human-readable explanation with the numbers.
    """

    kind: ViolationKind
    group: int | None
    firms: tuple[int, ...]
    detail: str
