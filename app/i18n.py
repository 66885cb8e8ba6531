"""The request's language and the words of problem documents, from the message catalogue.

The language comes from ``Accept-Language`` (:func:`texts.negotiate`): Dutch by default,
English on request.  :class:`app.middleware`'s language middleware stores it on the request
scope and answers with ``Content-Language``; :data:`app.deps.LangDep` hands it to routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from texts import DEFAULT, has, negotiate, t

SCOPE_KEY = "kring.lang"


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
