"""The FastAPI application: routers, problem+json handlers, middleware, run executor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from app.config import DEV_PEPPER, Settings, get_settings, pepper_problem
from app.errors import install_handlers
from app.input_guard import InputGuardMiddleware
from app.jobs import RunExecutor
from app.logs import AccessLogMiddleware, configure_logging
from app.middleware import BodyLimitMiddleware, HeadMiddleware, LanguageMiddleware
from app.routers import (
    audit,
    docs,
    edits,
    firms,
    health,
    invitations,
    links,
    meta,
    problems,
    profiles,
    review,
    runs,
    schemes,
)
from app.routers import map as map_page
from app.routers import templates as firm_templates
from app.security import AuthThrottleMiddleware, SecuredFastAPI
from app.spec import install as install_spec
from matching import catalogue

API_PREFIX = "/api/v1"
log = structlog.get_logger("kring.app")
DESCRIPTION = """\
kring forms groups (*kringen*) of 10-15 Dutch SMEs with similar needs within 50 km of each
other; known competitors never share a group.  Send your key in the `X-API-Key` header.
Every error is RFC 9457 `application/problem+json`; invalid input lists every problem in
`errors` as `{row, field, message}` (row 1 = the first CSV data row or list item).
"""


def _settings(app: FastAPI) -> Settings:
    """The settings in force: ``get_settings`` or the override tests install."""
    provider = app.dependency_overrides.get(get_settings, get_settings)
    settings: Settings = provider()
    return settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the run executor (re-queueing interrupted runs) and stop it on shutdown.

    A web-only process (``create_web_app``) keeps an unstarted executor: its ``submit`` is
    a no-op and the one dispatcher elsewhere picks the queued run up at its next poll.
    """
    settings = _settings(app)
    configure_logging(settings)
    refused = pepper_problem(settings)
    if refused:
        raise RuntimeError(refused)  # the server refuses to start (kring serve says why)
    if settings.api_key_pepper.get_secret_value() == DEV_PEPPER:
        log.warning("default_api_key_pepper", hint="KRING_DEV_MODE: development only")
    executor = RunExecutor(settings)
    app.state.executor = executor
    if app.state.dispatcher:
        executor.start()
    try:
        yield
    finally:
        executor.stop()


def create_app(*, dispatcher: bool = True) -> FastAPI:
    """Build the kring API application.

    Parameters
    ----------
    dispatcher
        Whether this process owns the run executor (re-queues interrupted runs at start,
        dispatches queued ones).  Exactly one process may: ``kring serve --workers N``
        runs it in the supervising process and gives its web processes
        :func:`create_web_app`.

    Returns
    -------
    FastAPI
        The application.
    """
    app = SecuredFastAPI(  # security headers on every response, error pages too
        title="kring",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by app.routers.docs
        redoc_url=None,
        openapi_tags=[
            {"name": "firms", "description": "Your member firms (geocoded on write)"},
            {"name": "competitors", "description": "Firms that must never share a group"},
            {"name": "partners", "description": "Firms that know each other (fine together)"},
            {"name": "runs", "description": "Matching runs and their groups"},
            {"name": "profiles", "description": "Versioned constraint profiles"},
            {"name": "schemes", "description": "Subsidy schemes (verify against the regulation)"},
            {
                "name": "review",
                "description": "Accept or reject groups, compare runs, why not placed",
            },
            {"name": "audit", "description": "Who changed what, and when"},
            {"name": "needs", "description": "The needs taxonomy"},
            {"name": "admin", "description": "Organisations and API keys"},
            {"name": "health", "description": "Liveness and readiness"},
        ],
    )
    app.state.dispatcher = dispatcher
    install_handlers(app)
    app.add_middleware(HeadMiddleware)  # innermost: HEAD answered as GET without a body
    app.add_middleware(AuthThrottleMiddleware, settings=lambda: _settings(app))
    app.add_middleware(BodyLimitMiddleware, settings=lambda: _settings(app))
    app.add_middleware(InputGuardMiddleware)  # NUL in path or query: 422 on every database
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(LanguageMiddleware)  # Accept-Language -> scope, Content-Language
    app.include_router(health.router)
    app.include_router(docs.router)  # GET /docs, /redoc and their assets
    app.include_router(problems.router)  # GET /problems/{slug}: what a problem type means
    app.include_router(map_page.router)  # GET /map and /api/v1/boundaries/{layer}
    # the templates before firms: /firms/{external_id:path} would take 'template.xlsx'
    app.include_router(firm_templates.router, prefix=API_PREFIX)
    for router in (meta.router, firms.router, links.competitors, links.partners, runs.router):
        app.include_router(router, prefix=API_PREFIX)
    catalogue()  # a malformed scheme file fails here, at start-up, naming file and field
    for router in (
        profiles.router,
        schemes.router,
        review.router,
        edits.router,
        invitations.router,
        audit.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    install_spec(app)  # upload fields also `format: binary`, file responses, examples
    return app


def create_web_app() -> FastAPI:
    """The application for one of several web processes: HTTP only, no run executor."""
    return create_app(dispatcher=False)
