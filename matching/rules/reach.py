"""Reach: firms that can only meet by ferry are never grouped across the water.

Barriers are data (``data/reach_zones.json``: per barrier, the CBS gemeente codes of each
zone).  Under the barrier ``islands`` (the default) each Wadden island gemeente is its own
zone; firms of a zone group only with firms of the same zone, every other gemeente being
the mainland.  ``reach: "none"`` turns it off.  Compiles into a
:class:`~matching.core.primitives.PairSplit` over the zones of
``Instance.attributes["gemeente"]``; an island firm that cannot form a group on its own
island stays unassigned with the reason ``no_reach``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from geodata.distance import haversine_km
from matching.core.primitives import PairSplit, Primitives
from matching.core.problem import Instance
from matching.core.registry import Field, Rule, register
from matching.core.violation import Violation

ZONES_FILE = Path(__file__).parent / "data" / "reach_zones.json"
SETTING = "reach"
OFF = "none"
_LABELS: WeakKeyDictionary[Instance, NDArray[np.int64] | None] = WeakKeyDictionary()


@cache
def barriers() -> dict[str, dict[str, tuple[int, ...]]]:
    """Per barrier, its zones: name -> CBS gemeente numbers (``GM0448`` -> 448)."""
    raw = json.loads(ZONES_FILE.read_text(encoding="utf-8"))["barriers"]
    return {
        barrier: {zone: tuple(int(code.removeprefix("GM")) for code in codes)
                  for zone, codes in spec["zones"].items()}
        for barrier, spec in raw.items()
    }  # fmt: skip


def zone_labels(instance: Instance) -> NDArray[np.int64] | None:
    """Per firm its zone (``0``: the mainland, ``k``: the ``k``-th zone), or ``None`` (off).

    ``None`` too when no firm lies in a zone: then nothing is kept apart.
    """
    if instance in _LABELS:  # computed once per instance (the verifier asks per group)
        return _LABELS[instance]
    barrier = instance.options.get(SETTING)
    gemeente = instance.attributes.get("gemeente")
    found = None
    if barrier not in (None, OFF) and gemeente is not None:
        labels = np.zeros(instance.n_firms, np.int64)
        for k, codes in enumerate(barriers()[str(barrier)].values(), start=1):
            labels[np.isin(gemeente, codes)] = k
        found = labels if labels.any() else None
    _LABELS[instance] = found
    return found


class Reach(Rule):
    """Firms of a reach zone share a group only with firms of the same zone."""

    name = "reach"
    reason = "no_reach"
    explains = "pairs"
    explain_order = 20
    fields = (
        Field(SETTING, "str", "islands", choices=(*barriers(), OFF),
              nl="Bedrijven die elkaar alleen per veerboot bereiken komen niet in één "
                 "groep: 'islands' (elk Waddeneiland apart, standaard) of 'none' (uit).",
              en="Firms that can only meet by ferry never share a group: 'islands' (each "
                 "Wadden island on its own, the default) or 'none' (off)."),
    )  # fmt: skip

    def compile(self, instance: Instance) -> Primitives:
        """One pair split over the zones, when some firm lies in one."""
        labels = zone_labels(instance)
        return (
            Primitives() if labels is None else Primitives(splits=(PairSplit(self.name, labels),))
        )

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One violation when the members come from more than one zone."""
        labels = zone_labels(instance)
        if labels is None or len(members) < 2:
            return []
        zones = set(labels[list(members)].tolist())
        if len(zones) < 2:
            return []
        names = ["mainland", *barriers()[str(instance.options[SETTING])]]
        detail = "zones " + ", ".join(names[z] for z in sorted(zones)) + " in one group"
        return [Violation(self.name, group, members, detail)]

    def blocked_pairs(self, instance: Instance, radius_km: float | None) -> NDArray[np.int64]:
        """Pairs of firms of different zones within ``radius_km`` (haversine)."""
        labels = zone_labels(instance)
        if labels is None:
            return np.zeros((0, 2), np.int64)
        out = []
        for i in np.flatnonzero(labels > 0):
            other = labels != labels[i]
            if radius_km is not None and instance.lats is not None:
                assert instance.lons is not None
                lat, lon = instance.lats, instance.lons
                other &= np.asarray(haversine_km(lat[i], lon[i], lat, lon)) <= radius_km
            js = np.flatnonzero(other)
            out.append(np.column_stack([np.minimum(i, js), np.maximum(i, js)]))
        if not out:
            return np.zeros((0, 2), np.int64)
        return np.unique(np.concatenate(out).astype(np.int64), axis=0)


register(Reach())
