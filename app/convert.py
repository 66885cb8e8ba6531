"""Conversions between API/ORM rows and :mod:`matching` / :mod:`geodata` objects.

This is the only place where the service's records meet library types.  Firm records from
JSON are validated by the very reader that checks CSV uploads and ``kring solve`` input
(:func:`matching.sme.firms.read_firms_csv`), so the rules exist once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from app.models import Firm as FirmRow
from geodata.geocode import Location, geocode, locate
from matching import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Firm, read_firms_csv, read_pairs_csv

FIRM_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_ROW_FIELDS = (
    "external_id",
    "name",
    "postcode",
    "sbi_code",
    "employees",
    "digital_level",
    "kvk_number",
    "weight",
    "contact_person",
    "email",
    "phone",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def records_to_csv(records: Iterable[Mapping[str, Any]], columns: Iterable[str]) -> str:
    """Write JSON records as CSV text in the ``kring solve`` format."""
    columns = list(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(c)).replace("\n", " ") for c in columns])
    return out.getvalue()


def validate_firm_records(records: list[Mapping[str, Any]], *, source: str) -> list[Firm]:
    """Validate and geocode JSON firm records with the CSV reader's rules.

    Raises
    ------
    matching.sme.firms.InputFileError
        Listing every bad record (row 1 = the first record).
    """
    return read_firms_csv(records_to_csv(records, FIRM_COLUMNS), source=source, empty_ok=True)


def validate_pairs(
    pairs: list[Mapping[str, Any]], *, source: str, known_ids: set[str]
) -> list[tuple[str, str]]:
    """Validate JSON pairs ``{"sme_a", "sme_b"}`` with the CSV reader's rules."""
    text = records_to_csv(pairs, ("sme_a", "sme_b"))
    return read_pairs_csv(text, source=source, known_ids=known_ids)


def location_of(firm: Firm) -> Location:
    """Return the full location (region, province codes) of a validated firm."""
    if firm.precision == "coordinates":
        return locate(firm.lat, firm.lon)
    return geocode(firm.postcode)


def firm_values(firm: Firm) -> dict[str, Any]:
    """Return the ORM column values for a validated firm (geocoding included)."""
    loc = location_of(firm)
    return {
        **{f: getattr(firm, f) for f in _ROW_FIELDS},
        "needs": list(firm.needs),
        "pc4": loc.pc4,
        "lat": firm.lat,
        "lon": firm.lon,
        "precision": firm.precision,
        "place": loc.place,
        "gemeente_code": loc.gemeente_code,
        "gemeente_name": loc.gemeente_name,
        "province_code": loc.province_code,
        "province": loc.province,
        "labour_market_region_code": loc.labour_market_region_code,
        "labour_market_region": loc.labour_market_region,
    }


def row_to_record(row: FirmRow) -> dict[str, Any]:
    """Return a stored firm as a JSON record in the input format (for PATCH merges)."""
    record: dict[str, Any] = {f: getattr(row, f) for f in _ROW_FIELDS}
    record["needs"] = list(row.needs)
    if row.precision == "coordinates":
        record["lat"], record["lon"] = row.lat, row.lon
    return record


def row_to_firm(row: FirmRow) -> Firm:
    """Return a stored firm as a :class:`matching.sme.firms.Firm` for the optimiser."""
    return Firm(
        external_id=row.external_id,
        name=row.name,
        postcode=row.postcode,
        sbi_code=row.sbi_code or "",
        employees=row.employees or 0,
        digital_level=row.digital_level or 1,
        needs=tuple(row.needs),
        lat=row.lat,
        lon=row.lon,
        precision="coordinates" if row.precision == "coordinates" else "pc4",
        kvk_number=row.kvk_number,
        weight=row.weight,
        gemeente_code=row.gemeente_code,
        gemeente_name=row.gemeente_name,
        province=row.province,
        contact_person=row.contact_person,
        email=row.email,
        phone=row.phone,
    )
