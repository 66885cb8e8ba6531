"""Spreadsheet-safe cells for every CSV and XLSX export (OWASP CSV injection).

A spreadsheet runs a cell as a formula when its text starts with ``= + - @``, a tab or a
carriage return.  :func:`spreadsheet_safe` prefixes such text with ``'`` (XLSX cells and the
start of every CSV cell).  CSV files are also opened by programs that split a line on
another separator than the one it was written with (Dutch Excel splits on ``;``), so
:func:`csv_safe` also neutralises a trigger that follows a ``;``, ``,``, tab or line break
(after optional spaces or double quotes), and :func:`write_csv` quotes every text field
(``csv.QUOTE_NONNUMERIC``): numbers stay bare, the header stays plain, and the output is
RFC 4180 (doubled quotes inside quoted fields).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_AFTER_SEPARATOR = re.compile(r"(?:^|(?<=[;,\t\r\n]))([ \"]*)(?=[=+\-@\t\r])")


def spreadsheet_safe(value: object) -> object:
    """Neutralise a text cell a spreadsheet would run as a formula (OWASP CSV injection).

    Text starting with ``= + - @``, tab or carriage return gets a leading apostrophe;
    numbers and other text are returned unchanged.  Use for every XLSX cell.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe(value: object) -> object:
    """:func:`spreadsheet_safe`, and also a ``'`` before a trigger after a separator.

    ``"Acme;=cmd|' /C calc'!A0"`` becomes ``"Acme;'=cmd|' /C calc'!A0"``: split on ``;``,
    ``,`` or tab, no piece starts with a formula trigger.  ``None`` becomes ``""``.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    return _AFTER_SEPARATOR.sub(lambda m: m.group(1) + "'", value)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text: a plain header line, then rows with quoted, :func:`csv_safe` text cells."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(header)
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return out.getvalue()
