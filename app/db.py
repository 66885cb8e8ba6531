"""Database plumbing: engine factory, the declarative ``Base`` and sessions.

One engine per database URL is cached for the life of the process.  SQLite gets foreign
keys, WAL and a busy timeout, so the API and the run workers can share one file, and
``secure_delete`` on every connection, so the bytes of deleted rows (a GDPR erasure) are
overwritten with zeros instead of lingering in free pages (PostgreSQL needs ``VACUUM``,
see SECURITY.md).  Engines hide SQL parameters (``hide_parameters``): an error message,
and so a logged traceback, never carries names, postcodes or coordinates.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.config import Settings, get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every kring table, with a constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


@lru_cache(maxsize=64)
def get_engine(database_url: str) -> Engine:
    """Return the process-wide engine for ``database_url`` (created on first use)."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(database_url, pool_pre_ping=True, hide_parameters=True)


def dispose_engine(database_url: str) -> None:
    """Close the pooled connections of ``database_url``'s engine (tests, shutdown)."""
    get_engine(database_url).dispose()


@lru_cache(maxsize=64)
def _session_factory(database_url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(database_url), expire_on_commit=False)


def open_session(settings: Settings) -> Session:
    """Open a new session on the configured database (the caller closes it)."""
    return _session_factory(settings.database_url)()


def get_db(settings: Annotated[Settings, Depends(get_settings)]) -> Iterator[Session]:
    """FastAPI dependency: one session per request, closed afterwards."""
    with open_session(settings) as session:
        yield session
