"""Structured logging (structlog): key-value events, JSON lines when configured.

Events carry ids (organisation, run, firm row), never API keys or firm names.  There is one
access log, :class:`AccessLogMiddleware`: one ``request`` event per request with the method,
the route template (``/api/v1/firms/{external_id}``, never the raw path or query string),
the status and the duration; ``kring serve`` turns uvicorn's own access log off.

Tracebacks (structlog's ``exception`` and the standard library's, e.g. uvicorn's "Exception
in ASGI application") go through :func:`format_exception`: database errors show the SQL
statement and the driver's first message line with quoted values masked, never the
parameters (the engines also set ``hide_parameters``), and pydantic validation errors show
locations and messages without the input.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import StatementError
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_DRIVERS = ("sqlite3", "psycopg", "psycopg2", "asyncpg")
MAX_STATEMENT = 2000


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)  # resolved per use: follows redirected stderr


def _driver_message(error: BaseException) -> str:
    """A DB driver error's first line with quoted values masked, plus its SQLSTATE names."""
    first = (str(error).strip().splitlines() or [""])[0]
    diag = getattr(error, "diag", None)
    names = ("sqlstate", "constraint_name", "table_name", "column_name")
    extra = {n: getattr(diag, n, None) for n in names} if diag is not None else {}
    extra["sqlstate"] = extra.get("sqlstate") or getattr(error, "sqlstate", None)
    return _QUOTED.sub('"***"', first) + "".join(f" {k}={v}" for k, v in extra.items() if v)


def _message(error: BaseException) -> str:
    """What a traceback may say about ``error``: no SQL parameters, no validated input."""
    if isinstance(error, StatementError):
        orig = error.orig
        cause = "" if orig is None else f"({type(orig).__module__}.{type(orig).__qualname__}) "
        cause += "" if orig is None else _driver_message(orig)
        return f"{cause}\n[SQL: {(error.statement or '')[:MAX_STATEMENT]}]"
    if type(error).__module__.split(".")[0] in _DRIVERS:
        return _driver_message(error)
    if isinstance(error, ValidationError):
        items = error.errors(include_input=False, include_url=False, include_context=False)
        return f"{error.error_count()} validation errors: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in items
        )
    return str(error)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``'s causes and contexts, outermost last (the order Python prints them)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return reversed(seen)


def format_exception(error: BaseException) -> str:
    """A traceback of ``error`` (and its chain) whose messages hold no personal data."""
    parts: list[str] = []
    for link in _chain(error):
        if parts:
            parts.append("\nwhich led to:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        name = f"{type(link).__module__}.{type(link).__qualname__}"
        parts.append(f"{name}: {_message(link)}\n")
        for sub in link.exceptions if isinstance(link, BaseExceptionGroup) else ():
            parts.append("  " + format_exception(sub).replace("\n", "\n  ") + "\n")
    return "".join(parts).rstrip("\n")


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1]  # type: ignore[no-any-return]
    return sys.exc_info()[1] if exc_info else None


def _format_exc_info(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: ``exc_info`` -> ``exception`` text via :func:`format_exception`."""
    error = _exception_of(event.pop("exc_info", None))
    if error is not None:
        event["exception"] = format_exception(error)
    return event


class SafeFormatter(logging.Formatter):
    """Standard-library formatter whose tracebacks come from :func:`format_exception`."""

    def formatException(self, ei: Any) -> str:
        error = _exception_of(ei)
        return format_exception(error) if error is not None else ""


def configure_logging(settings: Settings) -> None:
    """Configure structlog and the standard library logger for this process."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


access_log = structlog.get_logger("kring.http")


def _matched_route(scope: Scope) -> Any:
    """The route the router chose, or (answered before routing, e.g. 413) would choose."""
    route = scope.get("route")
    if route is not None:
        return route
    partial = None
    for candidate in getattr(scope.get("app"), "routes", ()):
        match, child = candidate.matches(scope)
        if match is Match.FULL:
            return child.get("route", candidate)
        if match is Match.PARTIAL and partial is None:
            partial = child.get("route", candidate)
    return partial


def route_template(scope: Scope) -> str | None:
    """The full path template of the route that served ``scope`` (``None`` if no route).

    Convertors are left out (``{external_id:path}`` is logged as ``{external_id}``).  A
    route of an included router knows its path below the router's prefix only, so the
    prefix is taken from the request path: whatever precedes the part the route matched.
    """
    route = _matched_route(scope)
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str):
        return None
    regex = getattr(route, "path_regex", None)
    path = scope.get("path", "")
    if isinstance(regex, re.Pattern):
        tail = re.search(regex.pattern.removeprefix("^"), path)
        if tail is not None:
            return path[: tail.start()] + template
    return template


class AccessLogMiddleware:
    """The one access log: method, route template, status and duration per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            access_log.info(
                "request",
                method=scope["method"],
                route=route_template(scope),
                status=status,
                duration_ms=round((time.perf_counter() - began) * 1000, 1),
            )
