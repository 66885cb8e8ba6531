"""Where a group meets: the PC4 centroid that minimises the members' total travel.

The candidates are PC4 centroids of the bundled GeoNames table (:mod:`geodata.postcodes`):
the members' own PC4s and every PC4 whose centroid lies in the members' bounding box
widened by a small margin (:data:`MARGIN_KM`).  The minimiser of a sum of distances (the
geometric median) lies in the members' convex hull, so the box holds the candidates that
matter.  Travel is the great-circle distance (:func:`geodata.distance.haversine_km`) from
each member's position to the candidate; the chosen candidate has the smallest sum (the
first in PC4 order on a tie).

A meeting place is always a PC4 centroid, never a member's own position: a firm geocoded to
its address is not pinned down by the group it meets in.  Only when no PC4 centroid lies in
the box and no member's PC4 is known (points given without postcodes, far from any PC4)
does the PC4 nearest to a member become the candidate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from geodata.distance import EARTH_RADIUS_KM, haversine_km
from geodata.errors import GeodataError
from geodata.postcodes import PostcodeIndex, load_postcode_index, normalise_postcode

MARGIN_KM = 2.0
"""How far beyond the members' bounding box PC4 centroids still count as candidates."""

SHORTLIST_TOLERANCE = 0.01
"""Candidates whose flat-earth total travel is within 1 % of the best go to the exact check."""

_KM_PER_DEGREE_LAT = 111.2
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MeetingPlace:
    """A group's meeting place with the members' travel to it (straight-line km)."""

    place: str
    postcode: str
    lat: float
    lon: float
    mean_km: float
    max_km: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, km rounded to 0.1 and coordinates to 6 decimals."""
        return {
            "place": self.place,
            "postcode": self.postcode,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "mean_km": round(self.mean_km, 1),
            "max_km": round(self.max_km, 1),
        }


class MeetingPlaces:
    """Chooses meeting places among the PC4 centroids of one postcode index.

    The centroids are held once, sorted by latitude, so a group's candidates are a binary
    search plus a longitude mask.

    Parameters
    ----------
    index
        The PC4 table (:func:`geodata.postcodes.load_postcode_index`).
    margin_km
        Widening of the members' bounding box, in km (at least 0).

    Raises
    ------
    ValueError
        For a negative or non-finite margin or an empty index.
    """

    def __init__(self, index: PostcodeIndex, margin_km: float = MARGIN_KM) -> None:
        if not math.isfinite(margin_km) or margin_km < 0:
            raise ValueError(f"margin_km must be finite and >= 0, got {margin_km}")
        records = sorted(index.records(), key=lambda r: (r.lat, r.pc4))
        if not records:
            raise ValueError("the postcode index is empty")
        self.margin_km = margin_km
        self.lat: FloatArray = np.array([r.lat for r in records], dtype=np.float64)
        self.lon: FloatArray = np.array([r.lon for r in records], dtype=np.float64)
        self.pc4 = tuple(r.pc4 for r in records)
        self.place = tuple(r.place for r in records)
        self._row = {r.pc4: k for k, r in enumerate(records)}
        self._phi = np.radians(self.lat)
        self._lam = np.radians(self.lon)
        self._cos = np.cos(self._phi)

    def _rows_of(self, postcodes: Sequence[str | None]) -> list[int]:
        rows = []
        for code in set(postcodes):
            if not code:
                continue
            row = self._row.get(code[:4])  # "9711", "9711AB", "9711 AB": the common forms
            if row is None:
                try:
                    row = self._row.get(normalise_postcode(code)[0])
                except GeodataError:
                    continue
            if row is not None:
                rows.append(row)
        return rows

    def candidates(
        self, lats: FloatArray, lons: FloatArray, postcodes: Sequence[str | None] = ()
    ) -> IntArray:
        """Rows (into ``lat``, ``lon``, ``pc4``, ``place``) of a group's candidate PC4s.

        Parameters
        ----------
        lats, lons
            The members' positions in degrees (finite, at least one).
        postcodes
            The members' postcodes (PC4 or PC6; unknown or malformed ones are skipped).

        Returns
        -------
        numpy.ndarray
            Sorted, distinct row numbers; never empty.
        """
        m_lat = self.margin_km / _KM_PER_DEGREE_LAT
        lo, hi = float(lats.min()) - m_lat, float(lats.max()) + m_lat
        cos = max(math.cos(math.radians(max(abs(lo), abs(hi)))), 1e-6)
        m_lon = self.margin_km / (_KM_PER_DEGREE_LAT * cos)
        start = int(np.searchsorted(self.lat, lo, side="left"))
        stop = int(np.searchsorted(self.lat, hi, side="right"))
        window = self.lon[start:stop]
        inside = (window >= lons.min() - m_lon) & (window <= lons.max() + m_lon)
        rows = np.flatnonzero(inside) + start
        outside = [
            k for k in self._rows_of(postcodes) if not start <= k < stop or not inside[k - start]
        ]
        if outside:
            rows = np.unique(np.concatenate([rows, np.asarray(outside, dtype=np.int64)]))
        if rows.size == 0:  # nothing near: the PC4 nearest to each member
            d = haversine_km(lats[:, None], lons[:, None], self.lat[None, :], self.lon[None, :])
            rows = np.unique(np.asarray(d).argmin(axis=1))
        return rows.astype(np.int64)

    def _shortlist(self, lats: FloatArray, lons: FloatArray, rows: IntArray) -> IntArray:
        """Positions in ``rows`` whose approximate total travel is near the smallest.

        The approximation is a flat-earth distance with the mean of both ends' latitude
        scales (relative error far below :data:`SHORTLIST_TOLERANCE` at 100 km); the exact
        haversine then decides among the shortlist, so the choice is the haversine optimum.
        """
        if rows.size <= 1:
            return np.arange(rows.size)
        phi = np.radians(lats)[:, None]
        dx = (self._lam[rows] - np.radians(lons)[:, None]) * (0.5 * (np.cos(phi) + self._cos[rows]))
        dy = self._phi[rows] - phi
        total = np.sqrt(dx * dx + dy * dy).sum(axis=0)
        limit = total.min() * (1.0 + SHORTLIST_TOLERANCE) + 1e-6 / EARTH_RADIUS_KM
        return np.flatnonzero(total <= limit)

    def find(
        self,
        lats: npt.ArrayLike,
        lons: npt.ArrayLike,
        postcodes: Sequence[str | None] = (),
    ) -> MeetingPlace | None:
        """The candidate PC4 centroid with the smallest total travel of the members.

        Parameters
        ----------
        lats, lons
            The members' positions in degrees; members without finite coordinates are left
            out (of the choice and of the distances).
        postcodes
            The members' postcodes in the same order (optional); their PC4s are candidates.

        Returns
        -------
        MeetingPlace or None
            The place, its PC4 and centroid, and the mean and largest member distance to it
            in km; ``None`` when no member has coordinates.
        """
        la = np.asarray(lats, dtype=np.float64).ravel()
        lo = np.asarray(lons, dtype=np.float64).ravel()
        ok = np.isfinite(la) & np.isfinite(lo)
        if not ok.any():
            return None
        codes: Sequence[str | None] = postcodes
        if not ok.all():
            la, lo = la[ok], lo[ok]
            codes = [c for c, keep in zip(postcodes, ok, strict=False) if keep]
        rows = self.candidates(la, lo, codes)
        rows = rows[self._shortlist(la, lo, rows)]
        d = np.asarray(
            haversine_km(la[:, None], lo[:, None], self.lat[rows][None, :], self.lon[rows][None, :])
        ).reshape(la.size, rows.size)
        best = int(d.sum(axis=0).argmin())
        row, travel = int(rows[best]), d[:, best]
        return MeetingPlace(
            place=self.place[row],
            postcode=self.pc4[row],
            lat=float(self.lat[row]),
            lon=float(self.lon[row]),
            mean_km=float(travel.mean()),
            max_km=float(travel.max()),
        )


@functools.cache
def meeting_places() -> MeetingPlaces:
    """The shared :class:`MeetingPlaces` over the bundled PC4 table (built once)."""
    return MeetingPlaces(load_postcode_index())


def meeting_place(
    lats: npt.ArrayLike, lons: npt.ArrayLike, postcodes: Sequence[str | None] = ()
) -> MeetingPlace | None:
    """A group's meeting place among the bundled PC4 centroids (see :class:`MeetingPlaces`).

    Parameters
    ----------
    lats, lons
        The members' positions in degrees.
    postcodes
        The members' postcodes in the same order (optional).

    Returns
    -------
    MeetingPlace or None
        ``None`` when no member has coordinates.
    """
    return meeting_places().find(lats, lons, postcodes)
