"""Domain errors of the service and their RFC 9457 ``application/problem+json`` rendering.

Routes never build error bodies: they (or the services they call) raise one of the
:class:`ServiceError` subclasses, or let library errors (``MatchingError`` such as
``InputFileError`` or ``SettingsError``, ``GeodataError``) propagate; the handlers
registered by :func:`install_handlers` turn each into a problem document with ``type``,
``title``, ``status``, ``detail``, ``instance`` and, for invalid input, an ``errors`` list
of ``{row, field, message}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from app import i18n
from app.logs import route_template
from geodata.errors import GeodataError
from matching import InputFileError, MatchingError, SettingsError, UnverifiedSolutionError
from texts import Msg, t

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"
"""Problem ``type`` URIs are relative (RFC 9457: resolved against the request's URI) and
served by the service itself (:mod:`app.routers.problems`)."""
PROBLEM_TYPES: dict[str, int] = {
    "unauthorized": 401, "forbidden": 403, "not-found": 404, "method-not-allowed": 405,
    "conflict": 409, "payload-too-large": 413, "invalid-input": 422, "invalid-location": 422,
    "too-many-requests": 429, "http-error": 400, "internal": 500, "rule-broken": 422,
}  # fmt: skip
"""Every problem ``type`` slug the service answers with, and its usual status."""
log = structlog.get_logger("kring.errors")
S = TypeVar("S", bound="ServiceError")


class RowProblem(BaseModel):
    """One invalid value: the record (1-based; ``null`` outside lists), field and reason."""

    row: int | None = Field(None, description="1-based record/row number; 0 = CSV header")
    field: str
    message: str = Field(description="What is wrong, in the request's language")
    code: str | None = Field(None, description="The message's catalogue key (stable)")
    line: int | None = Field(None, description="Invalid JSON: 1-based line of the error")
    column: int | None = Field(None, description="Invalid JSON: 1-based column on that line")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(
        description="URI reference naming the problem type, relative to the request's URI "
        "(`/problems/{slug}`: a page saying what it means, in Dutch or English)"
    )
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="The request path")
    errors: list[RowProblem] | None = Field(None, description="Every invalid value")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return a ``responses=`` mapping declaring problem+json for ``statuses``."""
    return {
        status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "Problem"}
        for status in statuses
    }


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""

    status = 500
    slug = "internal"
    title = "Internal server error"

    def __init__(self, detail: str, **members: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.members = members


class UnauthorizedError(ServiceError):
    """No or an unknown API key."""

    status, slug, title = 401, "unauthorized", "Missing or invalid API key"


class ForbiddenError(ServiceError):
    """The key's role may not do this."""

    status, slug, title = 403, "forbidden", "Role not allowed"


class NotFoundError(ServiceError):
    """No such resource in the caller's organisation (or at all: we do not say)."""

    status, slug, title = 404, "not-found", "Not found"

    def __init__(self, resource: str, key: object) -> None:
        super().__init__(f"{resource} {key} not found", resource=resource)
        self.key = key


class ConflictError(ServiceError):
    """The request conflicts with the resource's current state."""

    status, slug, title = 409, "conflict", "Conflict"


class InvalidInputError(ServiceError):
    """Input that fails validation; ``errors`` lists every problem."""

    status, slug, title = 422, "invalid-input", "Invalid input"

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)


class RuleBrokenError(ServiceError):
    """A hand edit would break a hard rule; ``violations`` names each, in words."""

    status, slug, title = 422, "rule-broken", "Edit breaks a hard rule"

    def __init__(self, violations: list[dict[str, Any]], lang: str) -> None:
        super().__init__(" ".join(v["message"] for v in violations), violations=violations)


def said(cls: type[S], key: str, /, **params: object) -> S:
    """A service error whose detail is the catalogue text ``key`` (English as raised).

    ``raise said(ConflictError, "problem.conflict.profile_name", name=name)``: the handler
    says it in the reader's language (see :func:`app.i18n.service_detail`).
    """
    return i18n.with_text(cls(t(key, "en", **params)), key, **params)


def invalid(field: str, key: str, /, **params: object) -> InvalidInputError:
    """A 422 naming one field; detail and message from the catalogue text ``key``."""
    text = Msg.of(key, **params)
    english = text.render("en")
    error = InvalidInputError(english, [{"row": None, "field": field, "message": english,
                                         "text": text}])  # fmt: skip
    return i18n.with_text(error, key, **params)


def invalid_json(error: str, line: int, column: int) -> InvalidInputError:
    """A 422 for a body that is no JSON, naming the line and column (1-based) of the error."""
    text = Msg.of("problem.invalid-input.json", line=line, column=column, error=error)
    english = text.render("en")
    row = {"row": None, "field": "body", "message": english, "text": text,
           "line": line, "column": column}  # fmt: skip
    return i18n.with_text(InvalidInputError(english, [row]), text.key, **dict(text.params))


def problem_response(
    scope: Scope,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **members: Any,
) -> JSONResponse:
    """A problem+json response for an ASGI scope (``title`` in its language, see app.i18n).

    Also an ASGI app, so middleware that answers before routing (413, 422 for NUL, 429)
    sends it with ``await problem_response(...)(scope, receive, send)``.
    """
    body = {
        "type": TYPE_BASE + slug,
        "title": i18n.problem_title(slug, i18n.scope_lang(scope), title),
        "status": status,
        "detail": detail,
        "instance": scope.get("path"),
        **members,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem(
    request: Request, status: int, slug: str, title: str, detail: str, **members: Any
) -> JSONResponse:
    """Build a problem+json response for a request (see :func:`problem_response`)."""
    return problem_response(request.scope, status, slug, title, detail, **members)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    lang = i18n.scope_lang(request.scope)
    detail = i18n.service_detail(exc, lang)
    plain = getattr(exc, "text", None) is None
    if isinstance(exc, NotFoundError) and "resource" in exc.members and plain:
        detail = i18n.not_found_detail(exc.members["resource"], exc.key, lang)
    members = dict(exc.members)
    if isinstance(members.get("errors"), list):
        members["errors"] = i18n.said_rows(members["errors"], lang)
    return problem(request, exc.status, exc.slug, exc.title, detail, **members)


async def _input_file_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputFileError)
    lang = i18n.scope_lang(request.scope)
    errors = [e.to_dict(lang) for e in exc.errors]
    detail = i18n.file_detail(exc.source, len(errors), lang)
    return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


async def _geodata_error(request: Request, exc: Exception) -> JSONResponse:
    members = {k: v for k, v in vars(exc).items() if isinstance(v, str | int | float)}
    detail = i18n.geodata_detail(exc, i18n.scope_lang(request.scope))
    return problem(request, 422, "invalid-location", "Invalid location", detail, **members)


async def _matching_error(request: Request, exc: Exception) -> JSONResponse:
    """A library error about the request's input: 422 naming its field (a bug stays 500)."""
    assert isinstance(exc, MatchingError)
    if isinstance(exc, UnverifiedSolutionError):
        return await _unexpected(request, exc)
    field = exc.field or "body"
    detail = message = str(getattr(exc, "reason", "") or exc)
    if isinstance(exc, SettingsError):  # its reason in the reader's language
        lang = i18n.scope_lang(request.scope)
        message = exc.say(lang)
        detail = t("problem.invalid-input.setting", lang, field=field, reason=message)
    errors = [{"row": None, "field": field, "message": message}]
    return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


def _json_row(exc: RequestValidationError, err: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """FastAPI's ``json_invalid`` error (its loc is a character offset): line and column."""
    offset = next((p for p in err.get("loc", ()) if isinstance(p, int)), 0)
    body = exc.body if isinstance(exc.body, str) else ""
    if isinstance(exc.body, bytes):
        body = exc.body.decode("utf-8", "replace")
    line, column = i18n.line_and_column(body, offset)
    reason = str((err.get("ctx") or {}).get("error", err.get("msg", "")))
    message = t("problem.invalid-input.json", lang, line=line, column=column, error=reason)
    return {"row": None, "field": "body", "message": message,
            "code": "problem.invalid-input.json", "line": line, "column": column}  # fmt: skip


def _validation_rows(exc: RequestValidationError, lang: str) -> list[dict[str, Any]]:
    rows = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            rows.append(_json_row(exc, err, lang))
            continue
        loc = [p for p in err.get("loc", ()) if p != "body"]
        row = None
        if loc and isinstance(loc[0], int):
            row, loc = loc[0] + 1, loc[1:]
        field = ".".join(str(p) for p in loc) or "body"
        rows.append({"row": row, "field": field, "message": i18n.validation_message(err, lang)})
    return rows


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    lang = i18n.scope_lang(request.scope)
    errors = _validation_rows(exc, lang)
    detail = i18n.request_detail(len(errors), lang)
    if len(errors) == 1 and errors[0].get("code") == "problem.invalid-input.json":
        detail = errors[0]["message"]
    return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # e.g. a body that is not JSON: invalid input, like the rest
        errors = [{"row": None, "field": "body", "message": str(exc.detail)}]
        return problem(request, 422, "invalid-input", "Invalid input", str(exc.detail),
                       errors=errors)  # fmt: skip
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    detail = i18n.http_detail(exc.status_code, str(exc.detail), i18n.scope_lang(request.scope))
    return problem(request, exc.status_code, slug, title, detail)


async def _overflow(request: Request, exc: Exception) -> JSONResponse:
    detail = i18n.overflow_detail(i18n.scope_lang(request.scope))
    errors = [{"row": None, "field": "number", "message": detail}]
    return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value (an id past 32 bits on PostgreSQL, text too long): 422."""
    cause = type(getattr(exc, "orig", None) or exc).__name__
    log.warning("database_refused_value", route=route_template(request.scope), error=cause)
    detail = i18n.data_detail(i18n.scope_lang(request.scope))
    errors = [{"row": None, "field": "value", "message": f"{detail} ({cause})"}]
    return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled_error", route=route_template(request.scope), exc_info=exc)
    detail = i18n.internal_detail(i18n.scope_lang(request.scope))
    return problem(request, 500, "internal", "Internal server error", detail)


def install_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(InputFileError, _input_file_error)
    app.add_exception_handler(MatchingError, _matching_error)
    app.add_exception_handler(GeodataError, _geodata_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OverflowError, _overflow)  # e.g. an id beyond 64 bits (SQLite)
    app.add_exception_handler(DataError, _data_error)  # e.g. an id beyond 32 bits (PostgreSQL)
    app.add_exception_handler(Exception, _unexpected)
