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
        while (run_id := claim_next(settings=settings)) is not None:
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
    assert claim_next(settings=settings) is None
    dispose_engine(settings.database_url)


def test_a_run_waits_for_windows_then_repair_parts_then_the_merge(tmp_path: Path) -> None:
    """pending_work: unfinished windows first, then the merge's repair parts, then the merge;
    the service's part numbering is the matching library's."""
    from app.models import RunWindow
    from app.services import distributed
    from matching.engines.distributed import REPAIR_BASE

    assert distributed.REPAIR_BASE == REPAIR_BASE
    settings = make_settings(tmp_path / "stages.db")
    upgrade(settings)
    issue_key(settings, "north", Role.member)
    with open_session(settings) as db:
        org_id = db.scalar(select(Organisation.id))
        run = Run(organisation_id=org_id, purpose="training", params={}, filters={})
        db.add(run)
        db.flush()
        numbers = [0, 1, distributed.MERGE]
        db.add_all(RunWindow(run_id=run.id, number=n, plan={}) for n in numbers)
        db.flush()

        def finish(number: int) -> None:
            row = db.scalar(select(RunWindow).where(RunWindow.number == number))
            assert row is not None
            row.status = "done"
            db.flush()

        assert distributed.pending_work(db=db, run_id=run.id) == [0, 1]
        finish(1)
        assert distributed.pending_work(db=db, run_id=run.id) == [0]
        finish(0)
        assert distributed.pending_work(db=db, run_id=run.id) == [distributed.MERGE]
        parts = [REPAIR_BASE, REPAIR_BASE - 1]
        db.add_all(RunWindow(run_id=run.id, number=n, plan={}) for n in parts)
        db.flush()
        assert distributed.pending_work(db=db, run_id=run.id) == sorted(parts)
        finish(REPAIR_BASE - 1)
        finish(REPAIR_BASE)
        assert distributed.pending_work(db=db, run_id=run.id) == [distributed.MERGE]
        finish(distributed.MERGE)
        assert distributed.pending_work(db=db, run_id=run.id) == []
    dispose_engine(settings.database_url)
