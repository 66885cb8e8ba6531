"""Data minimisation in read models: what a caller's role may see of a firm.

Every read route that returns firm data (groups JSON, GeoJSON, CSV, XLSX, the
joint-application pack) serialises firms through :class:`FirmView`, so the rule lives here
once.  A ``viewer`` sees positions at PC4 level only (the PC4 centroid, never coordinates a
firm was uploaded with; group hulls and centroids recomputed from those centroids), the PC4
instead of a PC6 postcode, and a KvK number only when the firm has ``consent_to_share``.
``member`` and higher roles see the stored values.

The caller's role is bound to the request's session by ``deps.get_caller`` (next to the
organisation scope); sessions without a caller (CLI, demo, benchmarks: the operator) see
everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from app.models import Firm, Role
from geodata.geocode import geocode
from geodata.shapes import centroid, hull_geojson

_MINIMISE_KEY = "kring_minimise_firms"
DECIMALS = 6


def bind_audience(session: Session, role: Role) -> None:
    """Record on ``session`` whether its caller gets the minimised (viewer) firm view."""
    session.info[_MINIMISE_KEY] = role is Role.viewer


@lru_cache(maxsize=8192)
def pc4_position(pc4: str) -> tuple[float, float]:
    """The ``(lat, lon)`` centroid of a PC4 from the bundled table."""
    location = geocode(pc4)
    return location.lat, location.lon


@dataclass(frozen=True)
class FirmView:
    """How firms are shown to one caller; ``minimise`` is true for viewers."""

    minimise: bool

    def position(self, firm: Firm) -> tuple[float, float]:
        """``(lat, lon)``: stored for members and up, the PC4 centroid for viewers."""
        return pc4_position(firm.pc4) if self.minimise else (firm.lat, firm.lon)

    def coordinates(self, firm: Firm) -> list[float]:
        """GeoJSON ``[lon, lat]`` of :meth:`position`, rounded to 6 decimals."""
        lat, lon = self.position(firm)
        return [round(lon, DECIMALS), round(lat, DECIMALS)]

    def value(self, firm: Firm, field: str) -> Any:
        """One attribute of ``firm`` as this caller may see it."""
        if self.minimise:
            if field == "kvk_number" and not firm.consent_to_share:
                return None
            if field == "postcode":
                return firm.pc4
            if field in ("lat", "lon"):
                lat, lon = self.position(firm)
                return lat if field == "lat" else lon
        return getattr(firm, field)

    def fields(self, firm: Firm, names: Iterable[str]) -> dict[str, Any]:
        """``{name: value(firm, name)}`` for each name."""
        return {name: self.value(firm, name) for name in names}

    def hull(self, stored: dict[str, Any] | None, firms: Sequence[Firm]) -> dict[str, Any] | None:
        """A group's hull: the stored one, or for viewers one over the members' PC4s."""
        if not self.minimise or stored is None or not firms:
            return stored
        lats, lons = zip(*(self.position(f) for f in firms), strict=True)
        return hull_geojson(lats, lons)

    def details(self, stored: dict[str, Any] | None, firms: Sequence[Firm]) -> dict[str, Any]:
        """A group's stored details; for viewers the centroid is over the members' PC4s."""
        out = dict(stored or {})
        if self.minimise and "centroid" in out:
            if firms:
                lats, lons = zip(*(self.position(f) for f in firms), strict=True)
                lat, lon = centroid(lats, lons)
                out["centroid"] = {"lat": round(lat, DECIMALS), "lon": round(lon, DECIMALS)}
            else:
                out["centroid"] = None
        return out


def firm_view(session: Session) -> FirmView:
    """The :class:`FirmView` of the caller bound to ``session`` (full without a caller)."""
    return FirmView(minimise=bool(session.info.get(_MINIMISE_KEY, False)))
