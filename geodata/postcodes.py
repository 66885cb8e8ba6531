"""Dutch postcodes: normalisation and the bundled PC4 table (``PostcodeIndex``).

The table ``data/pc4.csv`` (with ``data/gemeente.csv``) is derived from GeoNames and the
CBS 2025 boundaries by :mod:`geodata.build`; lookups need no polygon work at run time.
A PC6 (``9711 AB``) resolves at PC4 precision: GeoNames only has PC4 centroids.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from geodata._sources import data_path
from geodata.build import GEMEENTE_FILE, PC4_FILE
from geodata.errors import MalformedPostcodeError, UnknownPostcodeError

_PC6 = re.compile(r"([0-9]{4})([A-Z]{2})")
_PC4 = re.compile(r"[0-9]{4}")


def normalise_postcode(text: str) -> tuple[str, str]:
    """Reduce a Dutch postcode to its PC4 and say which form it was given in.

    Parameters
    ----------
    text
        A PC4 (``"9711"``) or PC6 (``"9711AB"``, ``"9711 ab"``); surrounding and inner
        spaces and letter case do not matter.

    Returns
    -------
    tuple[str, str]
        ``(pc4, form)`` with ``form`` either ``"pc6"`` or ``"pc4"``.

    Raises
    ------
    MalformedPostcodeError
        If the text is not a PC4 or PC6, or the PC4 starts with ``0``.
    """
    compact = "".join(text.split()).upper()
    if not compact:
        raise MalformedPostcodeError(text, "empty", "empty")
    match = _PC6.fullmatch(compact)
    if match is not None:
        pc4, form = match.group(1), "pc6"
    elif _PC4.fullmatch(compact):
        pc4, form = compact, "pc4"
    else:
        raise MalformedPostcodeError(text, "expected 4 digits, optionally followed by 2 letters")
    if pc4.startswith("0"):
        raise MalformedPostcodeError(text, "a Dutch postcode never starts with 0", "leading_zero")
    return pc4, form


def display_postcode(text: str) -> str:
    """Canonical spelling of a postcode: ``"9711 AB"`` or ``"9711"``.

    Parameters
    ----------
    text
        A PC4 or PC6 in any spacing or case.

    Returns
    -------
    str
        The postcode with upper-case letters and one space before them.

    Raises
    ------
    MalformedPostcodeError
        If the text is not a PC4 or PC6.
    """
    pc4, form = normalise_postcode(text)
    if form == "pc4":
        return pc4
    return f"{pc4} {''.join(text.split()).upper()[4:]}"


@dataclass(frozen=True)
class PostcodeRecord:
    """One PC4 with its centroid, place name, gemeente, province and labour-market region."""

    pc4: str
    place: str
    lat: float
    lon: float
    gemeente_code: str
    gemeente_name: str
    province_code: str
    province: str
    labour_market_region_code: str
    labour_market_region: str


class PostcodeIndex:
    """All PC4s of the bundled data, keyed by PC4 (use :func:`load_postcode_index`)."""

    def __init__(self, records: Sequence[PostcodeRecord]) -> None:
        self._records = tuple(records)
        self._by_pc4 = {record.pc4: record for record in self._records}

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, pc4: object) -> bool:
        return pc4 in self._by_pc4

    def lookup(self, pc4: str) -> PostcodeRecord:
        """The record of a PC4.

        Parameters
        ----------
        pc4
            Four digits, already normalised (see :func:`normalise_postcode`).

        Returns
        -------
        PostcodeRecord
            Centroid, place, gemeente, province and labour-market region.

        Raises
        ------
        UnknownPostcodeError
            If the PC4 is not in the data.
        """
        try:
            return self._by_pc4[pc4]
        except KeyError:
            raise UnknownPostcodeError(pc4) from None

    def records(self) -> Sequence[PostcodeRecord]:
        """Every PC4 record, sorted by PC4.

        Returns
        -------
        Sequence[PostcodeRecord]
            An immutable sequence (one record per PC4).
        """
        return self._records


def _read_csv(name: str) -> list[dict[str, str]]:
    with data_path(name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def load_postcode_index() -> PostcodeIndex:
    """Load the bundled PC4 table once per process.

    Returns
    -------
    PostcodeIndex
        The shared, read-only index.
    """
    gemeenten = {row["gemeente_code"]: row for row in _read_csv(GEMEENTE_FILE)}
    records = []
    for row in _read_csv(PC4_FILE):
        gemeente = gemeenten[row["gemeente_code"]]
        records.append(
            PostcodeRecord(
                pc4=row["pc4"],
                place=row["place"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                gemeente_code=row["gemeente_code"],
                gemeente_name=gemeente["gemeente_name"],
                province_code=gemeente["province_code"],
                province=gemeente["province"],
                labour_market_region_code=gemeente["labour_market_region_code"],
                labour_market_region=gemeente["labour_market_region"],
            )
        )
    return PostcodeIndex(records)


@functools.cache
def gemeente_names() -> dict[str, str]:
    """CBS gemeente code -> name, from the bundled table (``"GM0114"`` -> ``"Emmen"``).

    Returns
    -------
    dict
        Every gemeente of the table.
    """
    return {row["gemeente_code"]: row["gemeente_name"] for row in _read_csv(GEMEENTE_FILE)}
