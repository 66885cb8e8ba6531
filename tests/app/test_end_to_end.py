"""End to end: a generated 2,000-firm cohort through the HTTP API, re-checked by the verifier."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from matching.core.solution import Solution
from matching.core.verify import verify
from matching.sme.build import build_instance
from matching.sme.firms import firms_to_csv, pairs_to_csv
from matching.sme.generate import generate_cohort
from matching.sme.needs import NEED_CODES
from matching.sme.settings import RunSettings
from tests.app.conftest import auth


@pytest.mark.slow
def test_2000_firm_cohort_through_the_api_passes_the_verifier(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Upload 2,000 firms and pairs, run, and verify the stored groups against the input."""
    cohort = generate_cohort(2_000, seed=7)
    h = auth(keys["member"])
    files = {"file": ("smes.csv", firms_to_csv(cohort.firms), "text/csv")}
    assert client.post("/api/v1/firms/import", files=files, headers=h).json()["created"] == 2_000
    for path, pairs in (("competitors", cohort.competitors), ("partners", cohort.partners)):
        files = {"file": (f"{path}.csv", pairs_to_csv(pairs), "text/csv")}
        assert client.post(f"/api/v1/{path}", files=files, headers=h).status_code == 200
    r = client.post("/api/v1/runs", json={"purpose": "training", "time_limit_s": 15, "seed": 3},
                    headers=h)  # fmt: skip
    run = client.get(r.headers["location"], headers=h).json()
    assert run["status"] == "succeeded", run
    body = client.get(f"{r.headers['location']}/groups", headers=h).json()

    settings = RunSettings.from_dict(run["params"])
    instance, index = build_instance(cohort.firms, cohort.competitors, cohort.partners, settings)
    groups = [[index.index_of(m["external_id"]) for m in g["members"]] for g in body["groups"]]
    themes = [None if g["theme"] is None else NEED_CODES.index(g["theme"]) for g in body["groups"]]
    solution = Solution.from_groups(len(cohort.firms), groups, themes)
    assert verify(instance, solution) == []
    placed = sum(len(g) for g in groups)
    assert placed + len(body["unassigned"]) == 2_000
    assert placed >= 1_000, f"only {placed} of 2,000 firms placed"
