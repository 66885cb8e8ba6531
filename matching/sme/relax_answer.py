"""The answer of :func:`matching.sme.relax.relax_firm`: single changes, attempts, and words.

:meth:`Relaxation.to_dict` gives at most :data:`MAX_OPTIONS` options, ranked, with numbers
rounded and a ``description`` in words from the catalogue ("Sta 51 km toe in plaats van
50: past dan in groep 12 (11 bedrijven)"), the codes and exact values beside them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import texts
from matching.sme.explanation import need_label, rule_text

MAX_OPTIONS = 5
"""At most this many options are reported (the best first)."""


@dataclass(frozen=True)
class Change:
    """One single change that would place the firm.

    Attributes
    ----------
    setting
        The setting a rule loosens (``max_pair_km``, ``min_size``, ``max_size``,
        ``min_theme_share``, ``min_weight``, ``max_weight``, ``max_same_division``,
        ``max_per_gemeente``...) or ``competitor_link``.
    current, needed
        The run's value and the value that places the firm (``None`` for a link).
    link
        The blocking competitor pair (external ids) for ``competitor_link``.
    group
        The existing group (its 1-based number) the firm would join; ``None``: a new group.
    members
        The resulting group (external ids, the firm included).
    theme
        Its theme need code (``None`` for peer groups).
    relative
        ``|needed - current| / current`` (``None`` for a link).
    link_names
        The names of the blocking pair's firms (for the words), when known.
    """

    setting: str
    current: float | None
    needed: float | None
    link: tuple[str, str] | None
    group: int | None
    members: tuple[str, ...]
    theme: str | None
    relative: float | None
    link_names: tuple[str, str] | None = None

    def shown(self) -> tuple[float, float] | None:
        """Current and needed value as a person sets them (``None`` for a link).

        A distance is rounded up to whole km (the rounded value still places the firm), a
        theme share down to whole percent, counts and weights are whole numbers already.
        """
        if self.current is None or self.needed is None:
            return None
        if self.setting == "max_pair_km":
            return round(self.current, 1), float(math.ceil(self.needed - 1e-9))
        if self.setting == "min_theme_share":
            return round(self.current * 100), float(math.floor(self.needed * 100 + 1e-9))
        return self.current, self.needed

    def describe(self, lang: str = "nl") -> str:
        """The change in words, e.g. ``"Sta 51 km toe in plaats van 50: past dan in groep 12
        (11 bedrijven)"``.

        Parameters
        ----------
        lang
            ``"nl"`` (default) or ``"en"``.

        Returns
        -------
        str
            One sentence from the catalogue (``relax.change.<setting>``; for a setting
            without its own words ``relax.change.raise`` or ``.lower``, naming it).
        """
        size = len(self.members)
        if self.group is None:
            where = texts.t("relax.where.new", lang, size=size)
        else:
            where = texts.t("relax.where.group", lang, group=self.group, size=size)
        if self.link is not None:
            a, b = self.link_names or self.link
            return texts.t("relax.change.competitor_link", lang, a=a, b=b, where=where)
        shown = self.shown()
        assert shown is not None
        current, needed = (texts.number(v, lang, 1) for v in shown)
        key = f"relax.change.{self.setting}"
        if not texts.has(key):  # a rule without words of its own: "Verhoog max_x van 3 naar 4"
            key = "relax.change.raise" if shown[1] > shown[0] else "relax.change.lower"
        return texts.t(key, lang, setting=self.setting, current=current, needed=needed,
                       where=where)  # fmt: skip

    def to_dict(self, lang: str = "nl", rank: int | None = None) -> dict[str, Any]:
        """Return the change as JSON-ready data: codes, rounded values, words in ``lang``."""
        out = dataclasses.asdict(self)
        out.pop("link_names")
        out["link"] = None if self.link is None else list(self.link)
        out["members"] = list(self.members)
        out["size"] = len(self.members)
        out["relative"] = None if self.relative is None else round(self.relative, 3)
        out["needed"] = None if self.needed is None else round(self.needed, 3)
        shown = self.shown()
        out["suggested"] = None if shown is None else shown[1]
        out["rank"] = rank
        out["description"] = self.describe(lang)
        return out


@dataclass(frozen=True)
class Attempt:
    """One candidate group that was tried and the rules it breaks."""

    group: int | None
    size: int
    broken: tuple[texts.Msg, ...]

    def to_dict(self, lang: str = "nl") -> dict[str, Any]:
        """Return the attempt as JSON-ready data: the broken rules in words (``lang``) and
        their codes (catalogue keys) beside them."""
        broken = [_said(m, lang) for m in self.broken]
        if self.group is None:
            where = texts.t("relax.tried.new_group", lang, size=self.size)
        else:
            where = texts.t("relax.tried.group", lang, group=self.group, size=self.size)
        rest = "; ".join(broken) or texts.t("relax.tried.valid", lang)
        return {"group": self.group, "size": self.size, "broken": broken,
                "broken_codes": [m.key for m in self.broken],
                "description": f"{where}: {rest}"}  # fmt: skip


def _said(text: texts.Msg, lang: str) -> str:
    """A broken rule in ``lang``: numbers as people write them, a need by its label."""
    params = dict(text.params)
    for name in ("km", "limit"):
        value = params.get(name)
        if isinstance(value, float):
            params[name] = texts.number(value, lang, 1)
    need = params.get("need")
    if isinstance(need, str):
        params["need"] = need_label(need, lang)
    return texts.t(text.key, lang, **params)


@dataclass(frozen=True)
class Relaxation:
    """The outcome for one firm: the options (best first) and everything tried."""

    external_id: str
    ineligible_rule: str | None
    options: tuple[Change, ...]
    tried: tuple[Attempt, ...]
    rule_code: str | None = None
    rule_params: tuple[tuple[str, Any], ...] = ()

    @property
    def best(self) -> Change | None:
        """The smallest single change, or ``None`` when none was found."""
        return self.options[0] if self.options else None

    def advice(self, lang: str = "nl") -> str:
        """The answer in one line: the best change, the failed rule, or that none helps."""
        if self.rule_code is not None:
            rule = rule_text(self.rule_code, self.rule_params, lang) or str(self.ineligible_rule)
            return texts.t("relax.ineligible", lang, rule=rule)
        if self.best is None:
            return texts.t("relax.none", lang)
        return self.best.describe(lang)

    def to_dict(self, lang: str = "nl", *, tried: bool = True) -> dict[str, Any]:
        """Return the relaxation as JSON-ready data in ``lang``.

        At most :data:`MAX_OPTIONS` options, ranked from 1; ``tried`` only when asked.
        """
        rule = None
        if self.rule_code is not None:
            rule = rule_text(self.rule_code, self.rule_params, lang) or self.ineligible_rule
        return {
            "external_id": self.external_id,
            "ineligible_rule": rule,
            "ineligible_rule_code": self.rule_code,
            "advice": self.advice(lang),
            "best": None if self.best is None else self.best.to_dict(lang, 1),
            "options": [c.to_dict(lang, k) for k, c in enumerate(self.options[:MAX_OPTIONS], 1)],
            "options_found": len(self.options),
            "tried": [a.to_dict(lang) for a in self.tried] if tried else [],
        }
