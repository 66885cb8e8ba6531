"""A broken rule in words a programme manager reads: names, places and the limit.

"Bakkerij De Vries en Bakkerij Jansen zijn concurrenten"; "Harlingen ligt 53 km van
Winschoten; de grens is 50 km".  The verifier's findings (:class:`matching.Violation`) name
firms by dense index; :func:`violation_words` turns them into catalogue texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.models import Firm
from geodata.distance import geodesic_km
from matching import NEEDS, RunSettings, Violation
from texts import t

_LABELS = {n.code: (n.label_nl, n.label_en) for n in NEEDS}


def need_text(*, code: str | None, lang: str) -> str:
    """A need's label in ``lang`` (the code when unknown)."""
    if code is None:
        return "—"
    nl, en = _LABELS.get(code, (code, code))
    return nl if lang == "nl" else en


def _where(firm: Firm) -> str:
    return firm.place or firm.gemeente_name or firm.postcode


def _km(a: Firm, b: Firm) -> float:
    return float(geodesic_km(a.lat, a.lon, b.lat, b.lon))


def _pair(
    v: Violation, rows: Sequence[Firm], settings: RunSettings, lang: str
) -> tuple[str, dict[str, Any]]:
    a, b = rows[v.firms[0]], rows[v.firms[1]]
    if v.kind in ("diameter", "distance", "max_pair_km"):
        return "edit.rule.distance", {
            "a": a.name, "b": b.name, "place_a": _where(a), "place_b": _where(b),
            "km": round(_km(a, b)), "limit": round(settings.max_pair_km),
        }  # fmt: skip
    return "edit.rule.competitors", {"a": a.name, "b": b.name}


def violation_words(
    *,
    v: Violation,
    rows: Sequence[Firm],
    settings: RunSettings,
    group: int,
    theme: str | None,
    lang: str,
) -> str:
    """One violation of group ``group`` in ``lang``.

    Parameters
    ----------
    v
        What the verifier found (firm indices into ``rows``).
    rows
        The run's cohort in dense index order.
    settings
        The run's settings (the limits to name).
    group
        The group's number as people see it.
    theme
        The group's theme need code.
    lang
        "nl" or "en".
    """
    names = [rows[i].name for i in v.firms]
    if v.kind in ("diameter", "distance", "max_pair_km", "forbidden", "competitors"):
        key, params = _pair(v, rows, settings, lang)
        return t(key, lang, **params)
    if v.kind == "size":
        return t("edit.rule.size", lang, group=group, count=len(v.firms),
                 min=settings.min_size, max=settings.max_size)  # fmt: skip
    if v.kind == "theme":
        return t("edit.rule.theme", lang, group=group, theme=need_text(code=theme, lang=lang))
    if v.kind in ("ineligible", "eligibility"):
        return t("edit.rule.ineligible", lang, names=", ".join(names), count=len(names))
    if v.kind in ("division", "max_same_division"):
        return t("edit.rule.division", lang, group=group, count=len(names),
                 max=settings.max_same_division)  # fmt: skip
    if v.kind == "weight":
        return t("edit.rule.weight", lang, group=group)
    if v.kind == "gemeente":
        where = rows[v.firms[0]].gemeente_name or rows[v.firms[0]].place
        return t("edit.rule.gemeente", lang, group=group, count=len(names), gemeente=where,
                 max=settings.value("max_per_gemeente"))  # fmt: skip
    if v.kind == "reach":
        places = sorted({_where(rows[i]) for i in v.firms})
        return t("edit.rule.reach", lang, group=group, places=", ".join(places))
    return t("edit.rule.other", lang, group=group, rule=v.kind, detail=v.detail)
