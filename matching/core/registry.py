"""The rule registry: every hard rule is one :class:`Rule`, registered once, looped over.

A rule lives in one module of :mod:`matching.rules` and registers itself on import
(``matching/__init__`` imports :mod:`matching.rules`, which imports each of its modules, so
the registry is complete before anything of the library runs).  The verifier, the
relaxation, the unassigned reasons, the settings schema and the engines loop over
:func:`rules`; nothing in :mod:`matching.core` or :mod:`matching.engines` names a rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from weakref import WeakKeyDictionary

from matching.core.primitives import Primitives
from matching.core.problem import Instance
from matching.core.violation import Violation

FieldType = Literal["int", "float", "str", "bool", "list[str]"]
"""Value types of a :class:`Field` (``list[str]``: a list of codes or names)."""


@dataclass(frozen=True)
class Field:
    """One setting a rule (or the run) declares: the single definition of its bounds.

    The API schema, the CLI option, profile validation and the OpenAPI description are
    generated from it.

    Parameters
    ----------
    name
        Setting name (``max_per_gemeente``), as in the API and profiles.
    type
        Value type.
    default
        Default value (``None``: off).
    nullable
        Whether ``None`` (off) is allowed.
    ge, le
        Inclusive numeric bounds, or ``None``.
    gt
        Exclusive lower bound (``gt=0``: positive), or ``None``.
    choices
        Allowed values of a ``str`` field.
    nl, en
        One-sentence description in Dutch and English.
    """

    name: str
    type: FieldType
    default: Any
    nl: str
    en: str
    nullable: bool = False
    ge: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()
    gt: float | None = None


class Rule:
    """Base of every hard rule (one subclass per module in :mod:`matching.rules`).

    Subclasses set :attr:`name` and :attr:`fields` and override what applies to them.
    """

    name: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()

    def compile(self, instance: Instance) -> Primitives:
        """The engine primitives this rule adds for ``instance`` (default: none)."""
        return Primitives()

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """Violations of this rule by one group, recomputed from the instance's raw data.

        Parameters
        ----------
        instance
            The instance.
        group
            Index of the group in the solution (``None`` for a candidate group).
        members
            Member firm indices (valid, distinct).
        theme
            The group's theme need index, or ``None``.

        Returns
        -------
        list of Violation
            Empty when the group keeps the rule.
        """
        return []


_RULES: dict[str, Rule] = {}
_COMPILED: WeakKeyDictionary[Instance, tuple[int, Primitives]] = WeakKeyDictionary()
_version = 0


def register(rule: Rule) -> Rule:
    """Add ``rule`` to the registry (a module calls this once, at import)."""
    global _version
    if not rule.name:
        raise ValueError("a rule needs a name")
    if rule.name in _RULES and type(_RULES[rule.name]) is not type(rule):
        raise ValueError(f"rule {rule.name!r} is registered twice")
    _RULES[rule.name] = rule
    _version += 1
    return rule


def unregister(name: str) -> None:
    """Remove the rule called ``name`` (tests register throwaway rules)."""
    global _version
    _RULES.pop(name, None)
    _version += 1


@contextmanager
def registered(rule: Rule) -> Iterator[Rule]:
    """Register ``rule`` for the duration of a ``with`` block."""
    register(rule)
    try:
        yield rule
    finally:
        unregister(rule.name)


def rules() -> tuple[Rule, ...]:
    """Every registered rule, in registration order."""
    return tuple(_RULES.values())


def rule(name: str) -> Rule:
    """The rule called ``name`` (``KeyError`` if none)."""
    return _RULES[name]


def primitives(instance: Instance) -> Primitives:
    """The merged primitives of every rule for ``instance`` (computed once per registry)."""
    hit = _COMPILED.get(instance)
    if hit is not None and hit[0] == _version:
        return hit[1]
    out = Primitives()
    for r in _RULES.values():
        out = out + r.compile(instance)
    _COMPILED[instance] = (_version, out)
    return out
