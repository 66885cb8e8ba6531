"""Distance: no two members of a group lie more than ``max_pair_km`` apart.

The radius is an instance field (:attr:`Instance.max_pair_km`) that the pair graph of the
engines is built from.  The verifier's check is its own: haversine screens the pairs that
are clearly inside or outside the limit, and the exact geodesic (geopy) decides the pairs
within :data:`GEODESIC_SCREEN` of it.  Firms with too few others within reach get the
reason ``no_neighbourhood``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from geodata.distance import geodesic_km, haversine_km
from matching.core.problem import Instance
from matching.core.registry import Field, Loosening, Rule, register
from matching.core.violation import Violation

GEODESIC_SCREEN = 0.01
"""Relative band around ``max_pair_km`` in which haversine is not trusted (geodesic used)."""
MAX_PAIR_KM = 300.0
"""Largest radius a run may ask for."""


def far_pairs(instance: Instance, members: tuple[int, ...]) -> list[tuple[int, int, float]]:
    """Member pairs farther apart than ``max_pair_km`` (exact geodesic where it matters).

    Parameters
    ----------
    instance
        The instance (with coordinates and ``max_pair_km``).
    members
        Firm indices.

    Returns
    -------
    list of (int, int, float)
        ``(i, j, km)`` for every pair over the limit.
    """
    assert instance.max_pair_km is not None and instance.lats is not None
    assert instance.lons is not None
    limit = instance.max_pair_km
    idx = np.asarray(members, np.int64)
    a, b = np.triu_indices(len(idx), k=1)
    ia, ib = idx[a], idx[b]
    lat, lon = instance.lats, instance.lons
    approx = np.asarray(haversine_km(lat[ia], lon[ia], lat[ib], lon[ib]), np.float64)
    out = []
    for k in np.nonzero(approx > limit * (1 - GEODESIC_SCREEN))[0]:
        km = float(approx[k])
        if km <= limit * (1 + GEODESIC_SCREEN):
            km = float(geodesic_km(lat[ia[k]], lon[ia[k]], lat[ib[k]], lon[ib[k]]))
        if km > limit:
            out.append((int(ia[k]), int(ib[k]), km))
    return out


def diameter_km(instance: Instance, members: tuple[int, ...]) -> float:
    """The largest exact geodesic distance between two members (0 for one member)."""
    assert instance.lats is not None and instance.lons is not None
    lat, lon = instance.lats, instance.lons
    pairs = [(a, b) for k, a in enumerate(members) for b in members[k + 1 :]]
    return max((geodesic_km(lat[a], lon[a], lat[b], lon[b]) for a, b in pairs), default=0.0)


class Distance(Rule):
    """At most ``max_pair_km`` between any two members (exact geodesic)."""

    name = "distance"
    kinds = ("diameter",)
    reason = "no_neighbourhood"
    explains = "reach"
    explain_order = 10
    relaxes = ("max_pair_km",)
    fields = (
        Field("max_pair_km", "float", 50.0, gt=0, le=MAX_PAIR_KM,
              nl="Grootste afstand in km tussen twee bedrijven van dezelfde groep.",
              en="Largest distance in km between two firms of the same group."),
    )  # fmt: skip

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One ``diameter`` violation per member pair over the limit."""
        if instance.max_pair_km is None or len(members) < 2:
            return []
        return [
            Violation("diameter", group, (i, j), f"{km:.3f} km > {instance.max_pair_km} km")
            for i, j, km in far_pairs(instance, members)
        ]

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``max_pair_km`` up to the group's diameter, rounded up to 0.1 km."""
        needed = math.ceil(diameter_km(instance, members) * 10 + 1e-9) / 10
        current = float(instance.max_pair_km or 0)
        return Loosening("max_pair_km", current, needed, replace(instance, max_pair_km=needed))


register(Distance())
