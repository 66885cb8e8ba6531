"""The firm-file templates: ``GET /firms/template.xlsx`` and ``/firms/template.csv``.

Included before the firms router: ``/firms/{external_id:path}`` would take the file name
for a firm id.  Dutch headers by default (``Accept-Language``), English with
``Accept-Language: en`` or ``?lang=en``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.deps import LangDep, ViewerDep
from app.errors import problem_responses
from matching import template_csv, template_xlsx

router = APIRouter(prefix="/firms", tags=["firms"], responses=problem_responses(401, 403, 422))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LangQuery = Annotated[
    Literal["nl", "en"] | None,
    Query(description="Header language; default from Accept-Language (Dutch)"),
]


def _download(body: bytes, media_type: str, filename: str, lang: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Language": lang,
    }
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/template.xlsx",
    operation_id="firms-template-xlsx",
    summary="Download the firm import template (Excel)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "Firms, needs and columns sheets"}},
)
def get_template_xlsx(caller: ViewerDep, asked: LangDep, lang: LangQuery = None) -> Response:
    """An Excel workbook to fill in and import: the columns with an example row, every need
    (code, Dutch and English label, theme) and what each column takes."""
    chosen = lang or asked
    name = "bedrijven-sjabloon.xlsx" if chosen == "nl" else "firms-template.xlsx"
    return _download(template_xlsx(chosen), XLSX, name, chosen)


@router.get(
    "/template.csv",
    operation_id="firms-template-csv",
    summary="Download the firm import template (CSV)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Header and an example row"}},
)
def get_template_csv(caller: ViewerDep, asked: LangDep, lang: LangQuery = None) -> Response:
    """A CSV file to fill in and import: Dutch is ``;``-separated UTF-8 with BOM (what Dutch
    Excel opens in columns), English comma-separated UTF-8."""
    chosen = lang or asked
    name = "bedrijven-sjabloon.csv" if chosen == "nl" else "firms-template.csv"
    return _download(template_csv(chosen), "text/csv; charset=utf-8", name, chosen)
