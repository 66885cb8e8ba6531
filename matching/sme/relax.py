"""Why not placed: the smallest single change of the settings that would place a firm.

For an unassigned firm of a finished run, :func:`relax_firm` tries candidate groups around
it, each checked against the run's own settings with the verifier's per-group rules
(:func:`matching.core.verify.check_group`, exact geodesic distances):

* joining each existing group whose members all lie within ``2 * max_pair_km`` of the firm
  (keeping the group's theme);
* a new group of the firm and nearby unassigned firms: greedily, nearest first, those that
  keep every rule (what if ``min_size`` were lower?), and, for each rule that turned a firm
  away, the nearest ignoring that rule alone (what ``max_pair_km``, cap or competitor link
  would it take?).

A candidate that breaks exactly one rule gives a *single change*: that rule's
:meth:`~matching.core.registry.Rule.relax` (in :mod:`matching.rules`) proposes it, e.g.
``max_pair_km`` up to the needed distance (rounded up to 0.1 km), ``max_size`` up,
``min_size`` down, the theme share down, a count cap (``max_same_division``,
``max_per_gemeente``) up to the needed count, or one competitor link that blocks it.
Every change is re-checked on the changed instance before it is offered; none of these
changes can invalidate another group of the run (they only loosen rules).  Options are
ordered by relative change, competitor links after numeric changes; ``tried`` lists every
candidate with the rules it breaks.

:meth:`Relaxation.to_dict` gives at most :data:`MAX_OPTIONS` options, ranked, with numbers
rounded and a ``description`` in words from the catalogue ("Sta 51 km toe in plaats van
50: past dan in groep 12 (11 bedrijven)"), the codes and exact values beside them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from geodata.distance import geodesic_km, haversine_km
from matching.core import registry
from matching.core.constraints import best_theme
from matching.core.problem import Instance
from matching.core.verify import check_group
from matching.core.violation import Violation
from matching.sme.build import FirmIndex, build_instance
from matching.sme.eligibility import settings_rule
from matching.sme.firms import Firm
from matching.sme.needs import NEED_CODES
from matching.sme.relax_answer import MAX_OPTIONS as MAX_OPTIONS
from matching.sme.relax_answer import Attempt, Change, Relaxation
from matching.sme.settings import RunSettings
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
        self.growing = dataclasses.replace(instance, min_size=None, min_weight=None)
        self.blocking: set[str] = set()
        self.pairs: dict[tuple[int, int | None], frozenset[str]] = {}
        self.changes: list[Change] = []
        self.tried: list[Attempt] = []

    def ids(self, members: Sequence[int]) -> tuple[str, ...]:
        return tuple(self.index.ids[i] for i in sorted(members))

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
        """The one rule all of ``found`` belong to proposes its smallest loosening."""
        owners = {registry.rule_of_kind(v.kind) for v in found}
        if len(owners) != 1 or None in owners:
            return None
        owner = owners.pop()
        assert owner is not None
        loose = owner.relax(self.inst, found, tuple(members), theme)
        if loose is None:
            return None
        code = None if theme is None else NEED_CODES[theme]
        link = None if loose.link is None else (self.index.ids[loose.link[0]],
                                                 self.index.ids[loose.link[1]])  # fmt: skip
        current, needed = loose.current, loose.needed
        rel = None if current is None or needed is None or not current else (
            abs(needed - current) / current)  # fmt: skip
        change = Change(loose.setting, current, needed, link, group, self.ids(members), code, rel)
        return change, loose.instance

    def greedy(
        self, pool: list[int], theme: int | None, cap: int, ignore: frozenset[str] = frozenset()
    ) -> list[int]:
        """The firm plus pool firms (nearest first) with which the group keeps every rule.

        A growing group may stay below ``min_size`` and ``min_weight``; it stops at ``cap``
        members.  Violations of the kinds in ``ignore`` are accepted (to find the one rule
        that blocks a group); the kinds that turned a firm away are added to
        :attr:`blocking`.
        """
        members = [self.firm]
        for j in pool:
            if len(members) >= cap:
                break
            kinds = set(self._with_firm(j, theme) - ignore)  # the pair alone (cached)
            if not kinds and len(members) > 1:
                trial = tuple(sorted((*members, j)))
                kinds = {v.kind for v in check_group(self.growing, None, trial, theme)} - ignore
            if kinds:
                self.blocking |= kinds
            else:
                members.append(j)
        return members

    def _with_firm(self, j: int, theme: int | None) -> frozenset[str]:
        """The kinds a group of just the firm and ``j`` breaks (cached per theme)."""
        key = (j, theme)
        if key not in self.pairs:
            pair = tuple(sorted((self.firm, j)))
            found = check_group(self.growing, None, pair, theme)
            self.pairs[key] = frozenset(v.kind for v in found)
        return self.pairs[key]


def _pool(ctx: _Context, placed: set[int]) -> list[int]:
    inst = ctx.inst
    mask = inst.is_placeable.copy()
    mask[list(placed)] = False
    mask[ctx.firm] = False
    pool = np.nonzero(mask & (ctx.km <= 4 * (inst.max_pair_km or math.inf)))[0]
    return [int(j) for j in pool[np.argsort(ctx.km[pool], kind="stable")]]


def _themes_of(ctx: _Context) -> list[int | None]:
    inst = ctx.inst
    if not inst.theme_required or inst.needs is None:
        return [None]
    allowed = inst.allowed_themes
    return [t for t in inst.needs[ctx.firm] if allowed is None or t in allowed]


def _new_groups(ctx: _Context, placed: set[int]) -> None:
    """Candidate new groups: the firm with the nearest firms that keep every rule, then, for
    each rule that turned a firm away, the nearest firms ignoring that rule alone (as few
    as ``min_size`` and as many as ``max_size``)."""
    inst = ctx.inst
    pool = _pool(ctx, placed)
    low, high = inst.min_size or 2, inst.max_size or 15
    themes = _themes_of(ctx)
    if inst.theme_required and inst.min_theme_share > 0:
        themes.append(None)  # any needs: what theme share would the nearest firms need?
    for theme in themes:
        ctx.blocking = set()
        within = ctx.greedy(pool, theme, high)
        ctx.consider(within, theme, None)
        seen = [within]
        for kind in sorted(ctx.blocking):
            owner = registry.rule_of_kind(kind)
            if owner is None or not owner.relaxes:
                continue
            ignore = frozenset(owner.violation_kinds())
            for cap in (low, high):
                candidate = ctx.greedy(pool, theme, cap, ignore)
                if candidate not in seen:
                    seen.append(candidate)
                    ctx.consider(candidate, theme, None)


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
