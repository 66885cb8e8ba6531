"""Migrations: they build exactly the models' schema and are reversible."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.config import Settings
from app.db import Base, get_engine
from app.migrate import alembic_config, current_revision, head_revision


def test_migrated_schema_matches_models(settings: Settings) -> None:
    """`alembic upgrade head` yields the schema of app.models (autogenerate finds no diff)."""
    with get_engine(settings.database_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert current_revision(settings) == head_revision(settings)


def test_migrations_downgrade_to_base_and_back(settings: Settings) -> None:
    """Every migration is reversible: downgrade to base, then upgrade to head again."""
    config = alembic_config(settings)
    command.downgrade(config, "base")
    assert current_revision(settings) is None
    command.upgrade(config, "head")
    assert current_revision(settings) == head_revision(settings)
