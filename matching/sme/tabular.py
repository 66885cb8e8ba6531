"""Read an uploaded table as the user has it: CSV (``,`` ``;`` or tab, any BOM) or ``.xlsx``.

:func:`read_table` turns the bytes of a file into rows of text cells and says what it read
(:class:`ReadAs`): the format, and for CSV the encoding (UTF-8, cp1252 as older Dutch Excel
writes it, or UTF-16 with a BOM) and the delimiter; for ``.xlsx`` the sheet.  It validates
nothing: :func:`matching.sme.firms.read_firms_rows` and :func:`matching.sme.pairs.read_pairs_rows`
check the cells, with row and column in every error, whatever the file format was.

Problems with the file itself (empty, unreadable, not a workbook, no such sheet) raise one
:class:`InputFileError` whose error is on row 0, column ``file`` (``sheet``
for an unknown sheet name).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from openpyxl import load_workbook

from matching.core.errors import MatchingError
from texts import Msg, t

Format = Literal["csv", "xlsx"]
DELIMITERS = (",", ";", "\t")
MAX_COLUMNS = 200
"""Workbook columns read (a firm file has 11); cells further right are ignored."""
BLANK_RUN = 10_000
"""This many blank workbook rows in a row end the sheet (formatting far below the data)."""
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the pre-2007 binary .xls


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in an input file: data row (1-based; 0 = header), column, message.

    ``message`` is English; ``text`` (a :class:`texts.Msg`) says it in any catalogue
    language, so the caller shows it in the reader's (:meth:`say`, :meth:`to_dict`).
    """

    row: int
    field: str
    message: str
    text: Msg | None = None

    @classmethod
    def of(cls, row: int, field: str, key: str, /, **params: object) -> RowError:
        """An error whose message is the catalogue text ``key`` (English in ``message``)."""
        text = Msg.of(key, **params)
        return cls(row, field, text.render("en"), text)

    def say(self, lang: str) -> str:
        """The message in ``lang`` (as raised when it has no catalogue text)."""
        return self.text.render(lang) if self.text is not None else self.message

    def where(self, lang: str = "en", message: str | None = None) -> str:
        """``"row 4, column postcode: ..."`` / ``"rij 4, kolom postcode: ..."``."""
        message = self.say(lang) if message is None else message
        if self.row == 0 and self.field in ("file", "sheet"):
            return message
        key = "import.where.header" if self.row == 0 else "import.where.row"
        return t(key, lang, row=self.row, field=self.field, message=message)

    def __str__(self) -> str:
        return self.where("en", self.message)

    def to_dict(self, lang: str | None = None) -> dict[str, int | str]:
        """Return ``{"row", "field", "message"}`` for JSON output (message in ``lang``),
        plus ``code``, the catalogue key, when there is one."""
        message = self.message if lang is None else self.say(lang)
        out: dict[str, int | str] = {"row": self.row, "field": self.field, "message": message}
        if self.text is not None:
            out["code"] = self.text.key
        return out


class InputFileError(MatchingError, ValueError):
    """An input file with one or more bad rows; ``errors`` lists them all.

    Parameters
    ----------
    source
        The file name used in messages (e.g. ``"smes.csv"``).
    errors
        Every problem found, in file order.
    """

    def __init__(self, source: str, errors: list[RowError]) -> None:
        self.source = source
        self.errors = errors
        self.field = errors[0].field if errors else None
        shown = "\n".join(f"  {source}: {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{source}: {len(errors)} invalid entries\n{shown}{more}")


@dataclass(frozen=True, slots=True)
class ReadAs:
    """What :func:`read_table` read: ``csv`` with encoding and delimiter, or ``xlsx`` sheet."""

    format: Format
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The set fields only, e.g. ``{"format": "csv", "encoding": "cp1252", ...}``."""
        values = {"format": self.format, "encoding": self.encoding,
                  "delimiter": self.delimiter, "sheet": self.sheet}  # fmt: skip
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of stripped text cells (the header first) and how the file was read."""

    rows: list[list[str]]
    read_as: ReadAs

    def to_csv(self) -> str:
        """The rows as comma-separated UTF-8 text (what :func:`read_table` reads back)."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(self.rows)
        return out.getvalue()


def _fail(
    source: str, lang: str, key: str, field: str = "file", **params: object
) -> InputFileError:
    """One row-0 error: ``message`` in ``lang``, ``text`` for any other reader."""
    text = Msg.of(key, **params)
    return InputFileError(source, [RowError(0, field, text.render(lang), text)])


def is_xlsx(data: bytes, filename: str = "", content_type: str | None = None) -> bool:
    """Whether the bytes are an ``.xlsx`` workbook (a zip), whatever the name says."""
    del filename, content_type  # the content decides: a renamed file is still a workbook
    return data.startswith(_ZIP)


def read_table(
    data: bytes,
    *,
    source: str = "upload",
    filename: str = "",
    content_type: str | None = None,
    sheet: str | None = None,
    require_rows: bool = False,
    max_rows: int | None = None,
    lang: str = "en",
) -> Table:
    """Read CSV or ``.xlsx`` bytes into rows of text cells.

    Parameters
    ----------
    data
        The whole file.
    source
        The file name used in messages.
    filename, content_type
        As uploaded (informative; the bytes decide the format).
    sheet
        For a workbook, the sheet to read (default: the first); refused for CSV.
    require_rows
        A header without data rows is an error too.
    max_rows
        More non-blank data rows than this are an error (a workbook stops being read there).
    lang
        Language of the messages (``"nl"`` or ``"en"``).

    Returns
    -------
    Table
        The rows (header first; blank rows kept as empty lists so row numbers match the
        file) and :class:`ReadAs`.

    Raises
    ------
    InputFileError
        The file is empty, an old ``.xls``, not a readable workbook, has no sheet ``sheet``,
        is not text in a known encoding, is not valid CSV, or has more than ``max_rows`` rows.
    """
    if not data.strip():
        raise _fail(source, lang, "import.file_empty")
    if data.startswith(_OLE):
        raise _fail(source, lang, "import.old_xls")
    if is_xlsx(data, filename, content_type):
        table = _read_xlsx(data, source, sheet, lang, max_rows)
    elif sheet is not None:
        raise _fail(source, lang, "import.csv_no_sheets", "sheet")
    else:
        text, encoding = decode(data, source, lang)
        delimiter = sniff_delimiter(text)
        table = Table(parse_csv(text, delimiter, source), ReadAs("csv", encoding, delimiter))
    if not any(table.rows[0] if table.rows else ()):
        raise _fail(source, lang, "import.file_empty")
    if require_rows and not any(table.rows[1:]):
        raise _fail(source, lang, "import.header_only")
    if max_rows is not None and sum(1 for r in table.rows[1:] if r) > max_rows:
        raise _fail(source, lang, "import.too_many_rows", "rows", limit=max_rows)
    return table


def decode(data: bytes, source: str = "upload", lang: str = "en") -> tuple[str, str]:
    """Return ``(text, encoding)``: UTF-16 by its BOM, else UTF-8, else cp1252.

    A UTF-8 BOM is dropped first (Excel writes one before cp1252 text too).  Line ends
    become ``\n`` (CR LF from Windows, a bare CR from old Mac Excel).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        data, candidates = data.removeprefix(b"\xef\xbb\xbf"), ["utf-8", "cp1252"]
    for name in candidates:
        try:
            text = data.decode(name)
        except UnicodeDecodeError as exc:
            error = exc
            continue
        return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"), name
    raise _fail(source, lang, "import.not_text", byte=error.start)


def sniff_delimiter(text: str) -> str:
    """The delimiter of the first non-blank line: the most frequent of ``, ; tab`` there.

    Quoted parts are skipped; ties and a line with none of them give ``,``.
    """
    line = next((ln for ln in text.split("\n") if ln.strip()), "")
    outside, quoted = [], False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # first wins a tie: ","
    return best if counts[best] > counts[","] else ","


def parse_csv(text: str, delimiter: str = ",", source: str = "upload") -> list[list[str]]:
    """Split CSV text into rows of stripped cells (blank lines kept as ``[]``)."""
    rows: list[list[str]] = []
    try:
        for cells in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append([c.strip() for c in cells] if any(c.strip() for c in cells) else [])
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit
        error = RowError.of(len(rows), "*", "import.unreadable_csv", error=str(exc))
        raise InputFileError(source, [error]) from None
    return rows


def cell_text(value: object) -> str:
    """One workbook cell as the text a CSV would hold.

    Whole numbers lose Excel's ``.0`` (postcode ``9711``, SBI ``4120``, KvK numbers), dates
    become ISO 8601, booleans ``true``/``false`` and empty cells ``""``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _trim(rows: Iterable[Sequence[object]], max_rows: int | None) -> list[list[str]]:
    """Cells as text, without the empty cells at the end of each row and empty last rows.

    Reading stops after :data:`BLANK_RUN` blank rows in a row (formatting far below the
    data) and once more than ``max_rows`` data rows were read.
    """
    out: list[list[str]] = []
    blank = filled = 0
    for values in rows:
        cells = [cell_text(v) for v in values]
        while cells and not cells[-1]:
            cells.pop()
        out.append(cells)
        blank = 0 if cells else blank + 1
        filled += bool(cells)
        if blank > BLANK_RUN or (max_rows is not None and filled > max_rows + 1):
            break
    while out and not out[-1]:
        out.pop()
    return out


def _pad(rows: list[list[str]]) -> list[list[str]]:
    """Give every non-blank row at least the header's width (a sheet stores no empty cells)."""
    width = len(rows[0]) if rows else 0
    return [r + [""] * (width - len(r)) if r else r for r in rows]


def _read_xlsx(
    data: bytes, source: str, sheet: str | None, lang: str, max_rows: int | None
) -> Table:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any unreadable workbook (zip, XML, openpyxl) is the file's fault
        raise _fail(source, lang, "import.not_xlsx", error=type(exc).__name__) from None
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            shown = ", ".join(repr(n) for n in names)
            raise _fail(source, lang, "import.no_sheet", "sheet", sheet=repr(sheet), sheets=shown)
        name = sheet if sheet is not None else names[0]
        cells = book[name].iter_rows(max_col=MAX_COLUMNS, values_only=True)
        rows = _pad(_trim(cells, max_rows))
    except InputFileError:
        raise
    except Exception as exc:  # e.g. a chart sheet, or broken XML found while streaming
        raise _fail(source, lang, "import.not_xlsx", error=type(exc).__name__) from None
    finally:
        book.close()
    if not rows:
        raise _fail(source, lang, "import.sheet_empty", sheet=repr(name))
    return Table(rows, ReadAs("xlsx", sheet=name))
