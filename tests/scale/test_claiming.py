"""Run claiming under concurrency, on SQLite and (with KRING_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select

from app.db import dispose_engine, open_session
from app.migrate import upgrade
from app.models import Organisation, Role, Run, RunStatus
from app.services.runs import claim_next
from tests.app.conftest import issue_key, make_settings


def test_concurrent_claimers_take_each_queued_run_exactly_once(tmp_path: Path) -> None:
    """Six threads claiming 30 queued runs claim every run once, none twice (SKIP LOCKED)."""
    settings = make_settings(tmp_path / "claim.db")
    upgrade(settings)
    issue_key(settings, "north", Role.member)
    with open_session(settings) as db:
        org_id = db.scalar(select(Organisation.id))
        assert org_id is not None
        db.add_all(
            Run(organisation_id=org_id, purpose="training", params={}, filters={})
            for _ in range(30)
        )
        db.commit()
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer() -> None:
        while (run_id := claim_next(settings)) is not None:
            with lock:
                claimed.append(run_id)

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with open_session(settings) as db:
        statuses = db.scalars(select(Run.status)).all()
        attempts = db.scalars(select(Run.attempts)).all()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 30
    assert set(statuses) == {RunStatus.running} and set(attempts) == {1}
    assert claim_next(settings) is None
    dispose_engine(settings.database_url)
