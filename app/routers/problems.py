"""Problem type pages: what each ``type`` of a problem+json answer means, served here.

Every problem document's ``type`` is the relative URI ``/problems/{slug}`` (RFC 9457 §3.1.1:
resolved against the request's address), so it resolves on the service itself, with no
placeholder host and no network.  The page is HTML in the reader's language (Dutch by
default; ``Accept-Language: en`` or ``?lang=en`` for English), or JSON on
``Accept: application/json``.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.deps import LangDep
from app.errors import PROBLEM_TYPES, NotFoundError
from texts import LANGS, t

router = APIRouter(prefix="/problems", include_in_schema=False)


@router.get("/{slug}", response_model=None)
def problem_page(
    slug: str,
    request: Request,
    lang: LangDep,
    asked: Annotated[str | None, Query(alias="lang")] = None,
) -> HTMLResponse | JSONResponse:
    """What one problem type means and what to do about it."""
    if slug not in PROBLEM_TYPES:
        raise NotFoundError("problem type", slug)
    lang = asked if asked in LANGS else lang
    status = PROBLEM_TYPES[slug]
    title, about = t(f"problem.{slug}.title", lang), t(f"problem.{slug}.about", lang)
    headers = {"Content-Language": lang}
    if "application/json" in request.headers.get("accept", ""):
        body = {"type": f"/problems/{slug}", "status": status, "title": title, "about": about}
        return JSONResponse(body, headers=headers)
    page = (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f"<p>HTTP {status}</p><p>{escape(about)}</p>"
        f'<p><a href="/docs">{escape(t("problem.page.docs", lang))}</a></p></body></html>\n'
    )
    return HTMLResponse(page, headers=headers)
