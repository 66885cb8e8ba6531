"""ASGI middleware: the request's language and the request-body size limit (413).

The one access log is :class:`app.logs.AccessLogMiddleware`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import problem_response
from app.i18n import SCOPE_KEY, scope_lang
from texts import negotiate, t


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Answer 413 problem+json when a request body exceeds ``settings.max_body_bytes``."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = t("problem.payload-too-large.detail", scope_lang(scope), limit=limit)
        answer = problem_response(scope, 413, "payload-too-large", "Payload too large", detail)
        await answer(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings().max_body_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
            return
        seen = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to the truncated body is replaced by a 413
            started = True
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not started:
            await self._reject(scope, receive, send, limit)


class LanguageMiddleware:
    """Choose the answer's language from ``Accept-Language`` (Dutch by default).

    The choice is stored in the scope (read by :func:`app.i18n.scope_lang`, ``LangDep`` and
    the problem handlers); every response gets ``Content-Language`` and ``Vary:
    Accept-Language`` (a cache must not serve a Dutch body to an English reader).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"accept-language")
        lang = negotiate(None if header is None else header.decode("latin-1"))
        scope[SCOPE_KEY] = lang

        async def tag(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"vary"]
                vary = [v for k, v in message.get("headers", ()) if k.lower() == b"vary"]
                names = b", ".join([*vary, b"Accept-Language"])
                headers.append((b"vary", names))
                if not any(k.lower() == b"content-language" for k, _ in headers):
                    headers.append((b"content-language", lang.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, tag)


class HeadMiddleware:
    """Answer ``HEAD`` like ``GET`` without the body (RFC 9110 §9.3.2), on every GET route.

    FastAPI routes declare GET only; this layer hands the inner app a GET and drops the body
    chunks on the way out, so status, headers and ``Content-Length`` are the GET's.  Register
    it innermost: the layers around it (access log, throttle) still see ``HEAD``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
