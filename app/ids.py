"""Opaque row ids: random integers instead of a sequence for rows whose ids callers see.

Runs, profiles, audit entries and API keys keep integer primary keys, but a new
row's id is drawn uniformly from ``[LOW, HIGH]`` with :mod:`secrets` (it fits PostgreSQL's
``integer`` and SQLite's), so neither the order nor the gaps of the ids a caller sees say
anything about another organisation's activity.  An id is never handed out twice: a draw is
retried while the id exists in its table or an audit entry names it as its subject (so an
audit entry names the row it was about, also after that row was deleted).  Two transactions
drawing the same free id at the same moment (about one in 2**31 per pair) are caught by the
primary key: the second insert fails and is not half-written.

The draw is a column default (:func:`column_default`), so ORM flushes and Core inserts
(``kring admin import``) get it alike.  Ids no caller sees stay sequential (groups, named
by run and number; profile versions, named by number; run windows; members; firms, named
by external id).  Organisation ids stay sequential too: a caller sees only its own, whose
value says only how many organisations were created before it, not what they do.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, column, literal, select, table, union_all

LOW = 1_000_000
HIGH = 2**31 - 1
ATTEMPTS = 64

# Table -> the audit ``resource`` whose ``resource_id`` names its rows (None: not audited
# by id).  Groups are named by their run and number ("run R group N"), never by their id.
RANDOM_TABLES: dict[str, str | None] = {
    "run": "run",
    "profile": "profile",
    "audit_entry": None,
    "api_key": None,
}

_audit = table("audit_entry", column("resource"), column("resource_id"))


class IdSpaceExhaustedError(RuntimeError):
    """No free id was found in the allowed range (only possible with a tiny test range)."""


def _taken(conn: Connection, table_name: str, candidate: int) -> bool:
    """Whether ``candidate`` is a row of ``table_name`` or the subject of an audit entry."""
    rows = table(table_name, column("id"))
    checks = [select(literal(1)).where(rows.c.id == candidate)]
    resource = RANDOM_TABLES.get(table_name)
    if resource is not None:
        checks.append(
            select(literal(1)).where(
                _audit.c.resource == resource, _audit.c.resource_id == str(candidate)
            )
        )
    query = checks[0] if len(checks) == 1 else union_all(*checks)
    return conn.execute(query.limit(1)).first() is not None


def new_id(
    conn: Connection,
    table_name: str,
    *,
    low: int = LOW,
    high: int = HIGH,
    below: Callable[[int], int] = secrets.randbelow,
) -> int:
    """A random id in ``[low, high]`` never used in ``table_name`` nor named by the audit.

    Parameters
    ----------
    conn
        The connection of the inserting transaction (so its own uncommitted rows count).
    table_name
        One of :data:`RANDOM_TABLES`.
    low, high
        The inclusive range (tests pass a tiny one to force collisions).
    below
        ``below(n)`` returns a uniform integer in ``[0, n)``; :func:`secrets.randbelow`.

    Raises
    ------
    IdSpaceExhaustedError
        :data:`ATTEMPTS` draws in a row were taken.
    """
    for _ in range(ATTEMPTS):
        candidate = low + below(high - low + 1)
        if not _taken(conn, table_name, candidate):
            return candidate
    raise IdSpaceExhaustedError(f"no free {table_name} id in [{low}, {high}]")


def column_default(table_name: str) -> Callable[[Any], int]:
    """A ``mapped_column(default=...)`` callable drawing :func:`new_id` for ``table_name``."""
    if table_name not in RANDOM_TABLES:
        raise ValueError(f"{table_name} has sequential ids")

    def draw(context: Any) -> int:
        return new_id(context.connection, table_name)

    return draw
