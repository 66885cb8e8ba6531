"""Firm registry: bulk upsert, CSV import, listing, update and GDPR erasure.

Every query runs on a session scoped to the caller's organisation (see
:func:`app.models.bind_organisation`), so these functions never filter by organisation
themselves; they only stamp it on new rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import String, Table, cast, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.config import Settings
from app.convert import firm_values, row_to_record, validate_firm_records
from app.errors import NotFoundError, invalid
from app.models import (
    CompetitorLink,
    Firm,
    Group,
    GroupMember,
    PartnerLink,
    Run,
    UnassignedFirm,
    utcnow,
)
from app.services.organisations import Caller
from app.services.privacy import erase_traces
from matching import Firm as ValidFirm
from matching import read_firms_csv, read_firms_rows

log = structlog.get_logger("kring.firms")
UPSERT_BATCH = 500  # rows per INSERT statement (SQLAlchemy pages an executemany)


def check_row_limit(*, count: int, settings: Settings) -> None:
    """Raise 422 when a request carries more rows than ``settings.max_rows``."""
    if count > settings.max_rows:
        raise invalid("rows", "problem.invalid-input.too_many_rows", count=count,
                      limit=settings.max_rows)  # fmt: skip


def data_rows(text: str) -> int:
    """Lines after the header of a CSV text with ``\\n`` line ends (a last one or not)."""
    return text.rstrip("\n").count("\n")


def dialect_insert(*, db: Session, table: Table) -> sqlite.Insert | postgresql.Insert:
    """``INSERT`` with ``ON CONFLICT`` for the session's database (SQLite or PostgreSQL)."""
    name = db.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts need SQLite or PostgreSQL, not {name}")


def table_of(model: type[Any]) -> Table:
    """The Core ``Table`` of an ORM class (for dialect-specific ``INSERT`` statements)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _same_instant(stored: datetime, stamp: datetime) -> bool:
    if stored.tzinfo is None:  # SQLite returns naive UTC
        stored = stored.replace(tzinfo=UTC)
    return stored == stamp


def _store(
    db: Session, caller: Caller, firms: Sequence[ValidFirm], consent: Mapping[str, bool] | None
) -> tuple[int, int]:
    """Upsert ``firms`` in one transaction; return ``(created, updated)``.

    ``INSERT … ON CONFLICT (organisation_id, external_id) DO UPDATE``, so two
    requests writing the same new ids at once both succeed (the later one updates) instead
    of one failing on the unique constraint.  Rows go in external-id order: concurrent
    upserts on PostgreSQL take their row locks in one order and cannot deadlock.  A row
    counts as created when its ``created_at`` is this request's stamp (an update keeps the
    old one).  ``consent`` None (CSV): new firms do not consent, stored ones keep theirs.
    """
    stamp = utcnow()
    table = table_of(Firm)
    rows = []
    for firm in sorted(firms, key=lambda f: f.external_id):
        shares = (consent or {}).get(firm.external_id, False)
        rows.append(
            {
                **firm_values(firm),
                "organisation_id": caller.organisation_id,
                "consent_to_share": shares,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    if not rows:
        return 0, 0
    kept = {"organisation_id", "created_at"} | ({"consent_to_share"} if consent is None else set())
    insert = dialect_insert(db=db, table=table)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.organisation_id, table.c.external_id],
        set_={c: insert.excluded[c] for c in rows[0] if c not in kept},
    ).returning(table.c.created_at)
    statement = statement.execution_options(insertmanyvalues_page_size=UPSERT_BATCH)
    created = sum(1 for (at,) in db.execute(statement, rows) if _same_instant(at, stamp))
    db.commit()
    return created, len(rows) - created


def upsert_firms(
    *, db: Session, caller: Caller, records: list[dict[str, Any]], settings: Settings
) -> tuple[int, int, list[str]]:
    """Validate every record, then create or update them all (nothing on any error)."""
    check_row_limit(count=len(records), settings=settings)
    firms = validate_firm_records(records, source="request body")
    consent = {r["external_id"]: bool(r.get("consent_to_share")) for r in records}
    created, updated = _store(db, caller, firms, consent)
    log.info(
        "firms_upserted", organisation_id=caller.organisation_id, created=created, updated=updated
    )
    return created, updated, [f.external_id for f in firms]


def import_firms_csv(
    *, db: Session, caller: Caller, text: str, filename: str, settings: Settings
) -> tuple[int, int, list[str]]:
    """Import an SMES.csv text; any bad row rejects the whole file."""
    check_row_limit(count=data_rows(text), settings=settings)
    return _import(db, caller, read_firms_csv(text, source=filename or "upload.csv"))


def import_firm_rows(
    *, db: Session, caller: Caller, rows: list[list[str]], source: str
) -> tuple[int, int, list[str]]:
    """Import the rows of a file read by :func:`matching.sme.tabular.read_table` (header first,
    its row limit already applied); any bad row rejects the whole file."""
    return _import(db, caller, read_firms_rows(rows, source=source))


def _import(db: Session, caller: Caller, firms: Sequence[ValidFirm]) -> tuple[int, int, list[str]]:
    created, updated = _store(db, caller, firms, None)
    log.info(
        "firms_imported", organisation_id=caller.organisation_id, created=created, updated=updated
    )
    return created, updated, [f.external_id for f in firms]


def get_firm(*, db: Session, external_id: str) -> Firm:
    """Return the caller's firm ``external_id`` or raise 404."""
    row = db.scalar(select(Firm).where(Firm.external_id == external_id))
    if row is None:
        raise NotFoundError("firm", external_id)
    return row


def list_firms(
    *, db: Session, filters: Mapping[str, str | None], limit: int, offset: int
) -> tuple[list[Firm], int]:
    """Return one page of firms matching ``filters`` and the total count."""
    query = select(Firm)
    if province := filters.get("province"):
        query = query.where(func.lower(Firm.province) == province.lower())
    if gemeente := filters.get("gemeente"):
        query = query.where(
            or_(Firm.gemeente_code == gemeente, func.lower(Firm.gemeente_name) == gemeente.lower())
        )
    if need := filters.get("need"):
        query = query.where(cast(Firm.needs, String).like(f'%"{need}"%'))
    if sbi := filters.get("sbi"):
        query = query.where(Firm.sbi_code.startswith(sbi.replace(".", ""), autoescape=True))
    if text := filters.get("q"):
        pattern = f"%{text.lower()}%"
        query = query.where(
            or_(func.lower(Firm.name).like(pattern), func.lower(Firm.external_id).like(pattern))
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Firm.external_id).limit(limit).offset(offset)).all()
    return list(rows), total


def update_firm(*, db: Session, external_id: str, changes: dict[str, Any]) -> Firm:
    """Apply ``changes`` to one firm, re-validating and re-geocoding the merged record."""
    row = get_firm(db=db, external_id=external_id)
    record = row_to_record(row)
    if "postcode" in changes and not {"lat", "lon"} & changes.keys():
        record.pop("lat", None), record.pop("lon", None)
    consent = changes.pop("consent_to_share", None)
    record.update(changes)
    (firm,) = validate_firm_records([record], source=f"firm {external_id}")
    for key, value in firm_values(firm).items():
        setattr(row, key, value)
    if consent is not None:
        row.consent_to_share = consent
    db.commit()
    return row


def _scrub_history(db: Session, firm_id: int, external_id: str) -> None:
    """Remove the external id from stored group details and run filters."""
    groups = db.scalars(
        select(Group).where(  # IN, not DISTINCT: PostgreSQL's json has no equality
            Group.id.in_(select(GroupMember.group_id).where(GroupMember.firm_id == firm_id))
        )
    )
    for group in groups:
        pair = (group.details or {}).get("diameter_pair")
        if isinstance(pair, list) and external_id in pair:
            erased = [None if e == external_id else e for e in pair]
            group.details = {**(group.details or {}), "diameter_pair": erased}
    pattern = f"%{json.dumps(external_id)}%"
    for run in db.scalars(select(Run).where(cast(Run.filters, String).like(pattern))):
        ids = run.filters.get("external_ids") or []
        if external_id in ids:
            run.filters = {**run.filters, "external_ids": [i for i in ids if i != external_id]}


def erase_firm(*, db: Session, external_id: str) -> None:
    """GDPR erasure: delete the firm and its links; runs keep an anonymous 'erased' member."""
    row = get_firm(db=db, external_id=external_id)
    erase_traces(
        db=db, firm=row
    )  # outlines without it; name and KvK redacted (services/privacy.py)
    _scrub_history(db, row.id, external_id)
    now = utcnow()
    scrub = {"firm_id": None, "external_id": None, "erased_at": now}
    db.execute(
        update(GroupMember).where(GroupMember.firm_id == row.id).values(**scrub, lat=None, lon=None)
    )
    db.execute(update(UnassignedFirm).where(UnassignedFirm.firm_id == row.id).values(**scrub))
    for link in (CompetitorLink, PartnerLink):
        db.execute(delete(link).where(or_(link.firm_a_id == row.id, link.firm_b_id == row.id)))
    db.delete(row)
    db.commit()
    log.info("firm_erased", firm_id=row.id)
