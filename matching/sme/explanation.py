"""A group's explanation: phrases as catalogue keys with codes, rendered in a language.

The library stores the phrases (:func:`explanation_parts`, codes and raw numbers kept);
readers render them in their own language (:func:`render_explanation`), with need labels
from :mod:`matching.sme.needs` and numbers rounded as people write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import texts
from geodata.postcodes import gemeente_names
from matching.sme.firms import Firm
from matching.sme.meeting import MeetingPlace
from matching.sme.needs import need_by_code
from matching.sme.sbi import section_name

MEETING_PARAMS = ("place", "postcode", "mean_km", "max_km")
"""The values of the meeting-place phrase (from :meth:`MeetingPlace.to_dict`, km to 0.1)."""

ExplanationPart = dict[str, Any]
"""One phrase of a group explanation: ``{"key": <catalogue key>, "params": {...}}``.

Need parameters are need codes and ``km``, ``mean_km``, ``max_km`` floats:
:func:`render_explanation` turns them into labels and rounded numbers in the reader's
language."""


def explanation_parts(
    members: Sequence[Firm],
    theme: str | None,
    shared: Sequence[tuple[str, int]],
    km: float,
    meeting: MeetingPlace | None = None,
) -> list[ExplanationPart]:
    """The phrases of a group's explanation as catalogue keys with parameters (codes kept).

    Parameters
    ----------
    members
        The group's firms.
    theme
        Theme need code or ``None``.
    shared
        ``(need, count)`` pairs, most shared first.
    km
        Diameter in km.
    meeting
        The group's meeting place (:mod:`matching.sme.meeting`), named when given.

    Returns
    -------
    list of dict
        ``[{"key": "group.explanation.all_need", "params": {"n": 12, "need":
        "train.vocational"}}, {"key": "group.explanation.also", ...}, ...]``.
    """
    n = len(members)
    have = 0 if theme is None else sum(theme in f.needs for f in members)
    emp = [f.employees for f in members]
    place = None if meeting is None else meeting.to_dict()
    return _phrases(n, theme, have, shared, km, min(emp), max(emp), place)


def _phrases(
    n: int,
    theme: str | None,
    have: int,
    shared: Sequence[tuple[str, int]],
    km: float,
    low: int,
    high: int,
    meeting: dict[str, Any] | None = None,
) -> list[ExplanationPart]:
    others = [(c, k) for c, k in shared if c != theme]
    parts: list[ExplanationPart] = []
    if theme is not None:
        if have == n:
            parts.append({"key": "group.explanation.all_need", "params": {"n": n, "need": theme}})
        else:
            parts.append({"key": "group.explanation.some_need",
                          "params": {"n": n, "have": have, "need": theme}})  # fmt: skip
        if others:
            parts.append({"key": "group.explanation.also",
                          "params": {"count": others[0][1], "need": others[0][0]}})  # fmt: skip
    else:
        parts.append({"key": "group.explanation.size", "params": {"n": n}})
        if others:
            parts.append({"key": "group.explanation.common",
                          "params": {"count": others[0][1], "need": others[0][0]}})  # fmt: skip
    parts.append({"key": "group.explanation.distance", "params": {"km": round(km, 3)}})
    if meeting is not None:
        parts.append({"key": "group.explanation.meeting",
                      "params": {k: meeting[k] for k in MEETING_PARAMS}})  # fmt: skip
    if low == high:
        parts.append({"key": "group.explanation.employees_same", "params": {"n": low}})
    else:
        parts.append({"key": "group.explanation.employees",
                      "params": {"low": low, "high": high}})  # fmt: skip
    return parts


def need_label(code: str, lang: str = "nl") -> str:
    """A need's label in ``lang`` (``label_nl`` or ``label_en``); an unknown code as is."""
    try:
        need = need_by_code(code)
    except ValueError:  # UnknownNeedError
        return code
    return need.label_en if lang == "en" else need.label_nl


def render_explanation(parts: Sequence[ExplanationPart], lang: str = "nl") -> str:
    """A group explanation in words, from :func:`explanation_parts`.

    Parameters
    ----------
    parts
        The phrases (catalogue keys and parameters).
    lang
        ``"nl"`` (default) or ``"en"``.

    Returns
    -------
    str
        E.g. ``"12 bedrijven, allemaal met de vraag Vakopleiding (mbo); 9 ook Werving en
        selectie; hooguit 41 km uit elkaar; 4-38 medewerkers"`` (with an en dash).

    Raises
    ------
    KeyError
        For a phrase whose key is not in the catalogue.
    """
    words = []
    for part in parts:
        params = dict(part.get("params") or {})
        if "need" in params:
            params["need"] = need_label(str(params["need"]), lang)
        if "km" in params:
            km = float(params["km"])
            params["km"] = texts.number(km, lang, 0 if km >= 10 else 1)
        for name in ("mean_km", "max_km"):
            if name in params:
                params[name] = texts.number(float(params[name]), lang, 1)
        words.append(texts.t(str(part["key"]), lang, **params))
    return texts.t("group.explanation.separator", lang).join(words)


def explain(
    members: Sequence[Firm],
    theme: str | None,
    shared: Sequence[tuple[str, int]],
    km: float,
    lang: str = "nl",
    meeting: MeetingPlace | None = None,
) -> str:
    """One-line human explanation of a group (:func:`explanation_parts` rendered).

    Parameters
    ----------
    members
        The group's firms.
    theme
        Theme need code or ``None``.
    shared
        ``(need, count)`` pairs, most shared first.
    km
        Diameter in km.
    lang
        ``"nl"`` (default) or ``"en"``.
    meeting
        The group's meeting place, named when given.

    Returns
    -------
    str
        e.g. ``"12 bedrijven, allemaal met de vraag Vakopleiding (mbo); 9 ook Werving en
        selectie; hooguit 41 km uit elkaar; 4-38 medewerkers"`` (with an en dash).
    """
    return render_explanation(explanation_parts(members, theme, shared, km, meeting), lang)


def join_words(items: Sequence[str], lang: str = "nl") -> str:
    """``"a, b en c"`` / ``"a, b and c"``; one item alone, ``""`` for none."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return texts.t("list.and", lang, head=", ".join(items[:-1]), last=items[-1])


def _areas(params: dict[str, Any], lang: str) -> str:
    names = gemeente_names()
    words = [str(p) for p in params.get("provinces") or ()]
    words += [texts.t("rule.area.gemeente", lang, name=names.get(str(g), str(g)))
              for g in params.get("gemeenten") or ()]  # fmt: skip
    words += [texts.t("rule.area.region", lang, name=str(r)) for r in params.get("regions") or ()]
    return join_words(words, lang)


def rule_text(rule: str, params: Sequence[tuple[str, Any]], lang: str = "nl") -> str | None:
    """A failed eligibility rule in words, naming places by name.

    Parameters
    ----------
    rule
        The rule code of :class:`matching.sme.schemes.FailedRule` (``"scheme.regions"``, ...).
    params
        Its ``params``.
    lang
        ``"nl"`` (default) or ``"en"``.

    Returns
    -------
    str or None
        E.g. ``"Noordenveld ligt buiten Groningen en gemeente Emmen"``; ``None`` for a rule
        without a catalogue text or without its values (a run stored before they existed).
    """
    values = dict(params)
    key = f"rule.{rule}"
    if not values or not texts.has(key):
        return None
    out: dict[str, Any] = {}
    if "place" in values or "provinces" in values:
        place = values.get("place")
        out["place"] = place if place else texts.t("rule.unknown_area", lang)
        out["allowed"] = _areas(values, lang)
    if "employees" in values:
        out["employees"], out["limit"] = values["employees"], values["limit"]
    if "section" in values:
        out["section"] = values["section"]
        out["section_name"] = section_name(str(values["section"]))
        out["allowed"] = join_words([str(s) for s in values.get("allowed") or ()], lang)
    try:
        return texts.t(key, lang, **out)
    except KeyError:
        return None


def reason_label(code: str, lang: str = "nl") -> str:
    """The short label of an unassigned reason (``"Overgebleven"`` / ``"Left over"``)."""
    return texts.t(f"reason.{code}.label", lang)


def reason_explanation(code: str, lang: str = "nl") -> str:
    """The one-sentence explanation of an unassigned reason."""
    return texts.t(f"reason.{code}.explanation", lang)


def parts_from_details(
    details: dict[str, Any], theme: str | None, km: float | None
) -> list[ExplanationPart] | None:
    """The explanation phrases of a group stored before phrases were kept, from its details.

    Parameters
    ----------
    details
        The group's stored report fields (``size``, ``shared_needs``, ``employees``, and
        ``meeting_place`` when the run stored one).
    theme
        Its theme need code or ``None``.
    km
        Its diameter in km.

    Returns
    -------
    list of dict or None
        The same phrases :func:`explanation_parts` gives; ``None`` when a field is missing.
    """
    try:
        n = int(details["size"])
        shared = [(str(s["need"]), int(s["count"])) for s in details.get("shared_needs") or ()]
        low, high = int(details["employees"]["min"]), int(details["employees"]["max"])
    except (KeyError, TypeError, ValueError):
        return None
    if km is None or n < 1:
        return None
    have = 0
    if theme is not None:
        counts = dict(shared)
        if theme not in counts and n > 1:
            return None  # how many have the theme is not stored
        have = counts.get(theme, 1)
    meeting = details.get("meeting_place")
    if not isinstance(meeting, dict) or not all(k in meeting for k in MEETING_PARAMS):
        meeting = None
    return _phrases(n, theme, have, shared, km, low, high, meeting)
