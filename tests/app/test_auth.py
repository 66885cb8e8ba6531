"""API keys, roles, organisation scoping (cross-organisation access is 404), health."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import open_session
from app.models import ApiKey
from app.openapi import SPEC_PATH, render
from tests.app.conftest import auth, client_for, make_settings
from tests.app.test_firms import firm
from tests.app.test_keys import platform_key


def test_missing_or_wrong_key_is_401(client: TestClient, keys: dict[str, str]) -> None:
    """No key or an unknown key answers 401 problem+json."""
    for headers in ({}, auth("kr_not-a-key")):
        r = client.get("/api/v1/runs", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"


def test_keys_are_stored_hashed(settings: Settings, keys: dict[str, str]) -> None:
    """Only a 64-hex-digit hash of each key is stored; keys carry >= 128 random bits."""
    with open_session(settings) as db:
        hashes = set(db.scalars(select(ApiKey.key_hash)))
    for key in keys.values():
        assert key not in hashes
        assert len(key) >= 3 + 22  # prefix + >= 128 bits in URL-safe base64
    assert all(len(h) == 64 for h in hashes)


def test_me_reports_organisation_and_role(client: TestClient, keys: dict[str, str]) -> None:
    """GET /me names the key's organisation and role."""
    r = client.get("/api/v1/me", headers=auth(keys["viewer"]))
    assert r.json()["organisation_name"] == "north"
    assert r.json()["role"] == "viewer"


def test_viewer_cannot_write(client: TestClient, keys: dict[str, str]) -> None:
    """A viewer key gets 403 on firm, link and run writes but may read runs."""
    h = auth(keys["viewer"])
    assert client.post("/api/v1/firms", json=[firm()], headers=h).status_code == 403
    assert client.post("/api/v1/competitors", json=[], headers=h).status_code == 403
    assert client.post("/api/v1/runs", json={}, headers=h).status_code == 403
    assert client.get("/api/v1/runs", headers=h).status_code == 200


def test_member_cannot_create_keys_or_organisations(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    """Only admins create keys, only platform admins organisations; new keys work at once."""
    for role in ("member", "manager"):
        h = auth(keys[role])
        assert client.post("/api/v1/api-keys", json={}, headers=h).status_code == 403
        assert (
            client.post("/api/v1/organisations", json={"name": "x"}, headers=h).status_code == 403
        )
    body = {"name": "east", "role": "member", "holder": "Eva Oost"}
    ordinary = client.post("/api/v1/organisations", json=body, headers=auth(keys["admin"]))
    assert ordinary.status_code == 403
    platform = auth(platform_key(settings))
    r = client.post("/api/v1/organisations", json=body, headers=platform)
    assert r.status_code == 201
    new_key = r.json()["key"]
    assert client.get("/api/v1/me", headers=auth(new_key)).json()["organisation_name"] == "east"
    dup = client.post("/api/v1/organisations", json=body, headers=platform)
    assert dup.status_code == 409
    k = client.post(
        "/api/v1/api-keys", json={"role": "viewer", "holder": "Vera"}, headers=auth(keys["admin"])
    )
    assert k.status_code == 201
    assert client.get("/api/v1/me", headers=auth(k.json()["key"])).json()["role"] == "viewer"


def test_other_organisation_firms_and_links_are_404(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Firms and links of another organisation are invisible: 404, never 403."""
    mine, theirs = auth(keys["member"]), auth(keys["other"])
    client.post("/api/v1/firms", json=[firm("a"), firm("b")], headers=mine)
    assert (
        client.post(
            "/api/v1/competitors", json=[{"sme_a": "a", "sme_b": "b"}], headers=mine
        ).status_code
        == 200
    )
    for method in ("get", "delete"):
        assert getattr(client, method)("/api/v1/firms/a", headers=theirs).status_code == 404
    assert client.patch("/api/v1/firms/a", json={"employees": 1}, headers=theirs).status_code == 404
    assert client.get("/api/v1/firms", headers=theirs).json()["total"] == 0
    assert client.get("/api/v1/competitors", headers=theirs).json()["total"] == 0
    gone = client.delete("/api/v1/competitors", params={"sme_a": "a", "sme_b": "b"}, headers=theirs)
    assert gone.status_code == 404
    unknown = client.post(
        "/api/v1/competitors", json=[{"sme_a": "a", "sme_b": "b"}], headers=theirs
    )
    assert unknown.status_code == 422
    # the same external ids in another organisation are separate firms
    assert client.post("/api/v1/firms", json=[firm("a")], headers=theirs).json()["created"] == 1
    assert client.get("/api/v1/firms/a", headers=mine).json()["employees"] == 12


def test_health_and_ready(client: TestClient) -> None:
    """/health answers ok; /ready checks the database is migrated to head."""
    assert client.get("/health").json() == {"status": "ok"}
    r = client.get("/ready")
    assert r.status_code == 200
    assert r.json()["revision"]


def test_ready_is_503_on_an_unmigrated_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """/ready answers 503 when the database has no migrations applied."""
    s = make_settings(tmp_path / "empty.db")
    with client_for(s) as c:
        assert c.get("/health").status_code == 200
        r = c.get("/ready")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    """Unknown paths answer 404 problem+json, not FastAPI's default body."""
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["type"].endswith("/not-found")


def test_needs_taxonomy(client: TestClient) -> None:
    """GET /needs lists the taxonomy with codes, labels and flags."""
    items = client.get("/api/v1/needs").json()["items"]
    assert len(items) == 25
    assert {
        "code",
        "label_nl",
        "label_en",
        "theme",
        "joint_training",
        "joint_subsidy",
        "sensitivity",
    } <= items[0].keys()


def test_openapi_spec_is_current(client: TestClient) -> None:
    """openapi/openapi.json equals the app's schema (regenerate with `make openapi`)."""
    committed = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    assert committed == json.loads(render(client.app.openapi()))  # type: ignore[attr-defined]
