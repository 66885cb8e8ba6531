"""Problem types resolve on the service itself, and the spec declares Accept-Language."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.testclient import TestClient

from app.errors import PROBLEM_TYPES
from app.openapi import spec

ROOT = Path(__file__).resolve().parents[2]


def _slugs_in_code() -> set[str]:
    """Slugs of ServiceError classes and of problem()/problem_response() calls in app/."""
    found = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
                names = [getattr(t, "id", "") for t in getattr(node.targets[0], "elts", [])]
                if "slug" in names:
                    found.add(node.value.elts[names.index("slug")].value)  # type: ignore[attr-defined]
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "problem", "problem_response"
            ):  # fmt: skip
                found |= {a.value for a in node.args[2:3] if isinstance(a, ast.Constant)}
    return found


def test_every_problem_type_resolves_in_dutch_and_english(client: TestClient) -> None:
    """Each slug the code answers with has a page at its relative type URI (200, nl and en)."""
    used = _slugs_in_code()
    assert {"conflict", "invalid-input", "too-many-requests", "not-found"} <= used
    assert used <= set(PROBLEM_TYPES)
    for slug, status in PROBLEM_TYPES.items():
        nl = client.get(f"/problems/{slug}")
        assert nl.status_code == 200 and nl.headers["content-language"] == "nl"
        assert f"HTTP {status}" in nl.text and '<html lang="nl">' in nl.text
        en = client.get(f"/problems/{slug}", headers={"Accept-Language": "en"})
        assert '<html lang="en">' in en.text and en.text != nl.text
        as_json = client.get(f"/problems/{slug}?lang=en", headers={"Accept": "application/json"})
        assert as_json.json()["status"] == status and as_json.json()["about"]
    assert client.get("/problems/no-such-thing").status_code == 404


def test_a_problem_type_is_a_page_of_this_service(client: TestClient) -> None:
    """A 404's type is the relative URI /problems/not-found, which the service serves."""
    r = client.get("/api/v1/runs/1", headers={"X-API-Key": "nope"})
    kind = r.json()["type"]
    assert kind == "/problems/unauthorized" and "kring.example" not in r.text
    assert client.get(kind).status_code == 200


def test_every_operation_declares_accept_language() -> None:
    """The spec has one Accept-Language header parameter (nl default, en) on every operation."""
    document = spec()
    operations = [op for item in document["paths"].values() for op in item.values()
                  if isinstance(op, dict) and "operationId" in op]  # fmt: skip
    assert len(operations) > 30
    for op in operations:
        (param,) = [p for p in op["parameters"] if p["name"] == "Accept-Language"]
        assert param["in"] == "header" and param["required"] is False, op["operationId"]
        assert param["schema"]["default"] == "nl" and "`en`" in param["description"]
