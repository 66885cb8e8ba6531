"""Repeated failed authentications from one client address answer 429 with Retry-After."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings, get_settings
from app.db import dispose_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import Role
from tests.app.conftest import auth, issue_key, make_settings

ATTACKER, COLLEAGUE = ("127.0.0.2", 40000), ("127.0.0.3", 40000)


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[Settings]:
    """A migrated database with the default limit (20) and a 1.5-second window."""
    settings = make_settings(tmp_path / "kring.db", auth_failure_window_s=1.5)
    upgrade(settings)
    yield settings
    dispose_engine(settings.database_url)


def _clients(settings: Settings) -> tuple[TestClient, TestClient]:
    """Two clients of one app, from two client addresses."""
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app, client=ATTACKER), TestClient(app, client=COLLEAGUE)


def test_500_wrong_keys_are_throttled_and_other_clients_are_not(throttled: Settings) -> None:
    """After 20 refused keys one address gets 429 + Retry-After; a right key elsewhere works."""
    good = issue_key(throttled, "north", Role.member)
    attacker, colleague = _clients(throttled)
    with attacker, colleague:
        codes = []
        for i in range(500):
            r = attacker.get(
                "/api/v1/runs", headers={**auth(f"kr_wrong-{i:04d}"), "Accept-Language": "en"}
            )
            codes.append(r.status_code)
        assert codes[:20] == [401] * 20
        assert set(codes[20:]) == {429}
        assert r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["retry-after"]) <= 2
        assert r.json()["status"] == 429 and "try again" in r.json()["detail"]
        # another address with a right key is unaffected, also while the attack goes on
        assert colleague.get("/api/v1/runs", headers=auth(good)).status_code == 200
        assert colleague.get("/api/v1/runs", headers=auth("kr_typo")).status_code == 401
        assert colleague.get("/api/v1/runs", headers=auth(good)).status_code == 200
        # the throttled address: keys are not even checked; requests without a key pass
        assert attacker.get("/api/v1/runs", headers=auth(good)).status_code == 429
        assert attacker.get("/health").status_code == 200
        time.sleep(1.6)  # quiet for the window: the right key works again from there too
        assert attacker.get("/api/v1/runs", headers=auth(good)).status_code == 200


def test_successful_keys_never_count(throttled: Settings) -> None:
    """Hundreds of requests with a right key, a few wrong ones between: never 429."""
    good = issue_key(throttled, "north", Role.viewer)
    attacker, _ = _clients(throttled)
    with attacker:
        for i in range(300):
            key = "kr_wrong" if i % 20 == 0 else good  # 15 failures in all, below the limit
            r = attacker.get("/api/v1/me", headers=auth(key))
            assert r.status_code == (401 if key != good else 200), i
