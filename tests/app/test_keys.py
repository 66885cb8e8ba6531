"""Organisations and keys: platform admins, case-insensitive names, key holders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.config import DEV_PEPPER, Settings
from app.db import dispose_engine, get_engine, open_session
from app.migrate import alembic_config, upgrade
from app.models import Role
from app.services.organisations import create_organisation
from tests.app.conftest import auth, client_for, make_settings
from tests.app.test_review import FAST, groups
from tests.app.test_runs import load_small, start_run

ROOT = Path(__file__).resolve().parents[2]


def platform_key(settings: Settings) -> str:
    """An admin key of a new platform organisation "Platform"."""
    with open_session(settings) as db:
        issued = create_organisation(
            db=db,
            name="Platform",
            role=Role.admin,
            settings=settings,
            holder="Pia Platform",
            platform=True,
        )
    return issued.key


def new_org(client: TestClient, key: str, name: str, holder: str = "Jan Jansen"):  # type: ignore[no-untyped-def]
    """POST /organisations with ``key``."""
    body = {"name": name, "role": "admin", "holder": holder}
    return client.post("/api/v1/organisations", json=body, headers=auth(key))


def test_only_platform_admins_create_organisations(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    """An admin of an ordinary organisation gets 403 (no name check); a platform admin 201."""
    for name in ("east", "south", "North"):  # a new name and two taken ones: one answer
        r = new_org(client, keys["admin"], name)
        assert r.status_code == 403, r.text
        assert "already" not in r.text and "south" not in r.json()["detail"]
    r = new_org(client, platform_key(settings), "east", holder="Eva Oost")
    assert r.status_code == 201, r.text
    assert r.json()["holder"] == "Eva Oost"
    me = client.get("/api/v1/me", headers=auth(r.json()["key"])).json()
    assert (me["organisation_name"], me["role"], me["holder"]) == ("east", "admin", "Eva Oost")


def test_organisation_names_are_unique_in_any_case(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    """'orga' beside 'OrgA' (and ' ORGA ', 'NORTH') is 409 for the API, the CLI service too."""
    key = platform_key(settings)
    assert new_org(client, key, "OrgA").status_code == 201
    for name in ("orga", " ORGA ", "NORTH", "platform"):
        r = new_org(client, key, name)
        assert r.status_code == 409, (name, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    with open_session(settings) as db:
        names = sorted(db.scalars(text("SELECT name FROM organisation")))
    assert names == ["OrgA", "Platform", "north", "south"]


def test_case_insensitive_unique_index_holds_below_the_service(settings: Settings) -> None:
    """The database itself refuses a second name differing only in case (lower(name) index)."""
    with get_engine(settings.database_url).connect() as conn:
        conn.execute(
            text("INSERT INTO organisation (name, created_at) VALUES ('Acme', '2026-01-01')")
        )
        with pytest.raises(IntegrityError):
            conn.execute(
                text("INSERT INTO organisation (name, created_at) VALUES ('ACME', '2026-01-01')")
            )


def test_platform_admins_issue_keys_for_any_organisation(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    """POST /api-keys with `organisation`: platform admins for any; others only their own."""
    platform = auth(platform_key(settings))
    body = {"organisation": "south", "role": "manager", "holder": "Marie de Vries"}
    r = client.post("/api/v1/api-keys", json=body, headers=platform)
    assert r.status_code == 201, r.text
    assert (r.json()["organisation_name"], r.json()["holder"]) == ("south", "Marie de Vries")
    me = client.get("/api/v1/me", headers=auth(r.json()["key"])).json()
    assert (me["organisation_name"], me["role"]) == ("south", "manager")
    nowhere = {**body, "organisation": "nowhere"}
    assert client.post("/api/v1/api-keys", json=nowhere, headers=platform).status_code == 404
    # an ordinary admin: another organisation, existing or not, is the same 403
    for other in (body, nowhere):
        r = client.post("/api/v1/api-keys", json=other, headers=auth(keys["admin"]))
        assert r.status_code == 403, r.text
        assert "south" not in r.text and "nowhere" not in r.text
    own = {**body, "organisation": "NORTH"}
    r = client.post("/api/v1/api-keys", json=own, headers=auth(keys["admin"]))
    assert r.status_code == 201 and r.json()["organisation_name"] == "north"


def test_every_new_key_names_its_holder(client: TestClient, keys: dict[str, str]) -> None:
    """`holder` is required (422 naming it) for new keys and organisations; no blank holders."""
    h = auth(keys["admin"])
    for body in ({"role": "viewer"}, {"role": "viewer", "holder": "   "}):
        r = client.post("/api/v1/api-keys", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["holder"]
    r = client.post("/api/v1/api-keys", json={"holder": "Boekhouding (script)"}, headers=h)
    assert r.status_code == 201 and r.json()["role"] == "member"
    assert client.get("/api/v1/me", headers=auth(r.json()["key"])).json()["holder"] == (
        "Boekhouding (script)"
    )


def test_decisions_and_audit_entries_name_the_key_holder(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    """An accept answers `decided_by` with the holder; /audit entries carry `actor_holder`."""
    body = {"role": "manager", "holder": "Anna Bakker"}
    anna = client.post("/api/v1/api-keys", json=body, headers=auth(keys["admin"])).json()["key"]
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    first = groups(client, keys["viewer"], run_id)[0]
    r = client.post(f"/api/v1/runs/{run_id}/groups/{first['number']}/accept", headers=auth(anna))
    assert r.status_code == 200, r.text
    assert r.json()["decided_by"] == "Anna Bakker"
    items = client.get("/api/v1/audit", headers=auth(anna)).json()["items"]
    by_action = {e["action"]: e for e in items}
    assert by_action["group.accept"]["actor_holder"] == "Anna Bakker"
    assert by_action["run.create"]["actor_holder"] == "system"  # conftest keys: no holder given


def test_migration_names_holders_flags_the_platform_and_keeps_references(
    tmp_path: Path,
) -> None:
    """rel3 on old rows: holders from labels, "Platform" flagged, case twins renamed, none lost."""
    settings = make_settings(tmp_path / "old.db")
    config = alembic_config(settings)
    command.upgrade(config, "rel2")
    with get_engine(settings.database_url).begin() as conn:
        for org_id, name in ((1, "platform"), (2, "OrgA"), (3, "orga")):
            conn.execute(
                text(
                    "INSERT INTO organisation (id, name, created_at) VALUES (:i, :n, '2026-01-01')"
                ),
                {"i": org_id, "n": name},
            )
        for key_id, label in ((1, "ops laptop"), (2, None)):
            conn.execute(
                text(
                    "INSERT INTO api_key (id, organisation_id, role, key_hash, prefix, label, "
                    "created_at) VALUES (:i, 2, 'admin', :h, 'kr_x', :l, '2026-01-01')"
                ),
                {"i": key_id, "h": f"{key_id:064d}", "l": label},
            )
        conn.execute(
            text(
                "INSERT INTO audit_entry (organisation_id, at, actor_key_id, actor_role, action, "
                "resource, resource_id, details) VALUES (2, '2026-01-01', 2, 'admin', 'x', 'run', "
                "'1', '{}')"
            )
        )
    command.upgrade(config, "rel3")
    with get_engine(settings.database_url).connect() as conn:
        orgs = conn.execute(text("SELECT id, name, is_platform FROM organisation ORDER BY id"))
        assert [tuple(r) for r in orgs] == [(1, "platform", 1), (2, "OrgA", 0), (3, "orga (3)", 0)]
        holders = conn.execute(text("SELECT holder FROM api_key ORDER BY id")).scalars().all()
        assert holders == ["ops laptop", "unnamed (issued before holder names)"]
        actor = conn.execute(text("SELECT actor_key_id FROM audit_entry")).scalar_one()
        assert actor == 2
    command.downgrade(config, "rel2")
    upgrade(settings)
    dispose_engine(settings.database_url)


@pytest.mark.slow
def test_demo_prints_a_manager_and_a_member_key(tmp_path: Path) -> None:
    """`kring demo --no-serve` prints the map link, a manager and a member key with their use
    (in Dutch, the default)."""
    db = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRING_")}
    env["KRING_DATABASE_URL"] = f"sqlite:///{db}"
    code = "from app.cli import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "demo", "--no-serve", "--firms", "40", "--time-limit-s", "1"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    manager_at = next(i for i, line in enumerate(lines) if "(manager)" in line)
    member_at = next(i for i, line in enumerate(lines) if "(member)" in line)
    assert "groepen accepteren of afwijzen" in lines[manager_at]
    assert "runs starten en annuleren" in lines[member_at]
    run_line = next(line for line in lines if line.startswith("status van de run:"))
    run_id = run_line.rsplit("/", 1)[1]
    assert f"kaart:            http://127.0.0.1:8000/map?run={run_id}" in lines
    settings = make_settings(  # the demo's own SQLite file, also under make test-postgres
        db, database_url=f"sqlite:///{db}", api_key_pepper=SecretStr(DEV_PEPPER), dev_mode=True
    )
    with client_for(settings) as client:
        for at, role, holder in (
            (manager_at, "manager", "demo programme manager"),
            (member_at, "member", "demo member"),
        ):
            me = client.get("/api/v1/me", headers=auth(lines[at + 1])).json()
            assert (me["organisation_name"], me["role"], me["holder"]) == ("demo", role, holder)
    assert lines[-1] == lines[member_at + 1]  # the last line stays the member key
    dispose_engine(settings.database_url)
