"""No data lost: writes interrupted inside the database layer leave the previous state intact,
and `kring admin export` / `import` round-trip an organisation exactly."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from app.db import dispose_engine, get_engine, open_session
from app.errors import ConflictError, InvalidInputError
from app.migrate import upgrade
from app.models import Organisation, Role
from app.services.backup import export_organisation, import_organisation
from app.services.firms import UPSERT_BATCH
from app.services.organisations import create_key
from tests.app.conftest import DATA, auth, client_for, make_settings
from tests.app.test_cli_and_worker import kring
from tests.security.conftest import World, minimal_instance, object_params

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class InjectedFault(RuntimeError):
    """Raised by the database layer on purpose."""


@contextmanager
def fail_on_nth_write(url: str, n: int, table: str | None = None) -> Iterator[list[str]]:
    """Make the ``n``-th INSERT/UPDATE/DELETE (on ``table``) raise inside the DB driver call."""
    engine = get_engine(url)
    seen: list[str] = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if WRITE.match(statement) and (table is None or f" {table}" in statement.lower()):
            seen.append(statement)
            if len(seen) == n:
                raise InjectedFault(f"injected at write {n}: {statement[:60]}")

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def snapshot(w: World, name: str = "north") -> dict[str, Any]:
    """Every row organisation ``name`` owns (the backup export)."""
    with open_session(w.settings) as db:
        org = db.scalar(select(Organisation).where(Organisation.name == name))
        assert org is not None
        return export_organisation(db=db, organisation=org)


def faulty_client(w: World) -> TestClient:
    """A client on the same app that returns 500 instead of raising the injected fault."""
    return TestClient(w.client.app, raise_server_exceptions=False)


def test_interrupted_csv_import_writes_nothing(world: World) -> None:
    """A firm import that fails on its second write statement leaves every firm as it was."""
    w = world
    before = snapshot(w)
    text = (DATA / "smes_small.csv").read_text().replace("Bakker", "Bakker & Zn")
    rows = range(UPSERT_BATCH)  # with the file's firms: two INSERT … ON CONFLICT statements
    extra = "\n".join(f"new{i},Nieuw {i},9711,6201,5,2,dig.cybersecurity,,,," for i in rows)
    client = faulty_client(w)
    with fail_on_nth_write(w.settings.database_url, 2, table="firm") as seen:
        r = client.post(
            "/api/v1/firms/import",
            files={"file": ("s.csv", text.rstrip("\n") + "\n" + extra + "\n")},
            headers=auth(w.a["member"]),
        )
    assert len(seen) == 2
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert snapshot(w) == before


@pytest.mark.parametrize("nth", [1])  # one INSERT … ON CONFLICT per 500 pairs: one write here
def test_interrupted_pair_upload_writes_nothing(world: World, nth: int) -> None:
    """A pair upload interrupted at its n-th write leaves the pairs as they were."""
    w = world
    before = snapshot(w)
    pairs = [{"sme_a": a, "sme_b": b} for a, b in (("g02", "g03"), ("g04", "g05"), ("g06", "g07"))]
    with fail_on_nth_write(w.settings.database_url, nth) as seen:
        r = faulty_client(w).post("/api/v1/partners", json=pairs, headers=auth(w.a["member"]))
    assert seen and r.status_code == 500
    assert snapshot(w) == before


def test_every_interrupted_edit_or_delete_of_an_object_leaves_it_intact(world: World) -> None:
    """Each PUT/PATCH/DELETE/POST on one of A's objects in the live spec (firm erasure, profile
    edits, run cancel, ...) that fails at its first write statement changes nothing."""
    w = world
    spec = w.client.app.openapi()  # type: ignore[attr-defined]
    params = object_params(w)
    interrupted = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            names = [p["name"] for p in op.get("parameters", []) if p["in"] in ("path", "query")]
            if method not in ("put", "patch", "delete", "post") or not set(names) & set(params):
                continue
            url = path
            query = {}
            for p in op["parameters"]:
                if p["in"] == "path":
                    url = url.replace("{" + p["name"] + "}", str(params[p["name"]]))
                elif p.get("required"):
                    query[p["name"]] = params[p["name"]]
            content = op.get("requestBody", {}).get("content", {})
            body = (
                minimal_instance(content["application/json"]["schema"], spec)
                if "application/json" in content
                else None
            )
            before = snapshot(w)
            with fail_on_nth_write(w.settings.database_url, 1) as seen:
                r = faulty_client(w).request(
                    method, url, params=query, json=body, headers=auth(w.a["admin"])
                )
            assert snapshot(w) == before, (method, path)
            if seen:
                assert r.status_code == 500, (method, path, r.status_code)
                interrupted.append(f"{method} {path}")
    assert {"delete /api/v1/firms/{external_id}", "delete /api/v1/competitors"} <= set(interrupted)


def test_export_import_round_trips_exactly(world: World, tmp_path: Path) -> None:
    """Import of an export into another database exports to the identical document."""
    w = world
    original = snapshot(w)
    counts = {name: len(rows) for name, rows in original["tables"].items()}
    assert counts["firm"] == len(w.firm_ids) and counts["competitor_link"] == 2
    assert counts["run"] == 1 and counts["group"] >= 1 and counts["group_member"] >= 3
    assert counts["profile"] == 1 and counts["partner_link"] == 1
    other = make_settings(tmp_path / "restore.db")
    upgrade(other)
    try:
        document = json.loads(json.dumps(original))  # through JSON text, as the CLI does
        with open_session(other) as db:
            org = import_organisation(db=db, data=document)
            assert export_organisation(db=db, organisation=org) == original
        with open_session(other) as db:  # a second copy under another name, same database
            copy = import_organisation(db=db, data=document, name="north (restored)")
            again = export_organisation(db=db, organisation=copy)
        assert again["tables"] == original["tables"]
        with client_for(other) as client, open_session(other) as db:
            issued = create_key(
                db=db,
                organisation=copy,
                role=Role.viewer,
                settings=other,
            )
            db.commit()
            runs = client.get("/api/v1/runs", headers=auth(issued.key)).json()["items"]
            assert [run["id"] for run in runs] != [w.run_id]  # the copy's run has a new id
            r = client.get(f"/api/v1/runs/{runs[0]['id']}/groups", headers=auth(issued.key))
            assert r.status_code == 200 and r.json()["groups"]
    finally:
        dispose_engine(other.database_url)


def test_import_is_all_or_nothing(world: World) -> None:
    """A taken name is 409 and a bad row anywhere writes nothing (no half organisation)."""
    w = world
    document = snapshot(w)
    with open_session(w.settings) as db:
        with pytest.raises(ConflictError):
            import_organisation(db=db, data=document)
        broken = json.loads(json.dumps(document))
        broken["tables"]["group_member"][-1]["no_such_column"] = 1
        with pytest.raises(InvalidInputError):
            import_organisation(db=db, data=broken, name="half")
        assert db.scalar(select(func.count()).where(Organisation.name == "half")) == 0


@pytest.mark.slow
def test_cli_export_import_and_revoke(tmp_path: Path) -> None:
    """`kring admin export ORG > f.json`, `import f.json --as`, `revoke-key` via the real CLI."""
    db = tmp_path / "cli.db"
    assert kring("db", "upgrade", db=db).returncode == 0
    key = kring("admin", "create-org", "Noord", db=db).stdout.strip().splitlines()[-1]
    s = make_settings(db)
    with client_for(s) as client:
        with (DATA / "smes_small.csv").open("rb") as fh:
            r = client.post(
                "/api/v1/firms/import", files={"file": ("s.csv", fh)}, headers=auth(key)
            )
        assert r.status_code == 200
    exported = kring("admin", "export", "Noord", db=db)
    assert exported.returncode == 0, exported.stderr
    dump = tmp_path / "noord.json"
    dump.write_text(exported.stdout)
    assert kring("admin", "import", str(dump), db=db).returncode == 1  # name taken
    done = kring("admin", "import", str(dump), "--as", "Noord kopie", db=db)
    assert done.returncode == 0, done.stderr
    again = kring("admin", "export", "Noord kopie", db=db)
    assert json.loads(again.stdout)["tables"] == json.loads(exported.stdout)["tables"]
    listed = kring("admin", "list-keys", "Noord", db=db).stdout.splitlines()
    key_id = listed[1].split("\t")[0]
    assert kring("admin", "revoke-key", key_id, db=db).returncode == 0
    dispose_engine(s.database_url)
    with client_for(s) as client:
        assert client.get("/api/v1/me", headers=auth(key)).status_code == 401
