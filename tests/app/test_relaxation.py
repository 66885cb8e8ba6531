"""GET /runs/{id}/unassigned/{external_id}/relaxation: the change, applied, places the firm."""

from __future__ import annotations

import math
from typing import Any

from fastapi.testclient import TestClient

from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import start_run


def firm(eid: str, postcode: str) -> dict[str, Any]:
    """A firm needing vocational training."""
    return {"external_id": eid, "name": f"Firm {eid}", "postcode": postcode, "sbi_code": "4120",
            "employees": 10, "digital_level": 2, "needs": ["train.vocational"]}  # fmt: skip


COHORT = [firm(f"g{k}", pc) for k, pc in enumerate(("9711", "9712", "9713", "9714"))]
COHORT.append(firm("l0", "8911"))  # Leeuwarden: just over 50 km from Groningen
FIVE = {**FAST, "constraints": {"min_size": 5, "max_size": 6, "max_iterations": 30}}


def test_relaxation_names_the_distance_and_the_rerun_places_the_firm(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Leeuwarden + four Groningen firms, min 5: max_pair_km to the needed value places it;
    what was tried is said in words (Dutch, English on request) with the codes beside."""
    assert client.post("/api/v1/firms", json=COHORT, headers=auth(keys["member"])).is_success
    run_id = start_run(client, keys["member"], FIVE)
    assert groups(client, keys["viewer"], run_id) == []
    url = f"/api/v1/runs/{run_id}/unassigned/l0/relaxation?tried=true"
    r = client.get(url, headers=auth(keys["viewer"]))
    assert r.status_code == 200, r.text
    out = r.json()
    best = out["best"]
    assert out["placed_in_group"] is None and out["reason"] and out["tried"]
    assert best["setting"] == "max_pair_km" and best["current"] == 50.0
    assert 50.0 < best["needed"] < 60.0 and best["group"] is None
    assert sorted(best["members"]) == ["g0", "g1", "g2", "g3", "l0"]
    km = math.ceil(best["needed"])
    assert best["suggested"] == km and best["rank"] == 1 and best["size"] == 5
    assert best["description"] == (
        f"Sta {km} km toe in plaats van 50: vormt dan een nieuwe groep van 5 bedrijven"
    )
    assert out["advice"] == best["description"] and len(out["options"]) <= 5
    sizes = [o for o in out["options"] if o["setting"] == "min_size"]
    assert sizes == [] or sizes[0]["needed"] < 5
    tried = {a["description"] for a in out["tried"]}
    assert any(d.startswith("nieuwe groep van 5: ") and " km uit elkaar (hooguit 50 km)" in d
               for d in tried), tried  # fmt: skip
    assert all(a["broken_codes"] and a["broken_codes"][0].startswith("relax.tried.")
               for a in out["tried"] if a["broken"])  # fmt: skip
    english = client.get(url, headers={**auth(keys["viewer"]), "Accept-Language": "en"}).json()
    assert any(" km apart (at most 50 km)" in a["description"] for a in english["tried"])
    change = {**FIVE["constraints"], "max_pair_km": best["needed"]}
    again = start_run(client, keys["member"], {**FIVE, "constraints": change})
    placed = {m for g in groups(client, keys["viewer"], again) for m in members(g)}
    assert "l0" in placed


def test_relaxation_of_placed_unknown_and_foreign_firms(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A placed firm reports its group; unknown firms and other organisations get 404."""
    assert client.post("/api/v1/firms", json=COHORT, headers=auth(keys["member"])).is_success
    loose = {**FIVE, "constraints": {**FIVE["constraints"], "max_pair_km": 60}}
    run_id = start_run(client, keys["member"], loose)
    url = f"/api/v1/runs/{run_id}/unassigned"
    out = client.get(f"{url}/g0/relaxation", headers=auth(keys["viewer"])).json()
    assert out["placed_in_group"] == 1 and out["best"] is None
    assert client.get(f"{url}/nope/relaxation", headers=auth(keys["viewer"])).status_code == 404
    r = client.get(f"{url}/g0/relaxation", headers=auth(keys["other"]))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_relaxation_in_english_top_five_ranked_and_rounded(
    client: TestClient, keys: dict[str, str]
) -> None:
    """With Accept-Language en: at most five options, ranked 1.., rounded, in English words."""
    assert client.post("/api/v1/firms", json=COHORT, headers=auth(keys["member"])).is_success
    run_id = start_run(client, keys["member"], FIVE)
    url = f"/api/v1/runs/{run_id}/unassigned/l0/relaxation"
    out = client.get(url, headers={**auth(keys["viewer"]), "Accept-Language": "en"}).json()
    options = out["options"]
    assert 1 <= len(options) <= 5 and out["options_found"] >= len(options)
    assert [o["rank"] for o in options] == list(range(1, len(options) + 1))
    assert out["tried"] == [] and out["reason_label"]
    relative = [o["relative"] for o in options if o["relative"] is not None]
    assert relative == sorted(relative) and all(round(r, 3) == r for r in relative)
    best = options[0]
    assert best["setting"] == "max_pair_km"
    assert best["description"].startswith(f"Allow {math.ceil(best['needed'])} km instead of 50: ")
    assert "->" not in "".join(o["description"] for o in options)
