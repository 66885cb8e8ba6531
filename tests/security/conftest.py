"""Security fixtures: two organisations with every role, org A populated (firms, pairs,
a profile, a succeeded run), and a resolver from OpenAPI path parameters to A's objects.

``db_world`` builds the same world once on SQLite and once on PostgreSQL (a server from
``KRING_TEST_DATABASE_URL``, else one ``.ci/services`` starts on loopback; skipped when none
can start, a failure in CI), so the tests using it run on both in the main pytest phase.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import dispose_engine, open_session
from app.migrate import upgrade
from app.models import Group, Profile, Role, Run
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings
from tests.pg import create_database, server_url

ROOT = Path(__file__).resolve().parents[2]
DATABASES = ("sqlite", "postgresql")

SMALL_RUN = {
    "purpose": "training",
    "constraints": {"min_size": 3, "max_size": 5},
    "time_limit_s": 1,
    "seed": 1,
}
# A placed firm's exact position, uploaded after the run; viewers must never see it.
EXACT_LAT, EXACT_LON = 53.219384, 6.566502
EVIL_NAME = '=HYPERLINK("http://evil.example","x")'


@dataclass
class World:
    """Org A ("north", populated) and org B ("south", one firm), keys for every role."""

    settings: Settings
    client: TestClient
    a: dict[str, str]
    b: dict[str, str]
    run_id: int
    group_number: int
    profile_id: int
    exact_firm: str
    firm_ids: list[str] = field(default_factory=list)
    kvk_numbers: list[str] = field(default_factory=list)


def _load(client: TestClient, key: str) -> None:
    for path, url in (
        ("smes_small.csv", "/api/v1/firms/import"),
        ("competitors_small.csv", "/api/v1/competitors"),
        ("partners_small.csv", "/api/v1/partners"),
    ):
        with (DATA / path).open("rb") as fh:
            r = client.post(url, files={"file": (path, fh)}, headers=auth(key))
        assert r.status_code == 200, r.text


def build_world(settings: Settings, client: TestClient) -> World:
    """Populate org A through the API and return the world."""
    a = {role.value: issue_key(settings, "north", role) for role in Role}
    b = {role.value: issue_key(settings, "south", role) for role in Role}
    _load(client, a["member"])
    south_firm = {
        "external_id": "south-1", "name": "Zuid BV", "postcode": "5611", "sbi_code": "6201",
        "employees": 8, "digital_level": 3, "needs": ["dig.cybersecurity"],
    }  # fmt: skip
    assert client.post("/api/v1/firms", json=[south_firm], headers=auth(b["member"])).is_success
    r = client.post("/api/v1/runs", json=SMALL_RUN, headers=auth(a["member"]))
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(a["viewer"])).json()
    exact = groups["groups"][0]["members"][0]["external_id"]
    r = client.patch(
        f"/api/v1/firms/{exact}",
        json={"lat": EXACT_LAT, "lon": EXACT_LON, "kvk_number": "87654321", "name": EVIL_NAME},
        headers=auth(a["member"]),
    )
    assert r.status_code == 200, r.text
    firms = client.get("/api/v1/firms", headers=auth(a["member"])).json()["items"]
    with open_session(settings) as db:
        org_id = db.scalar(select(Run.organisation_id).where(Run.id == run_id))
        profile = Profile(organisation_id=org_id, name="Scholing", purpose="training", settings={})
        db.add(profile)
        db.commit()
        profile_id = profile.id
        number = db.scalar(select(Group.number).where(Group.run_id == run_id).limit(1))
    # accepted, so that every GET answers (an invitation pack exists for accepted groups only)
    decide = f"/api/v1/runs/{run_id}/groups/{number}/accept"
    assert client.post(decide, headers=auth(a["manager"])).status_code == 200
    return World(
        settings=settings,
        client=client,
        a=a,
        b=b,
        run_id=run_id,
        group_number=int(number or 0),
        profile_id=profile_id,
        exact_firm=exact,
        firm_ids=[f["external_id"] for f in firms],
        kvk_numbers=[f["kvk_number"] for f in firms if f["kvk_number"]],
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A migrated database with the two organisations, shared by a module's read-only tests."""
    settings = make_settings(tmp_path_factory.mktemp("world") / "kring.db")
    upgrade(settings)
    with client_for(settings) as client:
        yield build_world(settings, client)
    dispose_engine(settings.database_url)


@functools.cache
def postgres_server() -> str | None:
    """A PostgreSQL server URL: ``KRING_TEST_DATABASE_URL``, else one ``.ci/services`` starts."""
    if url := server_url():
        return url
    done = subprocess.run([str(ROOT / ".ci" / "services"), "start", "postgres"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    if done.returncode != 0:
        return None
    return done.stdout.strip().split("=", 1)[1]


def database_url(kind: str, path: Path) -> str:
    """A fresh database of ``kind`` (``sqlite`` or ``postgresql``) standing for ``path``."""
    if kind == "sqlite":
        return f"sqlite:///{path}"
    server = postgres_server()
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI (.ci/services start postgres failed)")
        pytest.skip("PostgreSQL is not available")
    return create_database(server, str(path))


def world_on(kind: str, path: Path, **overrides: object) -> Iterator[World]:
    """Build the world on a fresh database of ``kind``; dispose of its engine afterwards."""
    settings = make_settings(path, database_url=database_url(kind, path), **overrides)
    upgrade(settings)
    with client_for(settings) as client:
        yield build_world(settings, client)
    dispose_engine(settings.database_url)


@pytest.fixture(scope="module", params=DATABASES)
def db_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[World]:  # fmt: skip
    """The world of ``world``, once on SQLite and once on PostgreSQL."""
    yield from world_on(request.param, tmp_path_factory.mktemp(f"world-{request.param}") / "k.db")


# Path and query parameters that name one of org A's objects, and public (shared) ones.
PUBLIC_PARAMS = {"layer": "province", "scheme_id": None, "scheme": None}


def object_params(w: World) -> dict[str, Any]:
    """Parameter name -> a value naming one of org A's objects."""
    return {
        "external_id": w.firm_ids[1],
        "sme_a": "g01",
        "sme_b": "g10",
        "run_id": w.run_id,
        "a": w.run_id,
        "b": w.run_id,
        "other_run_id": w.run_id,
        "group_number": w.group_number,
        "profile_id": w.profile_id,
    }


def minimal_instance(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A small value valid for a JSON schema (required properties only)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return minimal_instance(spec["components"]["schemas"][name], spec)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return minimal_instance(options[0], spec)
    if "allOf" in schema:
        return minimal_instance(schema["allOf"][0], spec)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(props[k], spec) for k in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(schema["items"], spec) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return False
    return None
