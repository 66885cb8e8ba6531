"""The rule registry: every hard rule is one :class:`Rule`, registered once, looped over.

A rule lives in one module of :mod:`matching.rules` and registers itself on import
(``matching/__init__`` imports :mod:`matching.rules`, which imports each of its modules, so
the registry is complete before anything of the library runs).  The verifier, the
relaxation, the unassigned reasons, the settings schema and the engines loop over
:func:`rules`; nothing in :mod:`matching.core` or :mod:`matching.engines` names a rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from matching.core.primitives import Primitives
from matching.core.problem import Instance
from matching.core.violation import Violation

MAX_COUNT = 1_000_000_000
"""Largest count a setting takes (weights, per-group caps): more is the user's mistake."""

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


ExplainStage = Literal["", "firms", "reach", "pairs", "group"]
"""Where a rule explains unplaced firms (see :class:`Rule` and :mod:`matching.rules.unassigned`)."""


@dataclass(frozen=True)
class CpsatWindow:
    """What a rule's :meth:`Rule.encode_cpsat` sees of one window's CP-SAT model.

    Parameters
    ----------
    model
        The ``ortools.sat.python.cp_model.CpModel`` being built.
    x
        ``x[i, g]``: the Boolean variable "local firm ``i`` is in slot ``g``".
    firms
        Global index (into ``instance``) of each local firm ``i``.
    n_slots
        Number of group slots ``g``.
    instance
        The whole instance (raw data: ``attributes``, ``options``, coordinates).
    """

    model: Any
    x: Mapping[tuple[int, int], Any]
    firms: NDArray[np.int64]
    n_slots: int
    instance: Instance


@dataclass(frozen=True)
class Loosening:
    """The smallest change of one setting that lets a candidate group keep a rule.

    Parameters
    ----------
    setting
        The setting's name (``max_pair_km``, ``max_per_gemeente``...; ``competitor_link``
        for dropping one declared pair).
    current, needed
        Its value in the run and the value the group needs (``None`` for a link).
    instance
        The instance with that one change made (the caller re-checks the group on it).
    link
        The pair of firms (dense indices) whose link is dropped, for ``competitor_link``.
    """

    setting: str
    current: float | None
    needed: float | None
    instance: Instance
    link: tuple[int, int] | None = None


def with_option(instance: Instance, name: str, value: Any) -> Instance:
    """``instance`` with rule setting ``name`` set to ``value`` (in ``Instance.options``)."""
    return replace(instance, options={**instance.options, name: value})


class Rule:
    """Base of every hard rule (one subclass per module in :mod:`matching.rules`).

    Subclasses set :attr:`name` and :attr:`fields` and override what applies to them:

    * :meth:`compile`: the engine primitives (count caps, pair splits) it adds;
    * :meth:`check`: the verifier's check of one group, from the raw data;
    * explaining an unplaced firm: :attr:`reason` (a code with ``reason.<code>.label`` and
      ``.explanation`` in the catalogue) given at stage :attr:`explains`, in the order
      :attr:`explain_order`: ``"firms"`` rules exclude firms (:meth:`excluded`), the
      ``"reach"`` rule (distance) gives the graph of firms within reach, ``"pairs"`` rules
      remove the pairs they forbid from it (:meth:`blocked_pairs`), ``"group"`` rules test
      what a whole group needs (:meth:`group_core`, :meth:`group_star`);
    * :meth:`relax`: the smallest change of its setting that fixes its violations.
    """

    name: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    kinds: ClassVar[tuple[str, ...]] = ()
    """Violation kinds its check reports (empty: its :attr:`name`)."""
    reason: ClassVar[str | None] = None
    """Reason code it gives an unplaced firm, or ``None``."""
    explains: ClassVar[ExplainStage] = ""
    explain_order: ClassVar[int] = 100
    relaxes: ClassVar[tuple[str, ...]] = ()
    """Settings its :meth:`relax` may change (each has ``relax.change.<setting>`` words)."""

    def violation_kinds(self) -> tuple[str, ...]:
        """The kinds of violation this rule reports."""
        return self.kinds or (self.name,)

    def excluded(self, instance: Instance) -> NDArray[np.bool_] | None:
        """Firms this rule never places (stage ``"firms"``), or ``None``."""
        return None

    def blocked_pairs(self, instance: Instance, radius_km: float | None) -> NDArray[np.int64]:
        """Pairs within ``radius_km`` (any distance if ``None``) this rule keeps apart.

        Stage ``"pairs"``: shape ``(m, 2)``, ``i < j``, every pair once.
        """
        return np.zeros((0, 2), np.int64)

    def group_core(
        self, instance: Instance, compat: Any, alive: NDArray[np.bool_], k: int
    ) -> NDArray[np.bool_] | None:
        """Stage ``"group"`` on the exact compatible graph: firms that may still be placed.

        Parameters
        ----------
        instance
            The instance.
        compat
            The compatible graph (``scipy.sparse`` CSR, every pair rule applied).
        alive
            Firms in its ``k``-core.
        k
            ``min_size - 1``.
        """
        return None

    def group_star(self, instance: Instance, star: Any) -> NDArray[np.bool_] | None:
        """Stage ``"group"`` on counts within reach (capped instances), per query firm.

        ``star`` is a :class:`matching.rules.explain.Star`.
        """
        return None

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """The smallest change of this rule's setting that fixes ``found`` for the group.

        Parameters
        ----------
        instance
            The run's instance.
        found
            This rule's violations by the candidate group (none of any other rule).
        members
            The candidate group.
        theme
            Its theme, or ``None``.

        Returns
        -------
        Loosening or None
            ``None`` when no change of its own setting helps.
        """
        return None

    def compile(self, instance: Instance) -> Primitives:
        """The engine primitives this rule adds for ``instance`` (default: none)."""
        return Primitives()

    def encode_cpsat(self, window: CpsatWindow) -> None:
        """Add this rule's own constraints to the CP-SAT model of one window (default: none).

        Optional: the primitives :meth:`compile` returns are encoded generically by the
        engines (count caps, pair splits, bounds), so most rules need nothing here.  A rule
        whose condition is no primitive adds it here, from the instance's raw data; the
        model calls this for every registered rule after its own modules.

        Parameters
        ----------
        window
            The model, its assignment variables and the window's firms.
        """

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


def rule_of_kind(kind: str) -> Rule | None:
    """The rule whose check reports violations of ``kind`` (``None``: a structural kind)."""
    for r in _RULES.values():
        if kind in r.violation_kinds():
            return r
    return None


def rule_fields() -> tuple[Field, ...]:
    """Every registered rule's fields, in registration order."""
    return tuple(f for r in _RULES.values() for f in r.fields)


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
