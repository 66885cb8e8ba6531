"""Runs: lease with an attempt number (fencing token), ids never reused (SQLite AUTOINCREMENT)

The lease itself is ``run.attempts`` (the fencing token, already a column); what this
migration changes is that the ids of runs, groups, profiles and audit entries are never
reused on SQLite: those tables are recreated with ``AUTOINCREMENT`` (PostgreSQL's serial
columns never reuse an id, so nothing changes there).  On SQLite, dropping a parent table
with foreign keys enforced would cascade into its children (group members, unassigned
firms, profile versions), so enforcement is switched off for the recreate (possible only
outside a transaction: this migration's first statement), checked with
``PRAGMA foreign_key_check`` and switched on again after committing.

Revision ID: rel1
Revises: pg2
Create Date: 2026-12-03 13:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "rel1"
down_revision: str | None = "pg2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("profile", "run", "group", "audit_entry")


def _recreate(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    raw = bind.connection.dbapi_connection
    assert raw is not None
    if raw.in_transaction:  # PRAGMA foreign_keys is a no-op inside a transaction
        raw.commit()
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        for name in TABLES:
            with op.batch_alter_table(
                name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
            ):
                pass
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the recreate: {broken[:5]}")
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    """Apply this migration."""
    _recreate(autoincrement=True)


def downgrade() -> None:
    """Revert this migration."""
    _recreate(autoincrement=False)
