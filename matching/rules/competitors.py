"""Competitors: two firms with a declared (or inferred) competitor link never share a group.

The pairs are the instance's ``forbidden`` field, which the engines' pair graph leaves
out.  With ``infer_competitors_km`` set, :mod:`matching.sme.build` adds every pair of firms
of the same 4-digit SBI class within that distance.  A firm with enough firms within reach,
but too few once its competitors are left out, gets the reason ``competitors_block``; the
relaxation proposes dropping the one link that blocks a group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from geodata.distance import haversine_km
from matching.core.problem import Instance
from matching.core.registry import Field, Loosening, Rule, register
from matching.core.violation import Violation

Lookup = Callable[[tuple[int, ...]], NDArray[np.int64]]
_LOOKUPS: WeakKeyDictionary[Instance, Lookup] = WeakKeyDictionary()


def pairs_touching(forbidden: NDArray[np.int64], n: int) -> Lookup:
    """A lookup of the forbidden pairs with an end among given firms (indexed once).

    Parameters
    ----------
    forbidden
        Pairs, shape ``(m, 2)``.
    n
        Number of firms.

    Returns
    -------
    callable
        ``members -> pairs`` (rows of ``forbidden`` with an end among ``members``).
    """
    pairs = np.asarray(forbidden, np.int64).reshape(-1, 2)
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    rows = np.concatenate([np.arange(len(pairs))] * 2)
    order = np.argsort(ends, kind="stable")
    ends, rows = ends[order], rows[order]
    starts = np.searchsorted(ends, np.arange(n + 1))

    def lookup(members: tuple[int, ...]) -> NDArray[np.int64]:
        if not len(pairs):
            return pairs
        found = [rows[starts[i] : starts[i + 1]] for i in members]
        return pairs[np.unique(np.concatenate(found))] if found else pairs[:0]

    return lookup


def _lookup(instance: Instance) -> Lookup:
    hit = _LOOKUPS.get(instance)
    if hit is None:
        hit = _LOOKUPS[instance] = pairs_touching(instance.forbidden, instance.n_firms)
    return hit


class Competitors(Rule):
    """No declared competitor pair in one group."""

    name = "competitors"
    kinds = ("forbidden",)
    reason = "competitors_block"
    explains = "pairs"
    explain_order = 30
    relaxes = ("competitor_link",)
    fields = (
        Field("infer_competitors_km", "float", None, nullable=True, gt=0, le=100,
              nl="Bedrijven met dezelfde SBI-klasse (4 cijfers) binnen deze afstand in km "
                 "gelden ook als concurrenten; leeg: alleen opgegeven concurrenten.",
              en="Firms of the same SBI class (4 digits) within this distance in km also "
                 "count as competitors; empty: declared competitors only."),
    )  # fmt: skip

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One ``forbidden`` violation per competitor pair inside the group."""
        if not len(instance.forbidden) or len(members) < 2:
            return []
        fb = _lookup(instance)(members)
        inside = np.isin(fb[:, 0], members) & np.isin(fb[:, 1], members)
        return [
            Violation("forbidden", group, (int(i), int(j)), "competitors share a group")
            for i, j in fb[inside]
        ]

    def blocked_pairs(self, instance: Instance, radius_km: float | None) -> NDArray[np.int64]:
        """The competitor pairs within ``radius_km`` (haversine)."""
        pairs = instance.forbidden
        if radius_km is None or not len(pairs) or instance.lats is None:
            return pairs
        assert instance.lons is not None
        lat, lon = instance.lats, instance.lons
        km = haversine_km(lat[pairs[:, 0]], lon[pairs[:, 0]], lat[pairs[:, 1]], lon[pairs[:, 1]])
        out: NDArray[np.int64] = pairs[np.asarray(km) <= radius_km]
        return out

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """Drop the one competitor link inside the group (none when there are more)."""
        if len(found) != 1:
            return None
        a, b = sorted(found[0].firms)
        fb = instance.forbidden
        rest = fb[~((fb[:, 0] == a) & (fb[:, 1] == b))]
        return Loosening("competitor_link", None, None, replace(instance, forbidden=rest), (a, b))


register(Competitors())
