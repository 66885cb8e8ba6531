"""Why not placed: the smallest single change of the settings that would place a firm.

For an unassigned firm of a finished run, :func:`relax_firm` tries candidate groups around
it, each checked against the run's own settings with the verifier's per-group rules
(:func:`matching.verify.check_group`, exact geodesic distances):

* joining each existing group whose members all lie within ``2 * max_pair_km`` of the firm
  (keeping the group's theme);
* a new group of the firm and nearby unassigned firms: greedily within ``max_pair_km``
  (what if ``min_size`` were lower, or the theme share lower?), and the nearest
  ``min_size - 1`` compatible ones at any distance (what ``max_pair_km`` would it need?).

A candidate that breaks exactly one rule gives a *single change*: ``max_pair_km`` up to the
needed distance (rounded up to 0.1 km), ``max_size`` up, ``min_size`` down, the theme share
down, ``max_weight``/``min_weight``/``max_same_division`` to the needed value, or one
competitor link that blocks it.  Every change is re-checked on the changed instance before
it is offered; none of these changes can invalidate another group of the run (they only
loosen rules).  Options are ordered by relative change, competitor links after numeric
changes; ``tried`` lists every candidate with the rules it breaks.

:meth:`Relaxation.to_dict` gives at most :data:`MAX_OPTIONS` options, ranked, with numbers
rounded and a ``description`` in words from the catalogue ("Sta 51 km toe in plaats van
50: past dan in groep 12 (11 bedrijven)"), the codes and exact values beside them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from geodata.distance import geodesic_km, haversine_km
from matching.build import FirmIndex, build_instance
from matching.constraints import best_theme, required_theme_count
from matching.firms import Firm
from matching.needs import NEED_CODES
from matching.problem import Instance
from matching.relax_answer import MAX_OPTIONS as MAX_OPTIONS
from matching.relax_answer import Attempt, Change, Relaxation
from matching.schemes import settings_rule
from matching.settings import RunSettings
from matching.verify import Violation, check_group
from texts import Msg

_NEED_INDEX = {code: t for t, code in enumerate(NEED_CODES)}


class _Context:
    """The instance, the firm, the run's groups, and the helpers shared by candidates."""

    def __init__(self, instance: Instance, index: FirmIndex, firm: int) -> None:
        self.inst, self.index, self.firm = instance, index, firm
        assert instance.lats is not None and instance.lons is not None
        self.lat, self.lon = instance.lats, instance.lons
        self.km = np.asarray(
            haversine_km(self.lat[firm], self.lon[firm], self.lat, self.lon), np.float64
        )
        self.forbidden = {(int(a), int(b)) for a, b in instance.forbidden}
        self.changes: list[Change] = []
        self.tried: list[Attempt] = []

    def conflict(self, i: int, j: int) -> bool:
        return (min(i, j), max(i, j)) in self.forbidden

    def ids(self, members: Sequence[int]) -> tuple[str, ...]:
        return tuple(self.index.ids[i] for i in sorted(members))

    def diameter(self, members: Sequence[int]) -> float:
        lat, lon = self.lat, self.lon
        pairs = [(a, b) for k, a in enumerate(members) for b in members[k + 1 :]]
        return max((geodesic_km(lat[a], lon[a], lat[b], lon[b]) for a, b in pairs), default=0.0)

    def consider(self, members: list[int], theme: int | None, group: int | None) -> None:
        """Check one candidate; record it, and the single change that fixes it (if any)."""
        members = sorted(members)
        if theme is None:
            theme = best_theme(self.inst, members)
            if theme is None and self.inst.theme_required:
                theme = self._majority_theme(members)
        found = check_group(self.inst, None, tuple(members), theme)
        self.tried.append(Attempt(group, len(members), tuple(self._say(v, theme) for v in found)))
        change = self._single_change(found, members, theme, group)
        if change is not None and not check_group(change[1], None, tuple(members), theme):
            self.changes.append(change[0])

    def _say(self, v: Violation, theme: int | None) -> Msg:
        """The broken rule as a catalogue text (said in the reader's language later)."""
        if v.kind == "forbidden":
            a, b = self.ids(v.firms)
            return Msg.of("relax.tried.competitors", a=a, b=b)
        if v.kind == "diameter" and len(v.firms) == 2:
            (a, b), (i, j) = self.ids(v.firms), v.firms
            km = geodesic_km(self.lat[i], self.lon[i], self.lat[j], self.lon[j])
            limit = float(self.inst.max_pair_km or 0)
            return Msg.of("relax.tried.diameter", a=a, b=b, km=round(km, 1), limit=limit)
        if v.kind == "theme" and self.inst.needs is not None:
            if theme is None:
                return Msg.of("relax.tried.no_theme")
            have = sum(theme in self.inst.needs[i] for i in v.firms)
            return Msg.of("relax.tried.theme", need=NEED_CODES[theme], have=have,
                          size=len(v.firms))  # fmt: skip
        if v.kind == "size":
            return Msg.of("relax.tried.size", size=len(v.firms), low=self.inst.min_size,
                          high=self.inst.max_size)  # fmt: skip
        return Msg.of("relax.tried.other", rule=v.kind, detail=v.detail)

    def _majority_theme(self, members: list[int]) -> int | None:
        assert self.inst.needs is not None
        counts: dict[int, int] = {}
        allowed = self.inst.allowed_themes
        for i in members:
            for t in self.inst.needs[i]:
                if allowed is None or t in allowed:
                    counts[t] = counts.get(t, 0) + 1
        return max(counts, key=lambda t: (counts[t], -t)) if counts else None

    def _single_change(
        self, found: list[Violation], members: list[int], theme: int | None, group: int | None
    ) -> tuple[Change, Instance] | None:
        kinds = {v.kind for v in found}
        if len(kinds) != 1 or (kinds == {"forbidden"} and len(found) != 1):
            return None
        kind, inst = kinds.pop(), self.inst
        code = None if theme is None else NEED_CODES[theme]
        size = len(members)

        def make(setting: str, current: float, needed: float, **kw: Any) -> tuple[Change, Instance]:
            rel = abs(needed - current) / current if current else None
            change = Change(setting, current, needed, None, group, self.ids(members), code, rel)
            return change, dataclasses.replace(inst, **{setting: kw.get("value", needed)})

        if kind == "diameter":
            needed = math.ceil(self.diameter(members) * 10 + 1e-9) / 10
            return make("max_pair_km", float(inst.max_pair_km or 0), needed)
        if kind == "size" and inst.max_size is not None and size > inst.max_size:
            return make("max_size", inst.max_size, size)
        if kind == "size" and inst.min_size is not None and size >= 2:
            return make("min_size", inst.min_size, size)
        if kind == "theme" and theme is not None and inst.needs is not None:
            have = sum(theme in inst.needs[i] for i in members)
            needed = math.floor(have / size * 100) / 100
            ok = needed > 0 and required_theme_count(needed, size) <= have
            return make("min_theme_share", inst.min_theme_share, needed) if ok else None
        if kind == "weight" and inst.weights is not None:
            weight = int(inst.weights[members].sum())
            if inst.max_weight is not None and weight > inst.max_weight:
                return make("max_weight", inst.max_weight, weight)
            if inst.min_weight is not None and weight < inst.min_weight:
                return make("min_weight", inst.min_weight, weight)
        if kind == "division" and inst.max_same_division is not None:
            need = max(len(v.firms) for v in found)
            return make("max_same_division", inst.max_same_division, need)
        if kind == "forbidden":
            a, b = found[0].firms
            pair = (self.index.ids[a], self.index.ids[b])
            rest = inst.forbidden[~((inst.forbidden[:, 0] == min(a, b))
                                    & (inst.forbidden[:, 1] == max(a, b)))]  # fmt: skip
            change = Change("competitor_link", None, None, pair, group, self.ids(members),
                            code, None)  # fmt: skip
            return change, dataclasses.replace(inst, forbidden=rest)
        return None

    def greedy(
        self, pool: list[int], theme: int | None, limit_km: float, cap: int, links: bool = True
    ) -> list[int]:
        """The firm plus pool firms (nearest first) compatible with every member so far.

        With ``links=False`` competitor pairs are ignored (to find a blocking link).
        """
        members = [self.firm]
        needs = self.inst.needs
        for j in pool:
            if len(members) >= cap:
                break
            if theme is not None and needs is not None and theme not in needs[j]:
                continue
            if links and any(self.conflict(i, j) for i in members):
                continue
            far = haversine_km(self.lat[j], self.lon[j], self.lat[members], self.lon[members])
            if np.all(np.asarray(far) <= limit_km):
                members.append(j)
        return members


def _pool(ctx: _Context, placed: set[int]) -> list[int]:
    inst = ctx.inst
    mask = inst.is_placeable.copy()
    mask[list(placed)] = False
    mask[ctx.firm] = False
    pool = np.nonzero(mask & (ctx.km <= 4 * (inst.max_pair_km or 50.0)))[0]
    return [int(j) for j in pool[np.argsort(ctx.km[pool], kind="stable")]]


def _themes_of(ctx: _Context) -> list[int | None]:
    inst = ctx.inst
    if not inst.theme_required or inst.needs is None:
        return [None]
    allowed = inst.allowed_themes
    return [t for t in inst.needs[ctx.firm] if allowed is None or t in allowed]


def _new_groups(ctx: _Context, placed: set[int]) -> None:
    inst = ctx.inst
    pool = _pool(ctx, placed)
    limit = float(inst.max_pair_km or math.inf)
    low, high = inst.min_size or 2, inst.max_size or 15
    for theme in _themes_of(ctx):
        within = ctx.greedy(pool, theme, limit, high)
        ctx.consider(within, theme, None)
        nearest = ctx.greedy(pool, theme, math.inf, low)
        if nearest != within:
            ctx.consider(nearest, theme, None)
        linked = ctx.greedy(pool, theme, limit, high, links=False)
        if linked != within:
            ctx.consider(linked, theme, None)
    if inst.theme_required and inst.min_theme_share > 0:
        ctx.consider(ctx.greedy(pool, None, limit, high), None, None)


def _existing_groups(ctx: _Context, groups: Sequence[tuple[list[int], int | None]]) -> None:
    reach = 2 * float(ctx.inst.max_pair_km or math.inf)
    for number, (members, theme) in enumerate(groups, start=1):
        if members and float(ctx.km[members].max()) <= reach:
            candidate = [*members, ctx.firm]
            ctx.consider(candidate, theme, number)


def relax_firm(
    firms: Sequence[Firm],
    competitors: Sequence[tuple[str, str]],
    partners: Sequence[tuple[str, str]],
    settings: RunSettings,
    groups: Sequence[tuple[Sequence[str], str | None]],
    external_id: str,
) -> Relaxation:
    """The smallest single change of ``settings`` that would place one unassigned firm.

    Parameters
    ----------
    firms, competitors, partners
        The run's cohort and declared pairs (as given to :func:`matching.solve_firms`).
    settings
        The run's stored settings.
    groups
        The run's groups in order: member external ids (unknown ids are skipped) and theme.
    external_id
        The unassigned firm.

    Returns
    -------
    Relaxation
        Options ordered by relative change (competitor links last) and every attempt.

    Raises
    ------
    KeyError
        When ``external_id`` is not in ``firms``.
    """
    by_id = {f.external_id: f for f in firms}
    failed = settings_rule(by_id[external_id], settings)
    if failed is not None:
        return Relaxation(external_id, str(failed), (), (), failed.rule, failed.params)
    instance, index = build_instance(firms, competitors, partners, settings)
    ctx = _Context(instance, index, index.index_of(external_id))
    stored = [
        ([index.index_of(e) for e in ids if e in index and e != external_id],
         None if theme is None else _NEED_INDEX.get(theme))
        for ids, theme in groups
    ]  # fmt: skip
    placed = {i for members, _ in stored for i in members}
    _existing_groups(ctx, stored)
    _new_groups(ctx, placed)
    unique = {(c.setting, c.needed, c.link, c.group, c.members): c for c in ctx.changes}
    names = {f.external_id: f.name for f in firms}
    named = [c if c.link is None else
             dataclasses.replace(c, link_names=(names.get(c.link[0], c.link[0]),
                                                names.get(c.link[1], c.link[1])))
             for c in unique.values()]  # fmt: skip
    options = sorted(named, key=lambda c: (c.relative is None, c.relative or 0.0,
                                           c.group is None, c.group or 0))  # fmt: skip
    return Relaxation(external_id, None, tuple(options), tuple(ctx.tried))
