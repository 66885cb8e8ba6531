"""ASGI middleware for browser security headers and for throttling failed authentications.

:class:`SecurityHeadersMiddleware` wraps the whole application (outside Starlette's error
middleware, so 500s carry the headers too) and adds to every HTTP response:

* ``Content-Security-Policy``: nothing at all for API responses; for the map page and
  its assets scripts, styles, images and ``fetch`` from this origin only (no inline code);
  for ``/docs`` and ``/redoc`` the same plus inline styles and ``blob:`` workers, which
  Swagger UI and ReDoc need (their scripts are served from this origin, none inline);
* ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  no-referrer``;
* ``Cache-Control: no-store`` on every ``/api/v1`` response to a request carrying an API
  key (firm reads, exports, GeoJSON, application packs), unless the route marked its
  answer ``public`` (the CBS boundaries).

:class:`AuthThrottleMiddleware` counts, per client address, the requests whose key was
refused (401); after ``auth_failure_limit`` of them within ``auth_failure_window_s`` that
address's requests with a key answer 429 problem+json with ``Retry-After``, without the key
being checked; a keyed request refused that way counts as a failure too, so an address that
keeps trying stays locked out until it has been quiet for the window.  Requests without a key, other
addresses and successful keys are not affected.  Counts live in the web process (each
uvicorn worker counts on its own).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import problem_response
from app.i18n import scope_lang
from texts import t

API_PREFIX = "/api/v1/"
_COMMON = "base-uri 'none'; frame-ancestors 'none'"
API_POLICY = f"default-src 'none'; form-action 'none'; {_COMMON}"
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    f"font-src 'self'; connect-src 'self'; form-action 'self'; {_COMMON}"
)
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    f"worker-src 'self' blob:; form-action 'self'; {_COMMON}"
)
PAGES = ("/map",)
DOCS = ("/docs", "/redoc")
FIXED = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
MAX_CLIENTS = 10_000  # addresses tracked at once; the stalest are forgotten first


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def policy_for(path: str) -> str:
    """The ``Content-Security-Policy`` of a response to ``path``."""
    if _under(path, DOCS):
        return DOCS_POLICY
    if _under(path, PAGES):
        return PAGE_POLICY
    return API_POLICY


def _has_key(scope: Scope) -> bool:
    return any(name == b"x-api-key" and value for name, value in scope["headers"])


class SecurityHeadersMiddleware:
    """Add CSP, framing, sniffing, referrer and (for keyed API calls) caching headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = [*FIXED, (b"content-security-policy", policy_for(path).encode())]
        private = path.startswith(API_PREFIX) and _has_key(scope)

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                if private:
                    cache = [v for n, v in headers if n.lower() == b"cache-control"]
                    if not any(b"public" in v for v in cache):
                        headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                        headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add_headers)


class SecuredFastAPI(FastAPI):
    """FastAPI whose whole middleware stack, error pages included, gets the headers."""

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack wrapped in :class:`SecurityHeadersMiddleware`."""
        return SecurityHeadersMiddleware(super().build_middleware_stack())


class FailureCounter:
    """Recent failed authentications per client address (monotonic times)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if times is not None and not times:
            del self._failures[client]
            return None
        return times

    def retry_after_s(self, client: str, now: float) -> int | None:
        """Seconds until ``client`` may try a key again, or None when it may now."""
        times = self._recent(client, now)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window_s - now))

    def fail(self, client: str, now: float) -> None:
        """Record one refused key from ``client``."""
        times = self._recent(client, now)
        if times is None:
            if len(self._failures) >= MAX_CLIENTS:
                stalest = min(self._failures, key=lambda c: self._failures[c][-1])
                del self._failures[stalest]
            times = self._failures[client] = deque(maxlen=self.limit)
        times.append(now)


class AuthThrottleMiddleware:
    """Answer 429 to a client address after too many refused API keys (see module doc)."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings
        self.counter: FailureCounter | None = None

    def _counter(self) -> FailureCounter:
        s = self.settings()
        if self.counter is None or (self.counter.limit, self.counter.window_s) != (
            s.auth_failure_limit,
            s.auth_failure_window_s,
        ):
            self.counter = FailureCounter(s.auth_failure_limit, s.auth_failure_window_s)
        return self.counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_key(scope):
            await self.app(scope, receive, send)
            return
        counter = self._counter()
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait_s = counter.retry_after_s(client, time.monotonic())
        if wait_s is not None:
            counter.fail(client, time.monotonic())  # trying on while locked out keeps it locked
            await _too_many(scope, receive, send, wait_s)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                counter.fail(client, time.monotonic())
            await send(message)

        await self.app(scope, receive, watch)


async def _too_many(scope: Scope, receive: Receive, send: Send, wait_s: int) -> None:
    detail = t("problem.too-many-requests.detail", scope_lang(scope), wait_s=wait_s)
    headers = {"Retry-After": str(wait_s)}
    answer = problem_response(scope, 429, "too-many-requests", "Too many requests", detail, headers)
    await answer(scope, receive, send)
