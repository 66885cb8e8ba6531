"""Competitor and partner pairs: JSON and CSV input, validation, listing, removal."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import auth
from tests.app.test_firms import firm


def setup_firms(client: TestClient, key: str) -> None:
    """Three firms a, b, c."""
    body = [firm("a"), firm("b"), firm("c")]
    assert client.post("/api/v1/firms", json=body, headers=auth(key)).status_code == 200


def test_json_and_csv_pairs_are_stored_once(client: TestClient, keys: dict[str, str]) -> None:
    """Pairs from JSON and CSV are stored once whatever their order; both kinds exist."""
    h = auth(keys["member"])
    setup_firms(client, keys["member"])
    r = client.post("/api/v1/competitors", json=[{"sme_a": "a", "sme_b": "b"}], headers=h)
    assert r.json() == {"created": 1, "existing": 0}
    csv_text = "sme_a,sme_b\nb,a\nb,c\n"
    r = client.post("/api/v1/competitors", files={"file": ("c.csv", csv_text)}, headers=h)
    assert r.json() == {"created": 1, "existing": 1}
    r = client.post("/api/v1/partners", json=[{"sme_a": "a", "sme_b": "c"}], headers=h)
    assert r.json()["created"] == 1
    listed = client.get("/api/v1/competitors", headers=h).json()
    assert listed["total"] == 2
    assert {(p["sme_a"], p["sme_b"]) for p in listed["items"]} == {("a", "b"), ("b", "c")}
    assert listed["items"][0]["source"] == "declared"
    assert client.get("/api/v1/partners", headers=h).json()["total"] == 1


def test_unknown_ids_and_self_pairs_are_rejected(client: TestClient, keys: dict[str, str]) -> None:
    """Unknown firm ids and a firm paired with itself answer 422 naming row and column."""
    h = auth(keys["member"])
    setup_firms(client, keys["member"])
    body = [
        {"sme_a": "a", "sme_b": "b"},
        {"sme_a": "a", "sme_b": "zz"},
        {"sme_a": "c", "sme_b": "c"},
    ]
    r = client.post("/api/v1/competitors", json=body, headers=h)
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(2, "sme_b"), (3, "sme_b")}
    assert client.get("/api/v1/competitors", headers=h).json()["total"] == 0
    r = client.post("/api/v1/partners", files={"file": ("p.csv", "sme_a\na\n")}, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "row": 0,
        "field": "sme_b",
        "message": "verplichte kolom ontbreekt",
        "code": "import.column.missing",
    }


def test_remove_pair_either_order(client: TestClient, keys: dict[str, str]) -> None:
    """DELETE /competitors?sme_a&sme_b removes the pair in either order; then 404."""
    h = auth(keys["member"])
    setup_firms(client, keys["member"])
    client.post("/api/v1/competitors", json=[{"sme_a": "a", "sme_b": "b"}], headers=h)
    params = {"sme_a": "b", "sme_b": "a"}
    assert client.delete("/api/v1/competitors", params=params, headers=h).status_code == 204
    assert client.delete("/api/v1/competitors", params=params, headers=h).status_code == 404
    assert client.get("/api/v1/competitors", headers=h).json()["total"] == 0
