"""Two members of one organisation uploading the same new firms or pairs at the same moment,
against a real server process (SQLite file, or PostgreSQL under ``make test-postgres``)."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db import dispose_engine, open_session
from app.migrate import upgrade
from app.models import CompetitorLink, Firm, Role
from bench.loadtest import Server, free_port
from matching.sme.firms import Firm as ValidFirm
from matching.sme.firms import firms_to_csv, pairs_to_csv
from matching.sme.generate import generate_cohort
from tests.app.conftest import auth, issue_key, make_settings

N_FIRMS = 1500


@dataclass
class Live:
    """A running server on the test database and two member keys of organisation "north"."""

    settings: Settings
    base: str
    keys: tuple[str, str]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """``kring serve`` in a subprocess on a freshly migrated test database."""
    settings = make_settings(tmp_path / "race.db")
    upgrade(settings)
    keys = (issue_key(settings, "north", Role.member), issue_key(settings, "north", Role.member))
    dispose_engine(settings.database_url)
    env = {**os.environ, "KRING_DATABASE_URL": settings.database_url, "KRING_EXECUTOR": "inline",
           "KRING_API_KEY_PEPPER": "test-pepper", "KRING_LOG_LEVEL": "WARNING"}  # fmt: skip
    server = Server(env, free_port(), tmp_path / "server.log")
    try:
        server.wait_ready()
        yield Live(settings, server.base, keys)
    finally:
        server.stop()
        dispose_engine(settings.database_url)


def at_once(live: Live, send: Callable[[httpx.Client, int], httpx.Response]) -> list[Any]:
    """Let two threads (one per key, own connection) send their request at the same moment."""
    barrier = threading.Barrier(2)
    out: list[Any] = [None, None]

    def client(n: int) -> None:
        with httpx.Client(base_url=live.base, headers=auth(live.keys[n]), timeout=120) as c:
            c.get("/api/v1/me").raise_for_status()  # connected and authenticated before
            barrier.wait(30)
            r = send(c, n)
            out[n] = (r.status_code, r.json())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return out


def _record(firm: ValidFirm, name: str) -> dict[str, Any]:
    return {
        "external_id": firm.external_id, "name": name, "postcode": firm.postcode,
        "sbi_code": firm.sbi_code, "employees": firm.employees,
        "digital_level": firm.digital_level, "needs": list(firm.needs),
    }  # fmt: skip


def _stored_names(settings: Settings) -> dict[str, str]:
    with open_session(settings) as db:
        return dict(db.execute(select(Firm.external_id, Firm.name)).all())


@pytest.mark.slow
def test_same_new_firms_upserted_at_once_by_two_members_never_fail(live: Live) -> None:
    """Two members POST /firms then /firms/import with the same 1,500 new ids at once: both 200,
    created + updated add up exactly, no duplicates, every row written by one whole request."""
    cohort = generate_cohort(2 * N_FIRMS, seed=3)
    rounds: list[tuple[list[ValidFirm], Callable[[httpx.Client, int], httpx.Response]]] = []
    json_firms, csv_firms = cohort.firms[:N_FIRMS], cohort.firms[N_FIRMS:]
    rounds.append(
        (
            json_firms,
            lambda c, n: c.post("/api/v1/firms", json=[_record(f, f"key{n}") for f in json_firms]),
        )
    )
    csv_texts = [
        firms_to_csv([dataclasses.replace(f, name=f"key{n}") for f in csv_firms]) for n in range(2)
    ]
    rounds.append(
        (
            csv_firms,
            lambda c, n: c.post(
                "/api/v1/firms/import", files={"file": ("s.csv", csv_texts[n], "text/csv")}
            ),
        )
    )
    for firms, send in rounds:
        answers = at_once(live, send)
        assert [status for status, _ in answers] == [200, 200], answers
        bodies = [body for _, body in answers]
        assert sum(b["created"] for b in bodies) == N_FIRMS
        assert sum(b["updated"] for b in bodies) == N_FIRMS
        names = _stored_names(live.settings)
        ids = {f.external_id for f in firms}
        assert ids <= names.keys()
        assert len({names[i] for i in ids}) == 1  # the later request won on every row
    with open_session(live.settings) as db:
        assert db.scalar(select(func.count()).select_from(Firm)) == 2 * N_FIRMS


@pytest.mark.slow
def test_same_new_pairs_added_at_once_by_two_members_never_fail(live: Live) -> None:
    """Two members POST the same 1,500 new competitor pairs at once: both 200, each pair stored
    once, created counts add up to 1,500."""
    cohort = generate_cohort(600, seed=4)
    with httpx.Client(base_url=live.base, headers=auth(live.keys[0]), timeout=120) as c:
        files = {"file": ("s.csv", firms_to_csv(cohort.firms), "text/csv")}
        c.post("/api/v1/firms/import", files=files).raise_for_status()
    ids = [f.external_id for f in cohort.firms]
    pairs = [(ids[i], ids[(i + k) % len(ids)]) for k in (1, 2, 3) for i in range(500)]
    text = pairs_to_csv(pairs)
    answers = at_once(
        live, lambda c, n: c.post("/api/v1/competitors", files={"file": ("p.csv", text)})
    )
    assert [status for status, _ in answers] == [200, 200], answers
    assert sum(body["created"] for _, body in answers) == len(pairs) == 1500
    assert sum(body["existing"] for _, body in answers) == 1500
    with open_session(live.settings) as db:
        assert db.scalar(select(func.count()).select_from(CompetitorLink)) == 1500
