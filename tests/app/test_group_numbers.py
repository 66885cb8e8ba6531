"""One number per group: URLs, JSON, GeoJSON, CSV and audit entries use the per-run number."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import open_session
from app.models import Group
from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import load_small, start_run


def test_second_run_groups_are_reached_by_their_number(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """In a second run group 1 (database id > 1) is accepted at /groups/1; no ids are shown."""
    load_small(client, keys["member"])
    start_run(client, keys["member"], FAST)
    run_id = start_run(client, keys["member"], {**FAST, "seed": 2})
    with open_session(settings) as db:
        ids = dict(db.execute(select(Group.number, Group.id).where(Group.run_id == run_id)).all())
    assert ids[1] != 1  # the database id differs from the number people see
    found = groups(client, keys["viewer"], run_id)
    assert all("id" not in g for g in found) and [g["number"] for g in found] == sorted(ids)
    base = f"/api/v1/runs/{run_id}/groups/1"
    r = client.post(f"{base}/accept", json={"comment": "ok"}, headers=auth(keys["manager"]))
    assert r.status_code == 200, r.text
    assert r.json()["number"] == 1 and "group_id" not in r.json()
    assert {g["number"]: g["status"] for g in groups(client, keys["viewer"], run_id)}[1] == (
        "accepted"
    )
    r = client.post(f"/api/v1/runs/{run_id}/groups/{ids[1]}/accept", headers=auth(keys["manager"]))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    pack = client.get(f"{base}/application", headers=auth(keys["manager"])).json()
    assert pack["group_number"] == 1 and "group_id" not in pack
    assert [m["external_id"] for m in pack["members"]] == members(found[0])
    assert client.get(f"{base}/application.csv", headers=auth(keys["viewer"])).status_code == 200
    entry = client.get("/api/v1/audit?action=group.accept", headers=auth(keys["manager"]))
    item = entry.json()["items"][0]
    assert item["resource_id"] == f"run {run_id} group 1"
    assert item["details"]["run_id"] == run_id and item["details"]["group_number"] == 1


def test_geojson_and_csv_carry_numbers_not_ids(client: TestClient, keys: dict[str, str]) -> None:
    """GeoJSON features and properties and CSV columns name the group number only."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    numbers = {g["number"] for g in groups(client, keys["viewer"], run_id)}
    url = f"/api/v1/runs/{run_id}/groups.geojson?unassigned=true"
    features = client.get(url, headers=auth(keys["viewer"])).json()["features"]
    assert all("group_id" not in f["properties"] for f in features)
    hulls = [f for f in features if f["properties"]["kind"] == "group"]
    assert {f["id"] for f in hulls} == {f"group-{n}" for n in numbers}
    assert {f["properties"]["group_number"] for f in features} - {None} == numbers
    text = client.get(f"/api/v1/runs/{run_id}/groups.csv",
                      headers={**auth(keys["viewer"]), "Accept-Language": "en"}).text  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "group_id" not in rows[0] and {int(r["group_number"]) for r in rows} == numbers
