"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.db import get_engine
from app.deps import SettingsDep
from app.migrate import current_revision, head_revision
from app.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health", operation_id="health-live", response_model=Health, response_model_exclude_none=True
)
def health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/ready",
    operation_id="health-ready",
    response_model=Health,
    response_model_exclude_none=True,
    responses={503: {"model": Health, "description": "Not ready"}},
)
def ready(settings: SettingsDep) -> Health | JSONResponse:
    """The database is reachable and migrated to the newest revision."""
    try:
        with get_engine(settings.database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = current_revision(settings), head_revision(settings)
    except Exception as exc:
        body = Health(status="unavailable", detail=f"database unreachable: {type(exc).__name__}")
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    if current != head:
        body = Health(status="unavailable", detail=f"migrations at {current}, head is {head}")
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return Health(status="ok", revision=current)
