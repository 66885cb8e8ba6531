"""Schema migrations from inside the installed package (``kring db upgrade``, ``/ready``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.config import Settings
from app.db import get_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    """Return an Alembic configuration for the configured database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Migrate the configured database to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(settings), revision)


def head_revision(settings: Settings) -> str | None:
    """Return the newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()


def current_revision(settings: Settings) -> str | None:
    """Return the database's current revision (``None`` when never migrated)."""
    with get_engine(settings.database_url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
