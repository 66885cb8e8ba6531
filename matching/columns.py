"""Column names and need names as people write them: Dutch aliases, labels instead of codes.

A header cell is compared after :func:`normalise_header` (case, spaces, ``-`` and ``.`` do
not matter: ``"Digitaal niveau"``, ``"digitaal_niveau"`` and ``"DIGITAAL-NIVEAU"`` are one
name).  A need is given by its code or by its Dutch or English label, in any case
(``DIG.BASICS``, ``"Cyberveiligheid en digitale weerbaarheid"``).
"""

from __future__ import annotations

import re

from matching.needs import NEEDS

FIRM_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "extern_id", "externe_id", "lidnummer", "relatienummer"),
    "name": ("naam", "bedrijfsnaam", "bedrijf"),
    "postcode": ("postal_code", "zip"),
    "sbi_code": ("sbi", "sbicode"),
    "employees": ("medewerkers", "werknemers", "aantal_medewerkers"),
    "digital_level": ("digitaal_niveau", "digitale_niveau", "digital_maturity"),
    "needs": ("behoeften", "behoefte", "vragen"),
    "lat": ("breedtegraad", "latitude"),
    "lon": ("lengtegraad", "longitude", "lng"),
    "kvk_number": ("kvk", "kvk_nummer", "kvknummer"),
    "weight": ("gewicht",),
}
"""Canonical firm column -> other accepted names (compared normalised)."""

PAIR_ALIASES: dict[str, tuple[str, ...]] = {
    "sme_a": ("bedrijf_a", "firm_a", "id_a"),
    "sme_b": ("bedrijf_b", "firm_b", "id_b"),
}
"""Canonical pair column -> other accepted names."""

DUTCH_HEADERS: dict[str, str] = {
    "external_id": "id", "name": "naam", "postcode": "postcode", "sbi_code": "sbi",
    "employees": "medewerkers", "digital_level": "digitaal_niveau", "needs": "behoeften",
    "lat": "breedtegraad", "lon": "lengtegraad", "kvk_number": "kvk", "weight": "gewicht",
}  # fmt: skip
"""The Dutch header of each firm column (the template's; each is an alias above)."""

_SEPARATORS = re.compile(r"[\s_\-.]+")


def normalise_header(name: str) -> str:
    """``" Digitaal-niveau "`` -> ``"digitaal_niveau"`` (lower case, one ``_`` between words)."""
    return _SEPARATORS.sub("_", name.strip().lower()).strip("_")


def column_lookup(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Normalised name (canonical or alias) -> canonical column."""
    lookup = {normalise_header(c): c for c in aliases}
    for column, names in aliases.items():
        lookup.update({normalise_header(n): column for n in names})
    return lookup


def _need_key(text: str) -> str:
    return " ".join(text.lower().split())


_NEED_LOOKUP: dict[str, str] = {}
for _need in NEEDS:
    for _name in (_need.code, _need.label_nl, _need.label_en):
        _NEED_LOOKUP.setdefault(_need_key(_name), _need.code)


def resolve_need(text: str) -> str | None:
    """The need code for a code or a Dutch or English label (any case), else ``None``."""
    return _NEED_LOOKUP.get(_need_key(text))
