"""Spreadsheet-safe cells for every CSV and XLSX export (OWASP CSV injection).

A spreadsheet runs a cell as a formula when its text starts with ``= + - @``, a tab or a
carriage return.  :func:`spreadsheet_safe` prefixes such text with ``'`` (XLSX cells and the
start of every CSV cell).  CSV files are also opened by programs that split a line on
another separator than the one it was written with (Dutch Excel splits on ``;``), so
:func:`csv_safe` also neutralises a trigger that follows a ``;``, ``,``, tab or line break
(after optional spaces or double quotes), and :func:`write_csv` quotes every text field
(``csv.QUOTE_NONNUMERIC``): numbers stay bare, the header stays plain, and the output is
RFC 4180 (doubled quotes inside quoted fields).

:data:`EXCEL_NL` is the dialect Dutch Excel opens with a double click ("CSV (gescheiden
door lijstscheidingsteken)"): ``;`` between fields, a UTF-8 byte-order mark, every text
field quoted (the header too) and decimal commas.  :func:`format_sheet` gives an openpyxl
sheet a bold, frozen header row with filters and column widths fitted to the text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from texts import t

Dialect = Literal["rfc4180", "excel-nl"]
RFC4180: Dialect = "rfc4180"
EXCEL_NL: Dialect = "excel-nl"
BOM = "\ufeff"
MAX_WIDTH = 60  # characters; longer text (explanations) wraps in Excel rather than widening
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


def _excel_nl_field(value: object) -> str:
    """One field of an ``excel-nl`` line: text quoted, numbers bare with a decimal comma."""
    value = csv_safe(value)
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'


def write_csv(
    *, header: Sequence[str], rows: Iterable[Sequence[Any]], dialect: Dialect = RFC4180
) -> str:
    """CSV text: a header line, then rows with quoted, :func:`csv_safe` text cells.

    ``rfc4180`` (default): ``,`` between fields, a plain header, no byte-order mark.
    ``excel-nl``: ``;``, a BOM, every text field quoted (header too), decimal commas.
    """
    if dialect == EXCEL_NL:
        lines = [";".join(_excel_nl_field(v) for v in line) for line in (header, *rows)]
        return BOM + "".join(line + "\r\n" for line in lines)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(header)
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return out.getvalue()


def format_sheet(sheet: Worksheet) -> None:
    """Bold, frozen header row with an autofilter; widths fitted to the longest cell."""
    if sheet.max_row < 1 or sheet.max_column < 1:
        return
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, column in enumerate(sheet.iter_cols(), start=1):
        longest = max((len(str(c.value)) for c in column if c.value is not None), default=0)
        sheet.column_dimensions[get_column_letter(index)].width = min(longest + 2, MAX_WIDTH)


def csv_header(*, columns: Iterable[str], lang: str) -> list[str]:
    """CSV column names in ``lang``: the codes in English, Dutch names (``naam``) in Dutch."""
    return [t(f"export.csv.{c}", lang) for c in columns]
