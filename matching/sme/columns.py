"""Column names and need names as people write them: Dutch aliases, labels instead of codes.

Also the reading that firm and pair files share: header cells to canonical columns, data
rows to dicts, over-long cells and NUL characters.

A header cell is compared after :func:`normalise_header` (case, spaces, ``-`` and ``.`` do
not matter: ``"Digitaal niveau"``, ``"digitaal_niveau"`` and ``"DIGITAAL-NIVEAU"`` are one
name).  A need is given by its code or by its Dutch or English label, in any case
(``DIG.BASICS``, ``"Cyberveiligheid en digitale weerbaarheid"``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from matching.sme.needs import NEEDS
from matching.sme.tabular import RowError, parse_csv, sniff_delimiter

MAX_LENGTHS = {"external_id": 64, "name": 300, "needs": 2000, "sme_a": 64, "sme_b": 64,
               "contact_person": 200, "email": 254}  # fmt: skip
"""Longest value per column (the database's column lengths); other columns: ``MAX_CELL``."""
MAX_CELL = 32

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
    "contact_person": ("contactpersoon", "contact", "contact_persoon"),
    "email": ("e_mail", "emailadres", "e_mailadres", "mail"),
    "phone": ("telefoon", "telefoonnummer", "tel", "telephone", "mobiel"),
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
    "contact_person": "contactpersoon", "email": "e-mail", "phone": "telefoon",
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


def cell_problems(row: int, values: dict[str, str], errors: list[RowError]) -> set[str]:
    """Record NUL characters and over-long cells; return the columns that have one."""
    bad = set()
    for column, value in values.items():
        limit = MAX_LENGTHS.get(column, MAX_CELL)
        if "\x00" in value:
            errors.append(RowError.of(row, column, "import.cell.nul"))
        elif len(value) > limit:
            errors.append(RowError.of(row, column, "import.cell.too_long",
                                      length=len(value), limit=limit))  # fmt: skip
        else:
            continue
        bad.add(column)
    return bad


def ignored_columns(header: list[str], aliases: dict[str, tuple[str, ...]]) -> list[str]:
    """The header cells that name no column (e.g. ``plaats``, ``adres``): read past, as written.

    Member lists carry more than kring needs; those columns are skipped, not refused, and
    the import answer lists them.  Empty header cells are skipped without a name.
    """
    lookup = column_lookup(aliases)
    return [cell for cell in header if cell and normalise_header(cell) not in lookup]


def _header(
    cells: list[str],
    aliases: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    errors: list[RowError],
) -> tuple[list[str | None], dict[str, str]]:
    """Canonical column per header cell (``None``: ignored) and canonical -> as written."""
    lookup = column_lookup(aliases)
    columns = [lookup.get(normalise_header(cell)) if cell else None for cell in cells]
    shown: dict[str, str] = {}
    for column, cell in zip(columns, cells, strict=True):
        if column is not None:
            shown.setdefault(column, cell)
    for column in aliases:
        if column not in columns and column in required:
            errors.append(RowError.of(0, column, "import.column.missing"))
    known = [c for c in columns if c is not None]
    for column in sorted(set(known), key=known.index):
        if known.count(column) > 1:
            names = ", ".join(c for c, k in zip(cells, columns, strict=True) if k == column)
            errors.append(RowError.of(0, column, "import.column.repeated", names=names))
    return columns, shown


def read_rows(
    rows: list[list[str]], aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[list[dict[str, str]], list[RowError], dict[str, str]]:
    """Map data rows to canonical-column dicts; header problems are row-0 errors.

    ``aliases`` maps each canonical column to its other names; ``required`` columns must be
    there; other columns are skipped (:func:`ignored_columns` names them).  Returns the row
    dicts (``{}`` for a blank or unusable row, so numbers stay aligned), the errors, and
    canonical column -> the header as written (errors name the user's column).
    """
    errors: list[RowError] = []
    header, data = (rows[0], rows[1:]) if rows else ([], [])
    if not any(header):
        return [], [RowError.of(0, "file", "import.file_empty")], {}
    columns, shown = _header(header, aliases, required, errors)
    if errors:
        return [], errors, shown
    out: list[dict[str, str]] = []
    for number, cells in enumerate(data, start=1):
        if not any(cells):
            out.append({})  # blank line: skipped, but keeps row numbers aligned
            continue
        if len(cells) != len(columns):
            errors.append(RowError.of(number, "*", "import.row.cell_count",
                                      cells=len(cells), columns=len(columns)))  # fmt: skip
            out.append({})
            continue
        out.append({c: v for c, v in zip(columns, cells, strict=True) if c is not None})
    return out, errors, shown


def as_written(errors: list[RowError], shown: dict[str, str]) -> list[RowError]:
    """The errors with each canonical column replaced by the header as written."""
    return [replace(e, field=shown.get(e.field, e.field)) for e in errors]


def text_rows(text: str, source: str) -> list[list[str]]:
    """Rows of CSV text (delimiter detected; BOM and CR line ends tolerated)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return parse_csv(text, sniff_delimiter(text), source)
