"""Competitor and partner links between the caller's firms."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from app.config import Settings
from app.convert import validate_pairs
from app.errors import NotFoundError
from app.models import CompetitorLink, Firm, LinkSource, PartnerLink, utcnow
from app.services.firms import (
    UPSERT_BATCH,
    check_row_limit,
    data_rows,
    dialect_insert,
    table_of,
)
from app.services.organisations import Caller
from matching import read_pairs_csv

LinkModel = type[CompetitorLink] | type[PartnerLink]
log = structlog.get_logger("kring.links")


def _firm_ids(db: Session) -> dict[str, int]:
    return dict(db.execute(select(Firm.external_id, Firm.id)).all())


def _store(
    db: Session, caller: Caller, model: LinkModel, pairs: list[tuple[str, str]], ids: dict[str, int]
) -> tuple[int, int]:
    """Insert the new pairs in one transaction; return ``(created, already stored)``.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id``: a pair stored meanwhile by a
    concurrent request counts as existing instead of failing on the unique constraint;
    pairs go in id order, so concurrent inserts on PostgreSQL lock in one order.
    """
    wanted = sorted({tuple(sorted((ids[a], ids[b]))) for a, b in pairs})
    table = table_of(model)
    now = utcnow()
    if not wanted:
        return 0, 0
    rows = [
        {"organisation_id": caller.organisation_id, "firm_a_id": a, "firm_b_id": b,
         "source": LinkSource.declared, "created_at": now}
        for a, b in wanted
    ]  # fmt: skip
    statement = (
        dialect_insert(db=db, table=table)
        .on_conflict_do_nothing(
            index_elements=[table.c.organisation_id, table.c.firm_a_id, table.c.firm_b_id]
        )
        .returning(table.c.id)
        .execution_options(insertmanyvalues_page_size=UPSERT_BATCH)
    )
    created = len(db.execute(statement, rows).all())
    db.commit()
    log.info("links_added", table=model.__tablename__, created=created)
    return created, len(wanted) - created


def add_links_json(
    *,
    db: Session,
    caller: Caller,
    model: LinkModel,
    pairs: list[dict[str, Any]],
    settings: Settings,
) -> tuple[int, int]:
    """Validate JSON pairs (unknown ids, self-pairs) and store the new ones."""
    check_row_limit(count=len(pairs), settings=settings)
    ids = _firm_ids(db)
    valid = validate_pairs(pairs, source="request body", known_ids=set(ids))
    return _store(db, caller, model, valid, ids)


def add_links_csv(
    *, db: Session, caller: Caller, model: LinkModel, text: str, filename: str, settings: Settings
) -> tuple[int, int]:
    """Validate a ``sme_a,sme_b`` CSV and store the new pairs."""
    check_row_limit(count=data_rows(text), settings=settings)
    ids = _firm_ids(db)
    valid = read_pairs_csv(text, source=filename or "upload.csv", known_ids=set(ids))
    return _store(db, caller, model, valid, ids)


def _pairs_query(model: LinkModel) -> Any:
    a, b = aliased(Firm), aliased(Firm)
    return (
        select(a.external_id, b.external_id, model.source, model.created_at)
        .join(a, a.id == model.firm_a_id)
        .join(b, b.id == model.firm_b_id)
    )


def list_links(
    *, db: Session, model: LinkModel, limit: int, offset: int
) -> tuple[list[tuple[str, str, str, Any]], int]:
    """Return one page of pairs as external ids, and the total."""
    total = db.scalar(select(func.count()).select_from(model)) or 0
    rows = db.execute(_pairs_query(model).order_by(model.id).limit(limit).offset(offset))
    return [(a, b, s, t) for a, b, s, t in rows.all()], total


def remove_link(*, db: Session, model: LinkModel, sme_a: str, sme_b: str) -> None:
    """Delete the pair ``{sme_a, sme_b}`` (either order) or raise 404."""
    ids = dict(
        db.execute(
            select(Firm.external_id, Firm.id).where(Firm.external_id.in_([sme_a, sme_b]))
        ).all()
    )
    if sme_a not in ids or sme_b not in ids:
        raise NotFoundError("link", f"{sme_a}-{sme_b}")
    x, y = sorted((ids[sme_a], ids[sme_b]))
    link = db.scalar(select(model).where(and_(model.firm_a_id == x, model.firm_b_id == y)))
    if link is None:
        raise NotFoundError("link", f"{sme_a}-{sme_b}")
    db.delete(link)
    db.commit()


def links_of(*, db: Session, model: LinkModel, firm_ids: set[int]) -> list[tuple[int, int]]:
    """Return the stored pairs whose both firms are in ``firm_ids``."""
    rows = db.execute(select(model.firm_a_id, model.firm_b_id)).all()
    return [(a, b) for a, b in rows if a in firm_ids and b in firm_ids] if firm_ids else []
