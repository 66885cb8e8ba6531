"""Refuse NUL characters in the request path and query string before any route runs.

PostgreSQL cannot store or compare text containing NUL (``\\x00``), and no id, filter or
page parameter of this API has a use for it; so ``GET /firms/x%00y`` or ``?q=a%00b`` answer
422 problem+json naming the parameter, on every database, instead of failing deep inside a
query.  Request bodies are checked by the request models and the CSV reader.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import problem_response
from app.i18n import request_detail, scope_lang
from texts import t


def nul_fields(path: str, query_string: bytes) -> list[str]:
    """The request parts holding a NUL character: ``path`` and ``query.<name>``."""
    fields = ["path"] if "\x00" in path else []
    if b"\x00" in query_string or b"\x00" in unquote_to_bytes(query_string):
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        named = [f"query.{name}" for name, value in pairs if "\x00" in name + value]
        fields += sorted(set(named), key=named.index) or ["query"]
    return fields


class InputGuardMiddleware:
    """Pure ASGI middleware: 422 for a NUL in the path or in a query parameter."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields = nul_fields(scope.get("path", ""), scope.get("query_string", b""))
        if not fields:
            await self.app(scope, receive, send)
            return
        lang = scope_lang(scope)
        message = t("problem.invalid-input.nul", lang)
        answer = problem_response(
            scope,
            422,
            "invalid-input",
            "Invalid input",
            request_detail(len(fields), lang),
            instance=scope.get("path", "").replace("\x00", "\\x00"),
            errors=[{"row": None, "field": f, "message": message} for f in fields],
        )
        await answer(scope, receive, send)
