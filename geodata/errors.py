"""Errors raised by :mod:`geodata`: one base class and a few typed subclasses."""

from __future__ import annotations


class GeodataError(Exception):
    """Base class of every error raised by :mod:`geodata`."""


class MalformedPostcodeError(GeodataError):
    """Text that is not a Dutch postcode (PC4 ``1234`` or PC6 ``1234 AB``)."""

    def __init__(self, postcode: str, reason: str) -> None:
        self.postcode = postcode
        self.reason = reason
        super().__init__(f"malformed postcode {postcode!r}: {reason}")


class UnknownPostcodeError(GeodataError):
    """A well-formed postcode whose PC4 is not in the bundled GeoNames data."""

    def __init__(self, postcode: str) -> None:
        self.postcode = postcode
        super().__init__(f"unknown postcode {postcode!r}: its PC4 is not in the bundled data")


class OutsideNetherlandsError(GeodataError):
    """Coordinates that fall outside every Dutch gemeente."""

    def __init__(self, lat: float, lon: float) -> None:
        self.lat = lat
        self.lon = lon
        super().__init__(f"({lat:.6f}, {lon:.6f}) is outside the Netherlands (no gemeente)")
