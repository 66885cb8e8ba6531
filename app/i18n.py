"""The request's language and the words of problem documents, from the message catalogue.

The language comes from ``Accept-Language`` (:func:`texts.negotiate`): Dutch by default,
English on request.  :class:`app.middleware`'s language middleware stores it on the request
scope and answers with ``Content-Language``; :data:`app.deps.LangDep` hands it to routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from texts import DEFAULT, Msg, catalogue, has, negotiate, number, t

SCOPE_KEY = "kring.lang"
E = TypeVar("E", bound=Exception)


def scope_lang(scope: Mapping[str, Any]) -> str:
    """The language of an ASGI scope: stored by the middleware, else from its headers."""
    lang = scope.get(SCOPE_KEY)
    if isinstance(lang, str):
        return lang
    for name, value in scope.get("headers") or ():
        if name == b"accept-language":
            return negotiate(value.decode("latin-1"))
    return DEFAULT


def problem_title(slug: str, lang: str, fallback: str) -> str:
    """The problem ``title`` of ``slug`` in ``lang`` (``fallback`` for a slug not listed)."""
    key = f"problem.{slug}.title"
    return t(key, lang) if has(key) else fallback


def resource_name(resource: str, lang: str) -> str:
    """A resource word ("run", "firm", ...) in ``lang``; unknown words stay as they are."""
    key = f"resource.{resource}"
    return t(key, lang) if has(key) else resource


def not_found_detail(resource: str, key: object, lang: str) -> str:
    """E.g. ``"bedrijf f-1 niet gevonden"`` / ``"firm f-1 not found"``."""
    return t("problem.not-found.detail", lang, resource=resource_name(resource, lang), key=key)


def internal_detail(lang: str) -> str:
    """The generic detail of a 500."""
    return t("problem.internal.detail", lang)


def file_detail(source: str, count: int, lang: str) -> str:
    """The detail of a rejected input file: how many values, and that nothing was written."""
    return t("problem.invalid-input.file", lang, source=source, count=count)


def request_detail(count: int, lang: str) -> str:
    """The detail of a request that failed validation."""
    return t("problem.invalid-input.request", lang, count=count)


def overflow_detail(lang: str) -> str:
    """A number out of range."""
    return t("problem.invalid-input.overflow", lang)


def data_detail(lang: str) -> str:
    """A value the database refused (out of range or too long)."""
    return t("problem.invalid-input.data", lang)


_HTTP_DETAILS = {
    "Not Found": "problem.not-found.path",
    "Method Not Allowed": "problem.method-not-allowed.detail",
}


def http_detail(status: int, detail: str, lang: str) -> str:
    """Starlette's standard 404/405 detail in ``lang``; any other detail stays as it is."""
    key = _HTTP_DETAILS.get(detail)
    return t(key, lang) if key is not None and status in (404, 405) else detail


def with_text(exc: E, key: str, /, **params: object) -> E:
    """Attach a catalogue text to a service error: its ``detail`` in the reader's language.

    ``raise with_text(ForbiddenError("english detail"), "problem.forbidden.role", role=...)``;
    the English ``detail`` stays the fallback (and what logs show).
    """
    exc.text = (key, params)  # type: ignore[attr-defined]
    return exc


def service_detail(exc: Exception, lang: str) -> str:
    """The detail of a service error: its catalogue text when it has one, else as raised."""
    text = getattr(exc, "text", None)
    if text is not None and has(text[0]):
        return t(text[0], lang, **text[1])
    return str(getattr(exc, "detail", exc))


def geodata_detail(exc: Exception, lang: str) -> str:
    """A geodata error (malformed or unknown postcode, outside NL) in ``lang``."""
    key = getattr(exc, "key", None)
    if not isinstance(key, str) or not has(key):
        return str(exc)
    params = dict(getattr(exc, "params", {}))
    if "reason_code" in params:
        params["reason"] = t(f"geodata.reason.{params.pop('reason_code')}", lang)
    return t(key, lang, **params)


def ignored_notice(columns: list[str], lang: str) -> str | None:
    """The import's skipped columns in a sentence ("2 kolommen overgeslagen ..."), or None."""
    if not columns:
        return None
    shown = ", ".join(columns)
    return t("import.ignored", lang, count=len(columns), columns=shown)


def line_and_column(document: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset in ``document``."""
    before = document[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def said_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Problem ``errors`` with each catalogue ``text`` said in ``lang`` (its key as ``code``)."""
    out = []
    for row in rows:
        text = row.get("text")
        row = {k: v for k, v in row.items() if k != "text"}
        if isinstance(text, Msg):
            row.update(message=text.render(lang), code=text.key)
        out.append(row)
    return out


@cache
def _english_keys() -> dict[str, str]:
    """English text -> its catalogue key (what our validators raise is the English text)."""
    return {text: key for key, text in catalogue("en").items()}


def validation_message(err: Mapping[str, Any], lang: str) -> str:
    """Pydantic's message in ``lang`` (``validation.<type>`` in the catalogue), else its own."""
    key = f"validation.{err.get('type')}"
    if err.get("type") == "value_error":  # our validators raise the catalogue's English text
        said = str((err.get("ctx") or {}).get("error", ""))
        key = _english_keys().get(said, key)
    given = (err.get("ctx") or {}).items()
    ctx = {k: number(v, lang, 6) if isinstance(v, float) else v
           for k, v in given if isinstance(v, str | int | float)}  # fmt: skip
    if has(key):
        try:
            return t(key, lang, **ctx)
        except KeyError:  # a context value the text does not expect is missing
            pass
    return str(err.get("msg", "invalid"))
