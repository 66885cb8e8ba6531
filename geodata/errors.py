"""Errors raised by :mod:`geodata`: one base class and a few typed subclasses.

Each error names a catalogue key (``key``) and its values (``params``) so readers can say
it in their language (:mod:`texts`); ``str(error)`` stays the English text.
"""

from __future__ import annotations


class GeodataError(Exception):
    """Base class of every error raised by :mod:`geodata`.

    ``field`` names the offending input (``postcode``, ``lat``) so that a caller can report
    the error as the user's, naming the field.
    """

    key: str | None = None
    field: str | None = None

    @property
    def params(self) -> dict[str, object]:
        """The values of the catalogue text ``key``."""
        return {}


class MalformedPostcodeError(GeodataError):
    """Text that is not a Dutch postcode (PC4 ``1234`` or PC6 ``1234 AB``)."""

    key = "geodata.malformed_postcode"
    field = "postcode"

    def __init__(self, postcode: str, reason: str, reason_code: str = "format") -> None:
        self.postcode = postcode
        self.reason = reason
        self.reason_code = reason_code
        super().__init__(f"malformed postcode {postcode!r}: {reason}")

    @property
    def params(self) -> dict[str, object]:
        """``postcode`` and ``reason_code`` (``empty``, ``format`` or ``leading_zero``)."""
        return {"postcode": self.postcode, "reason_code": self.reason_code}


class UnknownPostcodeError(GeodataError):
    """A well-formed postcode whose PC4 is not in the bundled GeoNames data."""

    key = "geodata.unknown_postcode"
    field = "postcode"

    def __init__(self, postcode: str) -> None:
        self.postcode = postcode
        super().__init__(f"unknown postcode {postcode!r}: its PC4 is not in the bundled data")

    @property
    def params(self) -> dict[str, object]:
        """``postcode``."""
        return {"postcode": self.postcode}


class OutsideNetherlandsError(GeodataError):
    """Coordinates that fall outside every Dutch gemeente."""

    key = "geodata.outside_netherlands"
    field = "lat"

    def __init__(self, lat: float, lon: float) -> None:
        self.lat = lat
        self.lon = lon
        super().__init__(f"({lat:.6f}, {lon:.6f}) is outside the Netherlands (no gemeente)")

    @property
    def params(self) -> dict[str, object]:
        """``lat`` and ``lon`` (6 decimals)."""
        return {"lat": f"{self.lat:.6f}", "lon": f"{self.lon:.6f}"}
