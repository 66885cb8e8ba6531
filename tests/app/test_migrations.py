"""Migrations: they build exactly the models' schema and are reversible."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.config import Settings
from app.db import Base, get_engine
from app.migrate import alembic_config, current_revision, head_revision
from tests.app.test_review import FAST
from tests.app.test_runs import load_small, start_run


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


def test_the_hand_edit_and_contact_migrations_keep_every_stored_row(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """Down to rel3 and up again across wb1/wb2: no group, member or firm row is lost."""
    load_small(client, keys["member"])
    start_run(client, keys["member"], FAST)

    def counts() -> tuple[int, ...]:
        with get_engine(settings.database_url).connect() as conn:
            return tuple(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                         for t in ("firm", "group", "group_member", "unassigned_firm"))  # fmt: skip

    before = counts()
    assert before[1] > 0 and before[2] > 0
    config = alembic_config(settings)
    command.downgrade(config, "rel3")
    assert counts() == before
    command.upgrade(config, "head")
    assert counts() == before
