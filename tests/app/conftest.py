"""API test fixtures: a migrated database per test, the real app, keys per role.

Each test gets a SQLite file by default.  With ``KRING_TEST_DATABASE_URL`` set to a
PostgreSQL server URL (``make test-postgres``), each test gets its own fresh database on
that server instead, named after the test's file path and dropped at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.config import Settings, get_settings
from app.db import dispose_engine, open_session
from app.main import create_app
from app.migrate import upgrade
from app.models import Role
from app.services.organisations import create_key, create_organisation, find_organisation
from tests.pg import database_for

DATA = Path(__file__).resolve().parent.parent / "data"


def make_settings(path: Path, **overrides: object) -> Settings:
    """Settings for a test database (a SQLite file, or PostgreSQL), with inline runs."""
    values: dict[str, object] = {
        "database_url": database_for(path),
        "executor": "inline",
        "api_key_pepper": SecretStr("test-pepper"),
        "default_time_limit_s": 5.0,
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """A freshly migrated SQLite database (``alembic upgrade head``)."""
    s = make_settings(tmp_path / "kring.db")
    upgrade(s)
    yield s
    dispose_engine(s.database_url)


def client_for(settings: Settings) -> TestClient:
    """A TestClient on a new app whose only override is ``get_settings``."""
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app on the test database (lifespan and executor included)."""
    with client_for(settings) as c:
        yield c


def issue_key(settings: Settings, org: str, role: Role) -> str:
    """Create (or reuse) organisation ``org`` and return a new key with ``role``."""
    with open_session(settings) as db:
        existing = find_organisation(db=db, name=org)
        if existing is None:
            return create_organisation(db=db, name=org, role=role, settings=settings).key
        issued = create_key(db=db, organisation=existing, role=role, settings=settings)
        db.commit()
        return issued.key


@pytest.fixture
def keys(settings: Settings) -> dict[str, str]:
    """Keys of organisation "north" for every role, plus a member key of "south"."""
    out = {role.value: issue_key(settings, "north", role) for role in Role}
    out["other"] = issue_key(settings, "south", Role.member)
    return out


def auth(key: str) -> dict[str, str]:
    """The API-key header."""
    return {"X-API-Key": key}
