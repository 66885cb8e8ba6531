"""Backup of one organisation: every row it owns as JSON, and a restore of that JSON.

The export is generic over the schema: every table with an ``organisation_id`` column
(firms, pairs, profiles, runs, groups, members, unassigned firms, and whatever tables later
releases add) is written in dependency order.  Database ids are renumbered 1..n per table
(in id order; tables with random ids, :mod:`app.ids`, in the order of their rows' content)
and foreign keys between exported tables follow the renumbering, so
``export(import(export(org))) == export(org)`` holds exactly.  API keys are secrets and are
not exported; references to them become ``null``.  The import writes everything in one
transaction: any error leaves the database as it was.
"""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Table, insert, select
from sqlalchemy.orm import Session

from app.db import Base
from app.errors import ConflictError, invalid, said
from app.ids import RANDOM_TABLES
from app.models import ORG_KEY, ApiKey, Organisation
from app.services.organisations import find_organisation

FORMAT = "kring-organisation-export"
VERSION = 1
SKIPPED = {ApiKey.__tablename__}


def _owned_tables() -> list[Table]:
    """Tables holding organisation rows, parents before children (keys excluded)."""
    return [
        t
        for t in Base.metadata.sorted_tables
        if ORG_KEY in t.c and t.name not in SKIPPED and "id" in t.c
    ]


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _foreign_keys(table: Table) -> dict[str, str]:
    """Column -> referenced table, for foreign keys to organisation rows (renumbered).

    Keys to API keys are included (they become ``null``); keys to shared tables (not
    owned by an organisation) keep their value.
    """
    owned = {t.name for t in _owned_tables()} | SKIPPED
    out = {}
    for column in table.c:
        for fk in column.foreign_keys:
            if column.name != ORG_KEY and fk.column.table.name in owned:
                out[column.name] = fk.column.table.name
    return out


def export_organisation(*, db: Session, organisation: Organisation) -> dict[str, Any]:
    """Return every row ``organisation`` owns, with ids renumbered per table.

    Parameters
    ----------
    db
        An unbound session (the export filters on ``organisation_id`` itself).
    organisation
        The organisation to export.

    Returns
    -------
    dict
        ``{"format", "version", "organisation": {"name"}, "tables": {name: [row, ...]}}``.
    """
    numbers: dict[str, dict[int, int]] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _owned_tables():
        fks = _foreign_keys(table)
        rows = db.execute(
            select(table).where(table.c[ORG_KEY] == organisation.id).order_by(table.c.id)
        ).mappings()
        records: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            record: dict[str, Any] = {}
            for name, value in row.items():
                if name in ("id", ORG_KEY):
                    continue
                if name in fks and value is not None:
                    value = numbers.get(fks[name], {}).get(value)
                record[name] = _encode(value)
            records.append((row["id"], record))
        if table.name in RANDOM_TABLES:  # random ids (app.ids): order by content instead
            records.sort(key=lambda item: json.dumps(item[1], sort_keys=True, default=str))
        numbers[table.name] = {old: n for n, (old, _) in enumerate(records, start=1)}
        tables[table.name] = [{"id": n, **r} for n, (_, r) in enumerate(records, start=1)]
    return {
        "format": FORMAT,
        "version": VERSION,
        "organisation": {"name": organisation.name},
        "tables": tables,
    }


def _decode(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    values = dict(record)
    for name, value in record.items():
        if name not in table.c:
            raise invalid(f"tables.{table.name}.{name}", "problem.invalid-input.backup_column")
        if isinstance(value, str) and isinstance(table.c[name].type, DateTime):
            values[name] = datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(table.c[name].type, Date):
            values[name] = date.fromisoformat(value)
    return values


def import_organisation(
    *, db: Session, data: dict[str, Any], name: str | None = None
) -> Organisation:
    """Create an organisation from an export, in one transaction.

    Parameters
    ----------
    db
        An unbound session.
    data
        What :func:`export_organisation` returned (parsed JSON).
    name
        Import under this name instead of the exported one.

    Returns
    -------
    Organisation
        The new organisation (it has no API keys yet).

    Raises
    ------
    ConflictError
        An organisation with that name exists.
    InvalidInputError
        The document is not a kring export of this version, or names unknown tables or
        columns; nothing is written.
    """
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise invalid("format", "problem.invalid-input.backup_format", format=FORMAT,
                      version=VERSION)  # fmt: skip
    org_name = name or data["organisation"]["name"]
    if find_organisation(db=db, name=org_name) is not None:  # names are unique in any case
        raise said(ConflictError, "problem.conflict.organisation_name", name=repr(org_name))
    known = {t.name for t in _owned_tables()}
    unknown = set(data["tables"]) - known
    if unknown:
        raise invalid("tables", "problem.invalid-input.backup_tables",
                      tables=", ".join(sorted(unknown)), count=len(unknown))  # fmt: skip
    try:
        org = Organisation(name=org_name)
        db.add(org)
        db.flush()
        new_ids: dict[str, dict[int, int]] = {}
        for table in _owned_tables():
            new_ids[table.name] = _insert_rows(
                db, table, data["tables"].get(table.name, []), org.id, new_ids
            )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return org


def _insert_rows(
    db: Session,
    table: Table,
    records: list[dict[str, Any]],
    org_id: int,
    new_ids: dict[str, dict[int, int]],
) -> dict[int, int]:
    fks = _foreign_keys(table)
    mapping: dict[int, int] = {}
    for record in records:
        values = _decode(table, record)
        old = values.pop("id")
        for column, target in fks.items():
            if values.get(column) is not None:
                values[column] = new_ids.get(target, {}).get(values[column])
        values[ORG_KEY] = org_id
        mapping[old] = db.execute(insert(table).values(**values)).inserted_primary_key[0]
    return mapping
