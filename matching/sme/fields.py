"""The run-level setting :class:`~matching.core.registry.Field` s, and the one value check.

Every setting of a run is declared once as a ``Field``: the run-level ones here (purpose,
scheme, search budget, seed, group score, affinity weights), every rule's in its module of
:mod:`matching.rules` (``registry.rules()``).  :func:`setting_fields` lists them all;
:func:`check_value` is the one check of a value against its field, used by
:class:`~matching.sme.settings.RunSettings` and by the ``kring solve`` options; the API
schema (``constraints.*``) and profile validation are generated from the same fields with
the same bounds.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

from matching.core import registry
from matching.core.errors import SettingsError
from matching.core.problem import GROUP_SCORES, AffinityWeights
from matching.core.registry import Field

PURPOSES: tuple[str, ...] = ("training", "subsidy", "peer")
MAX_COUNT = 1_000_000_000
"""Largest weight bound, employee bound or iteration budget (beyond it: a typing mistake)."""

RUN_FIELDS: tuple[Field, ...] = (
    Field("purpose", "str", "training", choices=PURPOSES,
          en="What the groups are for: training (buy training together), subsidy (apply "
             "for a subsidy together) or peer (a peer-learning circle).",
          nl="Waarvoor de groepen zijn: training (samen scholing inkopen), subsidy (samen "
             "subsidie aanvragen) of peer (een lerende kring)."),
    Field("scheme_id", "str", None, nullable=True,
          en="The subsidy scheme whose rules apply (GET /schemes); purpose subsidy only.",
          nl="De subsidieregeling waarvan de regels gelden (GET /schemes); alleen bij subsidy."),
    Field("time_limit_s", "float", 20.0, nullable=True, gt=0, le=86_400,
          en="How long the search may take, in seconds (at most a day).",
          nl="Hoe lang het zoeken mag duren, in seconden (hooguit een dag)."),
    Field("max_iterations", "int", None, nullable=True, ge=0, le=MAX_COUNT,
          en="Search iteration budget; without a time limit the groups depend only on the "
             "firms, the seed and this budget.",
          nl="Aantal zoekstappen; zonder tijdslimiet hangen de groepen alleen af van de "
             "bedrijven, de seed en dit aantal."),
    Field("seed", "int", 0, ge=0, le=2**31 - 1,
          en="Random seed: the same firms and seed give the same groups.",
          nl="Startgetal van het toeval: dezelfde bedrijven en seed geven dezelfde groepen."),
    Field("max_neighbours", "int", None, nullable=True, ge=1, le=MAX_COUNT,
          en="Nearest compatible partners per firm the search considers; empty: chosen "
             "for large cohorts.",
          nl="Aantal dichtstbijzijnde passende partners per bedrijf dat het zoeken bekijkt; "
             "leeg: gekozen bij grote cohorten."),
    Field("group_score", "str", None, nullable=True, choices=GROUP_SCORES,
          en="How member pairs add up: pair_sum (fuller groups score higher) or member_mean "
             "(each member's mean affinity to the others); default member_mean for peer, "
             "pair_sum otherwise.",
          nl="Hoe paren van leden optellen: pair_sum (vollere groepen scoren hoger) of "
             "member_mean (de gemiddelde verwantschap van elk lid met de anderen); standaard "
             "member_mean bij peer, anders pair_sum."),
)  # fmt: skip
"""Run-level settings (no rule owns them)."""

SME_AFFINITY = AffinityWeights(distance=0.1)
"""The affinity weights of a run unless its settings say otherwise.

``distance`` 0.1 (compactness) instead of the core's neutral 0: on the whole quality matrix
(``kring bench smes --matrix``: north, Randstad, Zeeland and national cohorts of 2,000 peer
firms, four need variants, seed 1, 20 s) it left the median need-Jaccard as it was
(0.516 against 0.512 at 0; worst cell 0.277 against 0.280) and shortened the members' mean
travel to their meeting place by 0.8-1.0 km (about 6 %) in every region; training cohorts
(north, national) kept their coverage within 1 %.  BENCHMARKS.md has the rows.
"""

_WEIGHT_WORDS = {
    "need": ("Weight of shared needs.", "Gewicht van gedeelde behoeften."),
    "size": ("Weight of a similar number of employees.", "Gewicht van een vergelijkbaar aantal "
             "medewerkers."),
    "digital": ("Weight of a similar digital ladder level.", "Gewicht van een vergelijkbare "
                "trede op de digitale ladder."),
    "partner": ("Bonus for declared supplier/customer pairs.", "Bonus voor opgegeven "
                "leverancier-klantparen."),
    "distance": ("Compactness: penalty per km / max_pair_km between two members; higher "
                 "means shorter travel to the meeting place and a little less shared need.",
                 "Compactheid: aftrek per km / max_pair_km tussen twee leden; hoger betekent "
                 "kortere reizen naar de ontmoetingsplek en iets minder gedeelde behoeften."),
}  # fmt: skip
AFFINITY_FIELDS: tuple[Field, ...] = tuple(
    Field(w.name, "float", getattr(SME_AFFINITY, w.name), ge=0, le=1_000,
          en=_WEIGHT_WORDS[w.name][0], nl=_WEIGHT_WORDS[w.name][1])
    for w in fields(AffinityWeights)
)  # fmt: skip
"""The affinity weights (``constraints.affinity.<name>``), defaults from :data:`SME_AFFINITY`."""


def setting_fields() -> tuple[Field, ...]:
    """Every setting of a run: the run-level fields, then every registered rule's.

    Returns
    -------
    tuple of Field
        Unique names, run-level first, then in rule registration order.

    Raises
    ------
    ValueError
        When two rules (or a rule and the run) declare the same name.
    """
    out = {f.name: f for f in RUN_FIELDS}
    for rule in registry.rules():
        for f in rule.fields:
            if f.name in out:
                raise ValueError(f"setting {f.name!r} is declared twice (rule {rule.name!r})")
            out[f.name] = f
    return tuple(out.values())


def setting_field(name: str) -> Field:
    """The field called ``name`` (``KeyError`` if no run setting or rule declares it)."""
    for f in setting_fields():
        if f.name == name:
            return f
    raise KeyError(name)


def _number(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"


def _check_number(field: Field, given: object) -> float | int:
    if isinstance(given, bool) or not isinstance(given, int | float):
        raise SettingsError.of(field.name, "settings.number")
    value: float | int = given
    if field.type == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise SettingsError.of(field.name, "settings.whole")
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise SettingsError.of(field.name, "settings.finite")
    if field.gt is not None and not value > field.gt:
        raise SettingsError.of(field.name, "settings.greater", low=_number(field.gt))
    if field.ge is not None and not value >= field.ge:
        raise SettingsError.of(field.name, "settings.at_least", low=_number(field.ge))
    if field.le is not None and not value <= field.le:
        raise SettingsError.of(field.name, "settings.at_most", high=_number(field.le))
    return value


def check_value(field: Field, value: Any) -> Any:
    """``value`` checked against its field: type, ``None``, bounds and choices.

    Parameters
    ----------
    field
        The setting's field.
    value
        The value (``None``: off, where the field allows it).

    Returns
    -------
    Any
        The value normalised: ``float`` for float fields, a tuple for ``list[str]``.

    Raises
    ------
    SettingsError
        Naming the field, when the value does not fit it.
    """
    if value is None:
        if field.nullable:
            return None
        raise SettingsError.of(field.name, "settings.required")
    if field.type in ("int", "float"):
        return _check_number(field, value)
    if field.type == "bool":
        if not isinstance(value, bool):
            raise SettingsError.of(field.name, "settings.bool")
        return value
    if field.type == "list[str]":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise SettingsError.of(field.name, "settings.list")
        if not all(isinstance(v, str) for v in value):
            raise SettingsError.of(field.name, "settings.list_texts")
        return tuple(value)
    if not isinstance(value, str):
        raise SettingsError.of(field.name, "settings.text")
    if field.choices and value not in field.choices:
        raise SettingsError.of(field.name, "settings.one_of", choices=", ".join(field.choices))
    return value
