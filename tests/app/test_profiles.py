"""Profiles: versioning, validation through RunSettings, built-ins, roles, scoping."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.services.profiles import JOINT_TRAINING, PEER_LEARNING
from matching.sme.schemes import catalogue
from tests.app.conftest import auth
from tests.app.test_runs import load_small, start_run

PROFILE = {
    "name": "Scholing Noord",
    "purpose": "training",
    "constraints": {"min_size": 3, "max_size": 5, "max_pair_km": 40, "max_iterations": 20},
    "time_limit_s": 1,
}


def create(client: TestClient, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /profiles and return the created profile (checks 201)."""
    r = client.post("/api/v1/profiles", json=body or PROFILE, headers=auth(key))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_editing_creates_a_version_and_runs_record_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    """PUT makes version 2, version 1 stays readable, a run records the version it used."""
    p = create(client, keys["manager"])
    assert p["version"] == 1 and p["constraints"]["max_pair_km"] == 40 and not p["builtin"]
    edited = {**PROFILE, "constraints": {**PROFILE["constraints"], "max_pair_km": 30}}
    r = client.put(f"/api/v1/profiles/{p['id']}", json=edited, headers=auth(keys["manager"]))
    assert r.status_code == 200 and r.json()["version"] == 2
    versions = client.get(f"/api/v1/profiles/{p['id']}/versions", headers=auth(keys["viewer"]))
    assert [(v["version"], v["constraints"]["max_pair_km"]) for v in versions.json()["items"]] == [
        (1, 40),
        (2, 30),
    ]
    load_small(client, keys["member"])
    run_id = start_run(client, keys["member"], {"profile_id": p["id"], "seed": 1})
    run = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["viewer"])).json()
    assert run["profile_version"] == 2 and run["params"]["max_pair_km"] == 30
    assert run["params"]["min_size"] == 3 and run["purpose"] == "training"
    old = start_run(client, keys["member"], {"profile_id": p["id"], "profile_version": 1})
    run = client.get(f"/api/v1/runs/{old}", headers=auth(keys["viewer"])).json()
    assert run["profile_version"] == 1 and run["params"]["max_pair_km"] == 40
    r = client.post("/api/v1/runs", json={"profile_id": p["id"], "profile_version": 9},
                    headers=auth(keys["member"]))  # fmt: skip
    assert r.status_code == 404


def problem_field(r: Any) -> str:
    """The first field named by a 422 problem+json response."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return str(r.json()["errors"][0]["field"])


def test_impossible_settings_are_explained(client: TestClient, keys: dict[str, str]) -> None:
    """min > max, max_km <= 0, negative weights, unknown or misused schemes: 422 naming it."""
    cases = [
        ({"constraints": {"min_size": 12, "max_size": 8}}, "constraints.max_size"),
        ({"constraints": {"max_pair_km": 0}}, "constraints.max_pair_km"),
        ({"constraints": {"affinity": {"need": -1}}}, "constraints.affinity.need"),
        ({"purpose": "subsidy", "scheme_id": "nope"}, "scheme_id"),
        ({"scheme_id": "slim"}, "scheme_id"),
        ({"purpose": "peer", "constraints": {"allowed_themes": ["dig.ai"]}},
         "constraints.allowed_themes"),
    ]  # fmt: skip
    for change, field in cases:
        body = {"name": "x", **change}
        r = client.post("/api/v1/profiles", json=body, headers=auth(keys["manager"]))
        assert problem_field(r) == field, (change, r.json())
    total = client.get("/api/v1/profiles", headers=auth(keys["viewer"])).json()["items"]
    assert all(p["builtin"] for p in total)


def test_builtin_profiles_are_listed_and_read_only(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The built-ins (joint training, peer learning, one per scheme) cannot be edited."""
    items = client.get("/api/v1/profiles", headers=auth(keys["viewer"])).json()["items"]
    builtin = {p["name"]: p for p in items if p["builtin"]}
    assert builtin[JOINT_TRAINING]["constraints"] == {"min_size": 10, "max_size": 15,
                                                   "max_pair_km": 50.0}  # fmt: skip
    assert builtin[PEER_LEARNING]["purpose"] == "peer"
    assert builtin[PEER_LEARNING]["constraints"]["max_pair_km"] == 30.0
    schemes = {p["scheme_id"] for p in builtin.values() if p["purpose"] == "subsidy"}
    assert schemes == {s.id for s in catalogue()}
    pid = builtin[JOINT_TRAINING]["id"]
    r = client.put(f"/api/v1/profiles/{pid}", json=PROFILE, headers=auth(keys["manager"]))
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert client.delete(f"/api/v1/profiles/{pid}", headers=auth(keys["admin"])).status_code == 409
    again = client.get("/api/v1/profiles", headers=auth(keys["viewer"])).json()["items"]
    assert len(again) == len(items)  # listing twice creates no duplicates


def test_roles_names_and_other_organisations(client: TestClient, keys: dict[str, str]) -> None:
    """Members may not write profiles; names are unique; another organisation gets 404."""
    r = client.post("/api/v1/profiles", json=PROFILE, headers=auth(keys["member"]))
    assert r.status_code == 403
    p = create(client, keys["manager"])
    r = client.post("/api/v1/profiles", json=PROFILE, headers=auth(keys["manager"]))
    assert r.status_code == 409
    assert client.get(f"/api/v1/profiles/{p['id']}", headers=auth(keys["other"])).status_code == 404
    r = client.post("/api/v1/runs", json={"profile_id": p["id"]}, headers=auth(keys["other"]))
    assert r.status_code == 404
    r = client.delete(f"/api/v1/profiles/{p['id']}", headers=auth(keys["manager"]))
    assert r.status_code == 204
    gone = client.get(f"/api/v1/profiles/{p['id']}", headers=auth(keys["viewer"]))
    assert gone.status_code == 404


def test_profile_filters_and_purpose_apply_unless_the_run_overrides(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A run takes the profile's purpose, scheme and filters; explicit run values win."""
    load_small(client, keys["member"])
    body = {**PROFILE, "name": "JTF Groningen", "purpose": "subsidy",
            "scheme_id": "jtf-groningen-personeel-scholing",
            "filters": {"provinces": ["groningen"]}}  # fmt: skip
    p = create(client, keys["manager"], body)
    assert p["filters"] == {"provinces": ["Groningen"], "consent_only": False}
    run_id = start_run(client, keys["member"], {"profile_id": p["id"], "seed": 1})
    run = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["viewer"])).json()
    assert run["purpose"] == "subsidy" and run["params"]["scheme_id"] == p["scheme_id"]
    assert run["filters"]["provinces"] == ["Groningen"]
    own = {"profile_id": p["id"], "filters": {"external_ids": ["g01", "g02", "g03"]}}
    run_id = start_run(client, keys["member"], own)
    run = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["viewer"])).json()
    assert run["filters"] == {"external_ids": ["g01", "g02", "g03"], "consent_only": False}
