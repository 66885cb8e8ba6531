"""The firm-file template a new user starts from: CSV and ``.xlsx``, Dutch or English headers.

The workbook's first sheet has the columns and one example row (the importer reads the first
sheet), the second lists every need with its code, Dutch and English label and theme, and
the third explains each column.  The header row is bold and frozen, columns are fitted to
their text, and the cells of the id, postcode, SBI and KvK columns are text, so Excel keeps
``0111`` as typed.  Filling the example row in and importing the file gives a firm.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from matching.sme.columns import DUTCH_HEADERS, FIRM_ALIASES
from matching.sme.firms import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from matching.sme.needs import NEEDS, THEMES, need_by_code
from texts import t

COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
TEXT_COLUMNS = ("external_id", "postcode", "sbi_code", "kvk_number")
"""Columns whose workbook cells are formatted as text (leading zeros kept)."""
TEXT_ROWS = 500
"""Rows below the header whose text columns are preformatted."""
EXAMPLE_NEEDS = ("dig.cybersecurity", "hr.recruitment")
_MAX_WIDTH = 60


def headers(lang: str) -> list[str]:
    """The template's column headers: Dutch (``naam``, ``sbi`` ...) for ``"nl"``, else English."""
    return [DUTCH_HEADERS[c] if lang == "nl" else c for c in COLUMNS]


def example_row(lang: str) -> list[str | int]:
    """One valid example firm (needs by their label in ``lang``), in :data:`COLUMNS` order."""
    labels = [_label(need_by_code(c).code, lang) for c in EXAMPLE_NEEDS]
    values: dict[str, str | int] = {
        "external_id": "lid-001", "name": t("template.example.name", lang),
        "postcode": "8911 BC", "sbi_code": "1071", "employees": 12, "digital_level": 2,
        "needs": ";".join(labels), "kvk_number": "12345678",
        "contact_person": "Anna de Vries", "email": "anna@voorbeeld.nl", "phone": "058 123 4567",
    }  # fmt: skip
    return [values.get(c, "") for c in COLUMNS]


def _label(code: str, lang: str) -> str:
    need = need_by_code(code)
    return need.label_nl if lang == "nl" else need.label_en


def template_csv(lang: str) -> bytes:
    """The template as CSV: for ``"nl"`` ``;``-separated UTF-8 with BOM (Dutch Excel opens
    it in columns), for ``"en"`` comma-separated UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if lang == "nl" else ",", lineterminator="\r\n")
    writer.writerow(headers(lang))
    writer.writerow(example_row(lang))
    return out.getvalue().encode("utf-8-sig" if lang == "nl" else "utf-8")


def _sheet(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Write a bold, frozen header row and ``rows``; fit every column to its longest text."""
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for column in ws.iter_cols(min_row=1, max_row=len(rows) + 1):
        width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(width + 2, _MAX_WIDTH)


def _column_rows(lang: str) -> list[list[object]]:
    yes, no = t("template.yes", lang), t("template.no", lang)
    example = dict(zip(COLUMNS, example_row(lang), strict=True))
    rows: list[list[object]] = []
    for column, shown in zip(COLUMNS, headers(lang), strict=True):
        others = [column, *FIRM_ALIASES[column]]
        rows.append([
            shown, yes if column in REQUIRED_COLUMNS else no,
            t(f"import.column.{column}", lang), example[column],
            ", ".join(n for n in others if n != shown),
        ])  # fmt: skip
    return rows


def template_xlsx(lang: str) -> bytes:
    """The template as an ``.xlsx`` workbook (firms, needs and columns sheets)."""
    book = Workbook()
    firms = book.active
    assert firms is not None
    firms.title = t("template.sheet.firms", lang)
    _sheet(firms, headers(lang), [example_row(lang)])
    for index, column in enumerate(COLUMNS, start=1):
        if column in TEXT_COLUMNS:
            for row in range(2, TEXT_ROWS + 2):
                firms.cell(row=row, column=index).number_format = "@"
    needs = book.create_sheet(t("template.sheet.needs", lang))
    theme_col = 0 if lang == "nl" else 1
    need_rows = [[n.code, n.label_nl, n.label_en, THEMES[n.theme][theme_col]] for n in NEEDS]
    need_header = [t("template.needs.code", lang), t("template.needs.label_nl", lang),
                   t("template.needs.label_en", lang), t("template.needs.theme", lang)]  # fmt: skip
    _sheet(needs, need_header, need_rows)
    columns = book.create_sheet(t("template.sheet.columns", lang))
    column_header = [t("template.columns.column", lang), t("template.columns.required", lang),
                     t("template.columns.format", lang), t("template.columns.example", lang),
                     t("template.columns.aliases", lang)]  # fmt: skip
    _sheet(columns, column_header, _column_rows(lang))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
