"""Runs through the real app: import -> run -> groups -> GeoJSON/CSV, cancel, re-queue."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.config import Settings
from app.db import open_session
from app.models import Run, RunStatus
from tests.app.conftest import DATA, auth, client_for

SMALL_RUN = {
    "purpose": "training",
    "constraints": {"min_size": 3, "max_size": 5},
    "time_limit_s": 1,
    "seed": 1,
}


def load_small(client: TestClient, key: str) -> None:
    """Import the 14-firm fixture and its competitor pairs."""
    with (DATA / "smes_small.csv").open("rb") as fh:
        r = client.post("/api/v1/firms/import", files={"file": ("s.csv", fh)}, headers=auth(key))
    assert r.status_code == 200, r.text
    with (DATA / "competitors_small.csv").open("rb") as fh:
        r = client.post("/api/v1/competitors", files={"file": ("c.csv", fh)}, headers=auth(key))
    assert r.status_code == 200, r.text


def start_run(client: TestClient, key: str, body: dict[str, Any] | None = None) -> int:
    """POST /runs and return the new run id (checks 202 + Location)."""
    r = client.post("/api/v1/runs", json=body or SMALL_RUN, headers=auth(key))
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/v1/runs/{r.json()['id']}"
    return int(r.json()["id"])


def test_full_flow_import_run_groups_geojson(client: TestClient, keys: dict[str, str]) -> None:
    """Import, run, then read groups (JSON, GeoJSON, CSV) of a succeeded, verified run."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"])
    run = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["viewer"])).json()
    assert run["status"] == "succeeded", run
    assert run["progress"] == 1.0
    assert run["params"]["min_size"] == 3 and run["params"]["seed"] == 1
    assert run["stats"]["verified"] is True
    body = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(keys["viewer"])).json()
    assert body["groups"], body
    placed = [m["external_id"] for g in body["groups"] for m in g["members"]]
    unassigned = [u["external_id"] for u in body["unassigned"]]
    firms = client.get("/api/v1/firms", headers=auth(keys["member"])).json()["items"]
    assert sorted(placed + unassigned) == sorted(f["external_id"] for f in firms)
    for group in body["groups"]:
        assert 3 <= len(group["members"]) <= 5
        assert group["diameter_km"] <= 50
        assert group["explanation"]
        assert group["status"] == "proposed"
        place = group["meeting_place"]  # the PC4 with the least total travel
        assert set(place) == {"place", "postcode", "lat", "lon", "mean_km", "max_km"}
        assert place["place"] in group["explanation"] and place["max_km"] <= 50
    assert all(u["reason"] for u in body["unassigned"])
    geo = client.get(f"/api/v1/runs/{run_id}/groups.geojson", headers=auth(keys["viewer"]))
    assert geo.headers["content-type"] == "application/geo+json"
    features = geo.json()["features"]
    polygons = [f for f in features if f["geometry"]["type"] == "Polygon"]
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    assert len(polygons) == len(body["groups"])
    assert len(points) == len(placed)
    assert len({f["id"] for f in features}) == len(features)
    for point in points:
        lon, lat = point["geometry"]["coordinates"]
        assert round(lon, 6) == lon and round(lat, 6) == lat
        assert point["properties"]["group_number"] in {g["number"] for g in body["groups"]}
        assert "group_id" not in point["properties"]
    again = client.get(f"/api/v1/runs/{run_id}/groups.geojson", headers=auth(keys["viewer"]))
    assert again.json() == geo.json()
    csv_text = client.get(f"/api/v1/runs/{run_id}/groups.csv", headers=auth(keys["viewer"])).text
    assert csv_text.splitlines()[0].startswith("groep,thema,diameter_km,id,naam")
    assert len(csv_text.splitlines()) == 1 + len(placed)


def test_competitors_never_share_a_group(client: TestClient, keys: dict[str, str]) -> None:
    """Declared competitor pairs end up in different groups."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"])
    groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(keys["member"])).json()
    where = {m["external_id"]: g["number"] for g in groups["groups"] for m in g["members"]}
    pairs = client.get("/api/v1/competitors", headers=auth(keys["member"])).json()["items"]
    assert pairs
    for pair in pairs:
        a, b = where.get(pair["sme_a"]), where.get(pair["sme_b"])
        assert a is None or a != b


def test_run_validation_errors(client: TestClient, keys: dict[str, str]) -> None:
    """Impossible run requests answer 422 with the offending field."""
    h = auth(keys["member"])
    cases = [
        ({"purpose": "party"}, "purpose"),
        ({"constraints": {"min_size": 8, "max_size": 4}}, "constraints.max_size"),
        ({"constraints": {"max_pair_km": -1}}, "constraints.max_pair_km"),
        ({"constraints": {"colour": "red"}}, "constraints.colour"),
        ({"constraints": {"group_score": "biggest"}}, "constraints.group_score"),
        ({"filters": {"provinces": ["Atlantis"]}}, "filters.provinces"),
        ({"filters": {"needs": ["hr.wellbeing"]}}, "filters.needs"),
        ({"time_limit_s": 1e9}, "time_limit_s"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/runs", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, (body, r.json())
    assert client.post("/api/v1/runs", json={"profile_id": 999}, headers=h).status_code == 404


def test_peer_runs_record_their_group_score(client: TestClient, keys: dict[str, str]) -> None:
    """A peer run's snapshot says member_mean unless the constraints choose pair_sum."""
    load_small(client, keys["member"])
    h = auth(keys["viewer"])
    peer = {**SMALL_RUN, "purpose": "peer"}
    run_id = start_run(client, keys["member"], peer)
    assert client.get(f"/api/v1/runs/{run_id}", headers=h).json()["params"]["group_score"] == (
        "member_mean"
    )
    chosen = {**peer, "constraints": {**SMALL_RUN["constraints"], "group_score": "pair_sum"}}
    run_id = start_run(client, keys["member"], chosen)
    run = client.get(f"/api/v1/runs/{run_id}", headers=h).json()
    assert run["status"] == "succeeded" and run["params"]["group_score"] == "pair_sum"


def test_filters_select_firms(client: TestClient, keys: dict[str, str]) -> None:
    """A run's filters select which firms take part."""
    load_small(client, keys["member"])
    body = {**SMALL_RUN, "filters": {"external_ids": ["g01", "g02", "g03", "g04"]}}
    run_id = start_run(client, keys["member"], body)
    groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(keys["member"])).json()
    seen = {m["external_id"] for g in groups["groups"] for m in g["members"]}
    seen |= {u["external_id"] for u in groups["unassigned"]}
    assert seen == {"g01", "g02", "g03", "g04"}


def test_other_organisation_runs_are_404(client: TestClient, keys: dict[str, str]) -> None:
    """Runs, their groups, GeoJSON, CSV and cancel are 404 for another organisation."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"])
    theirs = auth(keys["other"])
    for suffix in ("", "/groups", "/groups.geojson", "/groups.csv"):
        r = client.get(f"/api/v1/runs/{run_id}{suffix}", headers=theirs)
        assert r.status_code == 404, suffix
        assert r.headers["content-type"] == "application/problem+json"
    assert client.post(f"/api/v1/runs/{run_id}/cancel", headers=theirs).status_code == 404
    assert client.get("/api/v1/runs", headers=theirs).json()["total"] == 0


def test_gdpr_erasure_keeps_history_anonymous(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """DELETE /firms/{id} removes the firm and its links; past runs show an erased member."""
    h = auth(keys["member"])
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"])
    groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=h).json()["groups"]
    victim = groups[0]["details"]["diameter_pair"][0]
    assert victim in {m["external_id"] for m in groups[0]["members"]}
    filtered = start_run(
        client, keys["member"], {**SMALL_RUN, "filters": {"external_ids": [victim]}}
    )
    before = client.get("/api/v1/competitors", headers=h).json()["total"]
    assert client.delete(f"/api/v1/firms/{victim}", headers=h).status_code == 204
    assert client.get(f"/api/v1/firms/{victim}", headers=h).status_code == 404
    links = client.get("/api/v1/competitors", headers=h).json()
    assert all(victim not in (p["sme_a"], p["sme_b"]) for p in links["items"])
    after = client.get(f"/api/v1/runs/{run_id}/groups", headers=h).json()
    erased = [m for m in after["groups"][0]["members"] if m["erased"]]
    assert erased == [{**erased[0], "external_id": None, "erased": True, "name": None}]
    assert len(after["groups"][0]["members"]) == len(groups[0]["members"])
    assert victim not in json.dumps(after)
    run = client.get(f"/api/v1/runs/{filtered}", headers=h).json()
    assert victim not in json.dumps(run)
    text = client.get(f"/api/v1/runs/{run_id}/groups.csv", headers=h).text
    geo = client.get(f"/api/v1/runs/{run_id}/groups.geojson", headers=h).text
    assert victim not in text and victim not in geo
    assert before >= links["total"]


def test_cancel_queued_run_and_conflict_when_finished(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """Cancelling a queued run marks it cancelled; cancelling a finished run is 409."""
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"])
    r = client.post(f"/api/v1/runs/{run_id}/cancel", headers=auth(keys["member"]))
    assert r.status_code == 409
    with open_session(settings) as db:  # a run still waiting in the queue
        run = db.get(Run, run_id)
        assert run is not None
        queued = Run(organisation_id=run.organisation_id, purpose="training", params=run.params)
        db.add(queued)
        db.commit()
        queued_id = queued.id
    r = client.post(f"/api/v1/runs/{queued_id}/cancel", headers=auth(keys["member"]))
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    groups = client.get(f"/api/v1/runs/{queued_id}/groups", headers=auth(keys["member"]))
    assert groups.status_code == 409


def test_restart_requeues_an_interrupted_run(settings: Settings, keys: dict[str, str]) -> None:
    """A run left 'running' by a stopped process is re-queued and completed on start."""
    with client_for(settings) as client:
        load_small(client, keys["member"])
        run_id = start_run(client, keys["member"])
    with open_session(settings) as db:  # simulate a crash in the middle of the run
        db.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(status=RunStatus.running, progress=0.4, finished_at=None, stats=None)
        )
        db.commit()
    with client_for(settings) as client:  # a new process starts: the executor re-queues
        run = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["member"])).json()
    assert run["status"] == "succeeded"
    assert run["stats"] is not None
    with open_session(settings) as db:
        attempts = db.scalar(select(Run.attempts).where(Run.id == run_id))
    assert attempts == 2
