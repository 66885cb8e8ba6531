"""Run, group, profile and audit-entry ids are never reused (random ids that skip every id
in the table or named by the audit, app.ids; groups: SQLite AUTOINCREMENT, serial on
PostgreSQL), and the migration that makes them so keeps every row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.db import dispose_engine, get_engine, open_session
from app.ids import IdSpaceExhaustedError, new_id
from app.migrate import upgrade
from app.models import AuditEntry, Group, Organisation, Role, Run
from tests.app.conftest import issue_key, make_settings

PARENTS_FIRST = ("organisation", "profile", "profile_version", "run", "group", "group_member",
                 "unassigned_firm", "audit_entry")  # fmt: skip


def test_deleted_newest_run_and_group_ids_are_never_handed_out_again(tmp_path: Path) -> None:
    """After the newest group and its audited run are deleted, neither id is handed out again:
    the run's id is named by its audit entry, the group's id lies below the sequence."""
    settings = make_settings(tmp_path / "ids.db")
    upgrade(settings)
    issue_key(settings, "north", Role.member)
    with open_session(settings) as db:
        org_id = db.scalar(select(Organisation.id))
        assert org_id is not None

        def run_with_group() -> tuple[int, int]:
            run = Run(organisation_id=org_id, purpose="training", params={}, filters={})
            run.groups.append(Group(organisation_id=org_id, number=1))
            db.add(run)
            db.flush()
            db.add(AuditEntry(organisation_id=org_id, actor_role="member", action="run.create",
                              resource="run", resource_id=str(run.id)))  # fmt: skip
            db.commit()
            return run.id, run.groups[0].id

        run_id, group_id = run_with_group()
        db.delete(db.get(Run, run_id))
        db.commit()
        again = run_with_group()
        conn = db.connection()
        with pytest.raises(IdSpaceExhaustedError):
            new_id(conn, "run", low=run_id, high=run_id)
        assert new_id(conn, "run", low=run_id, high=run_id + 1) == run_id + 1
    assert again[0] != run_id and again[1] > group_id
    dispose_engine(settings.database_url)


def _fill(conn: sa.Connection, table: sa.Table, row_id: int, refs: dict[str, int]) -> None:
    """Insert one row with id ``row_id``, every required column set, foreign keys to ``refs``."""
    values: dict[str, Any] = {"id": row_id}
    for column in table.columns:
        if column.name == "id" or (column.nullable and not column.foreign_keys):
            continue
        target = next(iter(column.foreign_keys)).column.table.name if column.foreign_keys else None
        if target is not None:
            if target in refs:
                values[column.name] = refs[target]
            continue
        kind = column.type
        if column.name == "status":
            values[column.name] = {"run": "succeeded", "group": "accepted"}[table.name]
        elif isinstance(kind, sa.Boolean):
            values[column.name] = False
        elif isinstance(kind, sa.Integer | sa.Float | sa.Numeric):
            values[column.name] = 1
        elif isinstance(kind, sa.JSON):
            values[column.name] = {}
        elif isinstance(kind, sa.DateTime):
            values[column.name] = sa.func.current_timestamp()
        else:
            values[column.name] = f"{table.name}-{row_id}"[: getattr(kind, "length", None) or 64]
    conn.execute(table.insert().values(**values))


def test_the_id_migration_keeps_every_row_and_foreign_keys_on(tmp_path: Path) -> None:
    """Upgrading a populated database past rel1 keeps profiles, versions, runs, groups,
    members, unassigned firms and audit entries (ids included), with foreign keys enforced."""
    settings = make_settings(tmp_path / "mig.db")
    upgrade(settings, "pg2")
    engine = get_engine(settings.database_url)
    meta = sa.MetaData()
    meta.reflect(engine, only=list(PARENTS_FIRST))
    with engine.begin() as conn:
        refs: dict[str, int] = {}
        for name in PARENTS_FIRST:
            _fill(conn, meta.tables[name], 7, refs)
            refs[name] = 7
    upgrade(settings)
    with engine.connect() as conn:
        for name in PARENTS_FIRST:
            assert conn.execute(sa.text(f'SELECT id FROM "{name}"')).scalars().all() == [7], name
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name='group'").scalar()
            assert "AUTOINCREMENT" in str(sql)
    dispose_engine(settings.database_url)
