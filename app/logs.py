"""Structured logging (structlog): key-value events, JSON lines when configured.

Events carry ids (organisation, run, firm row), never API keys or firm names.
"""

from __future__ import annotations

import logging
import sys

import structlog

from app.config import Settings


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)  # resolved per use: follows redirected stderr


def configure_logging(settings: Settings) -> None:
    """Configure structlog and the standard library logger for this process."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
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
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
