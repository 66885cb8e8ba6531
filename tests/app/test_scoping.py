"""The one organisation-scoping mechanism: a session bound to an organisation sees only it."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from app.config import Settings
from app.db import open_session
from app.models import Firm, Organisation, bind_organisation


def _firm(org_id: int, external_id: str) -> Firm:
    return Firm(
        organisation_id=org_id,
        external_id=external_id,
        name="x",
        postcode="9711",
        pc4="9711",
        lat=53.2,
        lon=6.56,
        precision="pc4",
        needs=["dig.basics"],
    )


def test_bound_session_filters_select_update_and_delete(settings: Settings) -> None:
    """SELECT, UPDATE and DELETE on a bound session never touch another organisation's rows."""
    with open_session(settings) as db:
        a, b = Organisation(name="a"), Organisation(name="b")
        db.add_all([a, b])
        db.flush()
        db.add_all([_firm(a.id, "same"), _firm(b.id, "same"), _firm(b.id, "only-b")])
        db.commit()
        a_id, b_id = a.id, b.id
    with open_session(settings) as db:
        bind_organisation(db, a_id)
        assert db.scalars(select(Firm.external_id)).all() == ["same"]
        assert db.scalar(select(Firm).where(Firm.external_id == "only-b")) is None
        db.execute(update(Firm).values(employees=7))
        db.execute(delete(Firm).where(Firm.external_id == "same"))
        db.commit()
    with open_session(settings) as db:  # unbound: sees everything
        rows = db.execute(select(Firm.organisation_id, Firm.external_id, Firm.employees)).all()
        assert sorted(map(tuple, rows)) == [(b_id, "only-b", None), (b_id, "same", None)]
        assert db.scalar(select(func.count()).select_from(Firm)) == 2
