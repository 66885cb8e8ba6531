"""Test databases on a PostgreSQL server when ``KRING_TEST_DATABASE_URL`` is set.

``database_for(path)`` returns the SQLAlchemy URL a test should use for the database it
would otherwise keep in the SQLite file ``path``: that file, or — with
``KRING_TEST_DATABASE_URL=postgresql+psycopg://user@host:port/maintenance_db`` — a fresh
database on that server, one per distinct ``path`` and test session, dropped at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ENV = "KRING_TEST_DATABASE_URL"
_SESSION = uuid.uuid4().hex[:8]
_created: dict[str, str] = {}  # database name -> SQLAlchemy URL


def server_url() -> str | None:
    """The PostgreSQL server the tests run against, or None for SQLite."""
    return os.environ.get(ENV) or None


def _admin_conninfo(url: str) -> str:
    parsed = make_url(url).set(database="postgres")  # the maintenance database
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def database_for(path: Path) -> str:
    """The URL of the test database standing for the SQLite file ``path``."""
    server = server_url()
    if server is None:
        return f"sqlite:///{path}"
    name = Path(path).name
    if name in _created:  # a URL turned back into a path by a test: the same database
        return _created[name]
    return create_database(server, str(path))


def create_database(server: str, tag: str) -> str:
    """Create (once per session and ``tag``) a database on ``server``; return its URL."""
    name = f"kring_t_{_SESSION}_{hashlib.sha1(tag.encode()).hexdigest()[:16]}"
    if name not in _created:
        with psycopg.connect(_admin_conninfo(server), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        _created[name] = make_url(server).set(database=name).render_as_string(False)
    return _created[name]


@atexit.register
def _drop_databases() -> None:
    if not _created:
        return
    server = next(iter(_created.values()))
    with psycopg.connect(_admin_conninfo(server), autocommit=True) as conn:
        for name in _created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
