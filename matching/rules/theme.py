"""Theme: in a themed run every group has a theme need that enough of its members share.

Group predicates on instance fields (``theme_required``, ``min_theme_share``,
``allowed_themes``) that every engine reads.  A firm that cannot form a group around any
allowed theme it has gets the reason ``no_common_need``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geodata.neighbours import count_within
from matching.core import constraints as c
from matching.core.problem import Instance
from matching.core.registry import Field, Loosening, Rule, register
from matching.core.violation import Violation
from matching.rules.explain import Star, kcore, needed_count


def _has(instance: Instance) -> NDArray[np.bool_]:
    has = np.zeros((instance.n_firms, max(instance.n_needs, 1)), bool)
    for i, row in enumerate(instance.needs or ()):
        has[i, list(row)] = True
    return has


class Theme(Rule):
    """Themed runs: at least ``ceil(min_theme_share * size)`` members have the theme."""

    name = "theme"
    reason = "no_common_need"
    explains = "group"
    explain_order = 40
    relaxes = ("min_theme_share",)
    fields = (
        Field("min_theme_share", "float", 1.0, gt=0, le=1,
              nl="Aandeel van de leden dat de themavraag van de groep moet hebben "
                 "(1 = allemaal).",
              en="Share of the members that must have the group's theme need (1 = all)."),
        Field("allowed_themes", "list[str]", None, nullable=True,
              nl="Vragen die als thema van een groep mogen dienen; leeg: die bij het doel "
                 "van de run passen.",
              en="Needs allowed as a group's theme; empty: those that suit the run's "
                 "purpose."),
    )  # fmt: skip

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """A theme violation when the theme is missing, not allowed or too rare."""
        if not instance.theme_required or c.theme_ok(instance, members, theme):
            return []
        return [Violation("theme", group, members, f"theme {theme} not shared by enough members")]

    def group_core(
        self, instance: Instance, compat: Any, alive: NDArray[np.bool_], k: int
    ) -> NDArray[np.bool_] | None:
        """Share 1: in the core of the compatible holders of some allowed theme it has;
        a lower share: enough holders of some theme among its compatible firms."""
        if not instance.theme_required:
            return None
        has = _has(instance)
        if instance.min_theme_share >= 1:
            ok = np.zeros(instance.n_firms, bool)
            for t in c.theme_options(instance):
                ok |= kcore(compat, alive & has[:, t], k)
            return ok
        need = needed_count(instance.min_theme_share, instance.min_size or 1)
        counts = compat @ (has & alive[:, None]).astype(np.int64)  # holders within reach
        ok = np.zeros(instance.n_firms, bool)
        for t in c.theme_options(instance):
            ok |= np.where(has[:, t], counts[:, t] >= need - 1, counts[:, t] >= need)
        return alive & ok

    def group_star(self, instance: Instance, star: Star) -> NDArray[np.bool_] | None:
        """Per query firm: enough holders of some allowed theme within reach, less blocked."""
        if not instance.theme_required:
            return None
        assert instance.lats is not None and instance.lons is not None
        lat, lon, q, pool = instance.lats, instance.lons, star.query, star.pool
        has = _has(instance)
        need = needed_count(instance.min_theme_share, instance.min_size or 1)
        ok = np.zeros(len(q), bool)
        for t in c.theme_options(instance):
            holders = pool[has[pool, t]]
            count = count_within(lat[holders], lon[holders], lat[q], lon[q], star.radius_km)
            count -= has[q, t]  # less itself
            count -= star.blocked_count(has[:, t])
            ok |= count >= np.where(has[q, t], need - 1, need)
        return ok

    def relax(
        self,
        instance: Instance,
        found: list[Violation],
        members: tuple[int, ...],
        theme: int | None,
    ) -> Loosening | None:
        """``min_theme_share`` down to the share of members that have the theme."""
        if theme is None or instance.needs is None:
            return None
        size = len(members)
        have = sum(theme in instance.needs[i] for i in members)
        needed = math.floor(have / size * 100) / 100
        if needed <= 0 or c.required_theme_count(needed, size) > have:
            return None
        return Loosening("min_theme_share", instance.min_theme_share, needed,
                         replace(instance, min_theme_share=needed))  # fmt: skip


register(Theme())
