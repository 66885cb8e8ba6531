"""GET /schemes, start-up validation of the catalogue, and subsidy runs through the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import open_session
from app.main import create_app
from app.models import UnassignedFirm
from matching.sme import schemes
from matching.sme.schemes import SchemeFileError, scheme_by_id
from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import load_small, start_run

JTF = "jtf-groningen-personeel-scholing"


def test_list_schemes(client: TestClient, keys: dict[str, str]) -> None:
    """The catalogue is served with sources, verify notes and partner bounds."""
    r = client.get("/api/v1/schemes", headers=auth(keys["viewer"]))
    assert r.status_code == 200
    items = {s["id"]: s for s in r.json()["items"]}
    assert set(items) == {JTF, "jtf-groningen-digitalisering-robotisering", "slim",
                          "mit-rd-samenwerking"}  # fmt: skip
    assert all(s["verify"] and s["source"] for s in items.values())
    assert items["slim"]["partners"]["min"] == 2
    assert client.get("/api/v1/schemes").status_code == 401


def test_malformed_scheme_file_fails_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_app refuses to start on a broken catalogue, naming the file and the field."""
    data = json.loads((schemes.SCHEME_DIR / "slim.json").read_text())
    data["partners"]["min"] = "two"
    (tmp_path / "slim.json").write_text(json.dumps(data))
    monkeypatch.setattr(schemes, "SCHEME_DIR", tmp_path)
    schemes.catalogue.cache_clear()
    try:
        with pytest.raises(SchemeFileError, match=r"slim\.json.*partners\.min"):
            create_app()
    finally:
        schemes.catalogue.cache_clear()


def test_subsidy_run_places_only_eligible_firms(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """A JTF run places only eligible firms, stores the failed rule of the others."""
    load_small(client, keys["member"])
    body = {**FAST, "purpose": "subsidy", "scheme_id": JTF}
    run_id = start_run(client, keys["member"], body)
    run = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["viewer"])).json()
    assert run["status"] == "succeeded" and run["params"]["scheme_id"] == JTF
    firms = {f["external_id"]: f for f in
             client.get("/api/v1/firms", headers=auth(keys["member"])).json()["items"]}  # fmt: skip
    scheme = scheme_by_id(JTF)
    found = groups(client, keys["viewer"], run_id)
    assert found
    for g in found:
        assert max(3, scheme.partners.min) <= len(g["members"]) <= 5
        assert g["theme"] in scheme.funded_needs
        for eid in members(g):
            f = firms[eid]
            assert f["province"] == "Groningen" or f["gemeente_code"] == "GM0114", f
            assert f["employees"] <= (scheme.firm_size.max_employees or 0)
    with open_session(settings) as db:
        left = {u.external_id: (u.reason, u.rule) for u in db.scalars(select(UnassignedFirm))}
    assert left["f01"][1] is not None and left["f01"][1].startswith("scheme.regions")
    assert left["e01"][1] is not None and left["e01"][1].startswith("scheme.funded_needs")
    ineligible = {e for e, (reason, _) in left.items() if reason == "ineligible"}
    assert ineligible == {e for e, (_, rule) in left.items() if rule is not None}
    assert ineligible == {"f01", "e01", "g06", "g07", "g10", "g11"}  # outside Groningen/Emmen


def test_subsidy_run_rejects_a_scheme_for_another_purpose(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A scheme with purpose training is 422 naming scheme_id."""
    r = client.post("/api/v1/runs", json={**FAST, "scheme_id": "slim"},
                    headers=auth(keys["member"]))  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "scheme_id"
