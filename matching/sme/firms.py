"""Firms and the strict readers used by ``kring solve`` and ``POST /firms/import``.

:func:`read_firms_rows` validates rows of cells from any file :mod:`matching.sme.tabular`
reads (``,``/``;``/tab CSV in UTF-8 or cp1252, ``.xlsx``); :func:`read_firms_csv` takes
CSV text (delimiter detected, a BOM tolerated).  Header names are matched through
:mod:`matching.sme.columns` (case, spaces and ``_`` do not matter; Dutch aliases such as
``naam``, ``sbi``, ``medewerkers``, ``digitaal_niveau``, ``behoeften``, ``kvk``), and
errors name the column as the header wrote it.  Columns:

=============== ======== ==============================================================
column          required meaning
=============== ======== ==============================================================
external_id     yes      the caller's id, unique in the file
name            yes      firm name
postcode        yes      ``1234`` or ``1234 AB``; geocoded to the PC4 centroid
sbi_code        yes      SBI 2008 code (``4120`` or ``41.20``)
employees       yes      non-negative integer
digital_level   yes      digital ladder level 1-4
needs           yes      ``;``-separated needs (code or Dutch/English label, any case)
lat, lon        no       explicit WGS84 coordinates (both or neither); must lie in NL
kvk_number      no       KvK number: exactly 8 digits
weight          no       non-negative integer (e.g. staff to train)
contact_person  no       who to invite (``contactpersoon``)
email           no       contact e-mail address (``e-mail``), checked and normalised
phone           no       contact phone (``telefoon``), Dutch or international, normalised
=============== ======== ==============================================================

Every cell is at most :data:`MAX_LENGTHS` characters (``external_id`` 64, ``name`` 300: the
database's columns) and never contains a NUL character; an ``external_id`` is one URL path
segment (no ``/``, no control characters, not ``.`` or ``..``).  JSON input is checked by the
same reader, so both paths share one validation.

Validation collects *every* problem before failing with one :class:`InputFileError`; each
:class:`RowError` carries its message as a catalogue text (``RowError.text``, a
:class:`texts.Msg`) so the caller says it in the reader's language (``error.where("nl")``).
Row numbers are **1-based data rows**: row 1 is the first line after the header (line 2 of
the file); row 0 denotes the header itself (e.g. a missing column).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from geodata.errors import GeodataError
from geodata.geocode import geocode, locate
from matching.core.errors import MatchingError
from matching.sme.columns import (
    FIRM_ALIASES,
    as_written,
    cell_problems,
    read_rows,
    resolve_need,
    text_rows,
)
from matching.sme.columns import MAX_CELL as MAX_CELL
from matching.sme.columns import MAX_LENGTHS as MAX_LENGTHS
from matching.sme.contacts import CONTACT_COLUMNS, parse_contact
from matching.sme.needs import is_need_code
from matching.sme.pairs import PAIR_COLUMNS as PAIR_COLUMNS
from matching.sme.pairs import pairs_to_csv as pairs_to_csv
from matching.sme.pairs import read_pairs_csv as read_pairs_csv
from matching.sme.pairs import read_pairs_rows as read_pairs_rows
from matching.sme.sbi import UnknownSbiCodeError, normalise_sbi
from matching.sme.tabular import InputFileError as InputFileError
from matching.sme.tabular import RowError as RowError
from texts import Msg

Precision = Literal["pc4", "coordinates"]

REQUIRED_COLUMNS = ("external_id", "name", "postcode", "sbi_code", "employees", "digital_level",
                    "needs")  # fmt: skip
OPTIONAL_COLUMNS = ("lat", "lon", "kvk_number", "weight", *CONTACT_COLUMNS)
MAX_COUNT = 1_000_000
"""Largest ``employees`` and ``weight`` (the database stores 32-bit integers)."""
# A generous box around the Netherlands (incl. the Wadden and Zeeland); locate() decides.
_NL_BOX = (50.7, 53.7, 3.3, 7.3)


class InvalidFirmError(MatchingError, ValueError):
    """A :class:`Firm` built with an impossible value.

    Parameters
    ----------
    field
        The offending attribute.
    reason
        Why it is invalid.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True, slots=True)
class Firm:
    """One SME, validated and geocoded.

    Attributes
    ----------
    external_id, name, postcode
        As given (postcode stripped).
    sbi_code
        Normalised SBI 2008 code (digits only).
    employees
        Number of employees (>= 0).
    digital_level
        Digital ladder level 1-4.
    needs
        Need codes, most important first; non-empty, no repeats.
    lat, lon, precision
        WGS84 location; ``"pc4"`` for a PC4 centroid, ``"coordinates"`` when given.
    kvk_number, weight
        Optional KvK number (8 digits) and capacity weight.
    gemeente_code, gemeente_name, province
        Optional administrative areas (filled by the CSV reader).
    contact_person, email, phone
        Optional contact for invitations (see :mod:`matching.sme.contacts`).
    """

    external_id: str
    name: str
    postcode: str
    sbi_code: str
    employees: int
    digital_level: int
    needs: tuple[str, ...]
    lat: float
    lon: float
    precision: Precision = "pc4"
    kvk_number: str | None = None
    weight: int | None = None
    gemeente_code: str | None = None
    gemeente_name: str | None = None
    province: str | None = None
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if not self.external_id:
            raise InvalidFirmError("external_id", "must not be empty")
        if self.employees < 0:
            raise InvalidFirmError("employees", "must be >= 0")
        if self.digital_level not in (1, 2, 3, 4):
            raise InvalidFirmError("digital_level", "must be 1, 2, 3 or 4")
        if not self.needs or len(set(self.needs)) != len(self.needs):
            raise InvalidFirmError("needs", "must be non-empty without repeats")
        unknown = [c for c in self.needs if not is_need_code(c)]
        if unknown:
            raise InvalidFirmError("needs", f"unknown need codes {unknown}")
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise InvalidFirmError("lat", "coordinates out of range")
        if self.kvk_number is not None and not _is_kvk(self.kvk_number):
            raise InvalidFirmError("kvk_number", "must be exactly 8 digits")
        if self.weight is not None and self.weight < 0:
            raise InvalidFirmError("weight", "must be >= 0")

    @property
    def division(self) -> str:
        """The two-digit SBI division."""
        return self.sbi_code[:2]

    @property
    def sbi_class(self) -> str:
        """The four-digit SBI class (or the code itself when shorter)."""
        return self.sbi_code[:4]

    def to_dict(self) -> dict[str, object]:
        """Return the firm as a JSON-ready dictionary (needs as a list)."""
        return {
            "external_id": self.external_id, "name": self.name, "postcode": self.postcode,
            "sbi_code": self.sbi_code, "employees": self.employees,
            "digital_level": self.digital_level, "needs": list(self.needs),
            "lat": self.lat, "lon": self.lon, "precision": self.precision,
            "kvk_number": self.kvk_number, "weight": self.weight,
            "gemeente_code": self.gemeente_code, "gemeente_name": self.gemeente_name,
            "province": self.province, "contact_person": self.contact_person,
            "email": self.email, "phone": self.phone,
        }  # fmt: skip


FirmRow = Firm
"""What :func:`read_firms_csv` returns per data row: a validated, geocoded :class:`Firm`."""


def _is_kvk(text: str) -> bool:
    return len(text) == 8 and text.isascii() and text.isdigit()


def is_path_segment(external_id: str) -> bool:
    """Whether ``external_id`` can be one URL path segment (``/firms/{external_id}``)."""
    if "/" in external_id or external_id in (".", ".."):
        return False
    return not any(ord(c) < 32 or ord(c) == 127 for c in external_id)


class _RowChecker:
    """Parses one data row, recording every problem instead of stopping at the first."""

    def __init__(self, row: int, values: dict[str, str], errors: list[RowError]) -> None:
        self.row, self.errors = row, errors
        self.bad = cell_problems(row, values, errors)
        self.values = {k: v for k, v in values.items() if k not in self.bad}
        self.ok = not self.bad

    def fail(self, column: str, key: str, /, **params: object) -> None:
        self.ok = False
        self.errors.append(RowError.of(self.row, column, key, **params))

    def text(self, column: str) -> str:
        value = self.values.get(column, "")
        if not value and column not in self.bad:
            self.fail(column, "import.value.empty")
        return value

    def number(self, column: str, kind: Callable[[str], float]) -> float | None:
        raw = self.values.get(column, "")
        if not raw:
            return None
        try:
            value = kind(raw)
        except ValueError:
            self.fail(column, "import.value.not_number", value=repr(raw))
            return None
        if not math.isfinite(value):
            self.fail(column, "import.value.not_number", value=repr(raw))
            return None
        return value


def _parse_needs(check: _RowChecker) -> tuple[str, ...]:
    raw = check.text("needs")
    given = [c.strip() for c in raw.split(";")]
    given = [c for c in given if c]
    if raw and not given:
        check.fail("needs", "import.needs.none")
    codes = [resolve_need(c) or c for c in given]
    unknown = [c for c in given if resolve_need(c) is None]
    if unknown:
        check.fail("needs", "import.needs.unknown", codes=", ".join(unknown), count=len(unknown))
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        check.fail("needs", "import.needs.repeated", codes=", ".join(repeated),
                   count=len(repeated))  # fmt: skip
    return tuple(codes)


def _parse_int(check: _RowChecker, column: str, low: int, high: int) -> int:
    raw = check.text(column)
    if not raw:
        return low
    if not (raw.isascii() and raw.isdigit()):
        check.fail(column, "import.value.not_count", value=repr(raw))
        return low
    value = int(raw)
    if value < low or (high is not None and value > high):
        check.fail(column, "import.value.range", value=value, low=low, high=high)
    return value


def _parse_row(row: int, values: dict[str, str], errors: list[RowError]) -> Firm | None:
    check = _RowChecker(row, values, errors)
    values = check.values
    external_id, name = check.text("external_id"), check.text("name")
    if external_id and not is_path_segment(external_id):
        check.fail("external_id", "import.value.id_rule", value=repr(external_id))
    postcode = check.text("postcode")
    sbi = check.text("sbi_code")
    if sbi:
        try:
            sbi = normalise_sbi(sbi)
        except UnknownSbiCodeError:
            check.fail("sbi_code", "import.value.sbi", value=repr(sbi))
    employees = _parse_int(check, "employees", 0, MAX_COUNT)
    digital_level = _parse_int(check, "digital_level", 1, 4)
    needs = _parse_needs(check)
    kvk = values.get("kvk_number", "") or None
    if kvk is not None and not _is_kvk(kvk):
        check.fail("kvk_number", "import.value.kvk", value=repr(kvk))
    weight = _parse_int(check, "weight", 0, MAX_COUNT) if values.get("weight") else None
    person, email, phone = parse_contact(values, check.fail)
    place = _locate(check, postcode)
    if not check.ok or place is None:
        return None
    lat, lon, precision, gm_code, gm_name, province, postcode = place
    return Firm(external_id, name, postcode, sbi, employees, digital_level, needs, lat, lon,
                precision, kvk, weight, gm_code, gm_name, province, person, email,
                phone)  # fmt: skip


def _geodata_text(exc: GeodataError) -> tuple[str, dict[str, object]]:
    """A geodata error's catalogue key and values (its reason a text of its own)."""
    params = dict(exc.params)
    if "reason_code" in params:
        params["reason"] = Msg.of(f"geodata.reason.{params.pop('reason_code')}")
    if exc.key is None:
        return "import.value.postcode", {"error": str(exc)}
    return exc.key, params


_Place = tuple[float, float, Precision, str | None, str | None, str | None, str]


def _locate(check: _RowChecker, postcode: str) -> _Place | None:
    lat = check.number("lat", float)
    lon = check.number("lon", float)
    has_lat, has_lon = bool(check.values.get("lat")), bool(check.values.get("lon"))
    if {"lat", "lon"} & check.bad:
        return None
    if has_lat != has_lon:
        check.fail("lon" if has_lat else "lat", "import.value.lat_lon_together")
        return None
    pc_place = None
    if postcode:
        try:
            pc_place = geocode(postcode)
        except GeodataError as exc:
            key, params = _geodata_text(exc)
            check.fail("postcode", key, **params)
    if lat is not None and lon is not None:
        lo_lat, hi_lat, lo_lon, hi_lon = _NL_BOX
        inside = lo_lat <= lat <= hi_lat and lo_lon <= lon <= hi_lon
        try:
            loc = locate(lat, lon) if inside else None
        except GeodataError:
            loc = None
        if loc is None:
            check.fail("lat", "import.value.outside_nl", lat=lat, lon=lon)
            return None
        shown = pc_place.postcode if pc_place is not None and pc_place.postcode else postcode
        return lat, lon, "coordinates", loc.gemeente_code, loc.gemeente_name, loc.province, shown
    if pc_place is None:
        return None
    p = pc_place
    shown = p.postcode or postcode
    return p.lat, p.lon, "pc4", p.gemeente_code, p.gemeente_name, p.province, shown


def read_firms_csv(text: str, *, source: str = "smes.csv", empty_ok: bool = False) -> list[FirmRow]:
    """Parse and validate SMES.csv text (``,``, ``;`` or tab, detected) into firms.

    Like :func:`read_firms_rows` on the text's rows.
    """
    if not text.strip():
        raise InputFileError(source, [RowError.of(0, "file", "import.file_empty")])
    return read_firms_rows(text_rows(text, source), source=source, empty_ok=empty_ok)


def read_firms_rows(
    rows: list[list[str]], *, source: str = "smes.csv", empty_ok: bool = False
) -> list[FirmRow]:
    """Validate rows of cells (header first, from CSV or a workbook) into geocoded firms.

    Parameters
    ----------
    rows
        The header row (canonical names or aliases, see :mod:`matching.sme.columns`), then one
        list of stripped cells per data row; ``[]`` for a blank row.
    source
        File name used in error messages.
    empty_ok
        Accept a header without data rows (JSON ``[]``); otherwise that is an error.

    Returns
    -------
    list of Firm
        One per non-blank data row, in file order.

    Raises
    ------
    InputFileError
        Listing every problem: an empty file, a header without rows, missing or repeated
        columns (other columns are skipped: :func:`matching.sme.columns.ignored_columns`),
        empty required values, unknown need codes, malformed or unknown postcodes,
        coordinates outside NL, bad integers, digital level outside 1-4, duplicate external
        ids, bad KvK numbers, unknown SBI codes, empty needs.  Errors name the column as
        the header wrote it.
    """
    table, errors, shown = read_rows(rows, FIRM_ALIASES, REQUIRED_COLUMNS)
    if not errors and not empty_ok and not any(table):
        raise InputFileError(source, [RowError.of(0, "file", "import.header_only")])
    firms: list[Firm] = []
    first_row: dict[str, int] = {}
    for number, values in enumerate(table, start=1):
        if not values:
            continue
        external_id = values.get("external_id", "")
        if external_id in first_row:
            first = first_row[external_id]
            error = RowError.of(number, "external_id", "import.value.duplicate",
                                value=repr(external_id), first=first)  # fmt: skip
            errors.append(error)
        elif external_id:
            first_row[external_id] = number
        firm = _parse_row(number, values, errors)
        if firm is not None:
            firms.append(firm)
    if errors:
        errors.sort(key=lambda e: e.row)
        raise InputFileError(source, as_written(errors, shown))
    return firms


def firms_to_csv(firms: Iterable[Firm], *, coordinates: bool = False) -> str:
    """Write firms as SMES.csv text (the inverse of :func:`read_firms_csv`).

    Parameters
    ----------
    firms
        Firms to write.
    coordinates
        Also write ``lat,lon`` (otherwise the reader geocodes the postcode again).

    Returns
    -------
    str
        CSV text with a header; optional columns only when some firm has a value.
    """
    firms = list(firms)
    columns = list(REQUIRED_COLUMNS) + (["lat", "lon"] if coordinates else [])
    if any(f.kvk_number for f in firms):
        columns.append("kvk_number")
    if any(f.weight is not None for f in firms):
        columns.append("weight")
    columns += [c for c in CONTACT_COLUMNS if any(getattr(f, c) for f in firms)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for f in firms:
        values = {**f.to_dict(), "needs": ";".join(f.needs)}
        writer.writerow(["" if values[c] is None else values[c] for c in columns])
    return out.getvalue()
