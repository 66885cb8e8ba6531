"""Alembic environment: metadata and database URL come from the app."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from app import models  # noqa: F401  (registers every table on Base.metadata)
from app.config import get_settings
from app.db import Base, get_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Emit SQL to stdout instead of touching a database."""
    context.configure(url=_url(), target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    with get_engine(_url()).connect() as conn:
        _configure(conn)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
