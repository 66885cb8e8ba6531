"""The ``make demo`` data: a demo organisation, two keys, a northern cohort and a first run.

The keys: a ``manager`` key for a programme manager (accept or reject groups, profiles,
the audit log, and everything a member does) and a ``member`` key (import firms and
pairs, start and cancel runs, read groups).

Loading goes through the same services as the API (CSV import, competitor upload), so the
demo exercises the real path.  Calling it again reuses the organisation, firms and run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.config import Settings
from app.db import open_session
from app.models import CompetitorLink, Firm, PartnerLink, Role, Run, RunStatus, bind_organisation
from app.schemas import RunCreate
from app.services import firms, links, runs
from app.services.organisations import Caller, create_key, create_organisation, find_organisation
from matching import firms_to_csv, generate_cohort, pairs_to_csv

DEMO_ORG = "demo"
DEMO_PROVINCES = ("Groningen", "Fryslân", "Drenthe")
DEMO_SEED = 2026
MANAGER_HOLDER = "demo programme manager"
MEMBER_HOLDER = "demo member"


@dataclass(frozen=True)
class DemoInfo:
    """What :func:`prepare_demo` set up."""

    organisation: str
    key: str  # the member key
    manager_key: str
    firms: int
    competitors: int
    run_id: int
    run_status: str


def prepare_demo(settings: Settings, *, n_firms: int, time_limit_s: float) -> DemoInfo:
    """Create (or reuse) the demo organisation, load the cohort, queue the first run."""
    with open_session(settings) as db:
        org = find_organisation(db=db, name=DEMO_ORG)
        if org is None:
            manager = create_organisation(
                db=db,
                name=DEMO_ORG,
                role=Role.manager,
                settings=settings,
                holder=MANAGER_HOLDER,
                label="make demo",
            )
            org = find_organisation(db=db, name=DEMO_ORG)
            assert org is not None
        else:
            manager = create_key(
                db=db,
                organisation=org,
                role=Role.manager,
                settings=settings,
                holder=MANAGER_HOLDER,
                label="make demo",
            )
        issued = create_key(
            db=db,
            organisation=org,
            role=Role.member,
            settings=settings,
            holder=MEMBER_HOLDER,
            label="make demo",
        )
        db.commit()
        caller = Caller(issued.organisation_id, Role.member, issued.key_id, issued.holder)
        bind_organisation(db, caller.organisation_id)
        if not db.scalar(select(func.count()).select_from(Firm)):
            cohort = generate_cohort(n_firms, DEMO_PROVINCES, seed=DEMO_SEED)
            firms.import_firms_csv(
                db=db,
                caller=caller,
                text=firms_to_csv(cohort.firms),
                filename="demo.csv",
                settings=settings,
            )
            for model, pairs, name in (
                (CompetitorLink, cohort.competitors, "demo-competitors.csv"),
                (PartnerLink, cohort.partners, "demo-partners.csv"),
            ):
                links.add_links_csv(
                    db=db,
                    caller=caller,
                    model=model,
                    text=pairs_to_csv(pairs),
                    filename=name,
                    settings=settings,
                )
        run = db.scalar(
            select(Run)
            .where(Run.status != RunStatus.failed)
            .order_by(Run.created_at.desc())
            .limit(1)
        )
        if run is None:
            body = RunCreate(purpose="training", time_limit_s=time_limit_s, seed=0)
            run = runs.create_run(db=db, caller=caller, body=body, settings=settings)
        n = db.scalar(select(func.count()).select_from(Firm)) or 0
        c = db.scalar(select(func.count()).select_from(CompetitorLink)) or 0
        return DemoInfo(DEMO_ORG, issued.key, manager.key, n, c, run.id, run.status.value)
