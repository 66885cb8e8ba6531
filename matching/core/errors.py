"""Errors raised by the matching core.

Infeasibility and timeouts are outcomes (``Result.status``), not exceptions.  These errors
mark invalid input (an instance or parameters that cannot be solved as stated) or a bug
(a solver produced a solution the verifier rejects).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from texts import Msg

if TYPE_CHECKING:
    from matching.core.violation import Violation


class MatchingError(Exception):
    """Base class of every error raised by :mod:`matching`.

    ``field`` names the offending input (a setting, an instance field, a file column) when
    there is one, so that a caller can report the error as the user's, naming the field.
    """

    field: str | None = None


class SettingsError(MatchingError, ValueError):
    """Impossible run settings (:class:`matching.sme.settings.RunSettings`).

    Parameters
    ----------
    field
        The offending setting.
    reason
        Why it is impossible.
    text
        The reason as a catalogue text (said in the reader's language), when it has one.
    """

    def __init__(self, field: str, reason: str, text: Msg | None = None) -> None:
        self.field = field
        self.reason = reason
        self.text = text
        super().__init__(f"invalid setting {field!r}: {reason}")

    @classmethod
    def of(cls, field: str, key: str, /, **params: object) -> SettingsError:
        """The error whose reason is the catalogue text ``key`` (English in ``reason``)."""
        text = Msg.of(key, **params)
        return cls(field, text.render("en"), text)

    def say(self, lang: str) -> str:
        """The reason in ``lang`` (as raised when it has no catalogue text)."""
        return self.text.render(lang) if self.text is not None else self.reason

    def __reduce__(self) -> tuple[type[SettingsError], tuple[str, str, Msg | None]]:
        """Pickle by the constructor's arguments (it crosses to and from worker processes)."""
        return type(self), (self.field or "", self.reason, self.text)


class InvalidInstanceError(MatchingError, ValueError):
    """An :class:`~matching.core.problem.Instance` field is missing, malformed or inconsistent."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"invalid instance field {field!r}: {reason}")


class InvalidParamsError(MatchingError, ValueError):
    """A :class:`~matching.core.params.SolveParams` field is out of range."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"invalid solve parameter {field!r}: {reason}")


class InstanceFormatError(MatchingError, ValueError):
    """A benchmark instance file (CCPLIB) cannot be parsed."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class UnverifiedSolutionError(MatchingError, RuntimeError):
    """A solver returned a solution with violations: always a bug, never an outcome."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        head = "; ".join(f"{v.kind} {v.detail}" for v in violations[:3])
        super().__init__(f"solver produced {len(violations)} violation(s): {head}")
