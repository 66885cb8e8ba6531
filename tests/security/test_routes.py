"""Every operation of the live OpenAPI spec: declared role, 401 without a valid key, 403 for
each lower role, 404 for another organisation's objects (never 403 or 200)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import open_session
from app.deps import declared_role
from app.models import ApiKey, Role, utcnow
from app.services.organisations import hash_key
from tests.app.conftest import auth, issue_key
from tests.security.conftest import PUBLIC_PARAMS, World, minimal_instance, object_params

RANK = [Role.viewer, Role.member, Role.manager, Role.admin]
PUBLIC = {"/health", "/ready", "/api/v1/needs", "/api/v1/boundaries/{layer}", "/api/v1/texts"}
METHODS = {"get", "post", "put", "patch", "delete"}
CONVERTER = re.compile(r"\{(\w+):\w+\}")


def operations(w: World) -> list[tuple[str, str, dict[str, Any]]]:
    """``(method, path, operation)`` for every operation in the app's live spec."""
    spec = w.client.app.openapi()  # type: ignore[attr-defined]
    return [
        (m, p, op) for p, item in spec["paths"].items() for m, op in item.items() if m in METHODS
    ]


def roles_by_operation(w: World) -> dict[tuple[str, str], Role | None]:
    """The role each route declares through its dependencies (None: public)."""
    out = {}
    for route in _flat(w.client.app.routes):  # type: ignore[attr-defined]
        if getattr(route, "include_in_schema", False) and hasattr(route, "dependant"):
            for method in route.methods:
                path = CONVERTER.sub(r"{\1}", route.path)  # {external_id:path} in the spec
                out[(method.lower(), path)] = declared_role(route.dependant)
    return out


def _flat(routes: list[Any]) -> Any:
    """Routes with their full paths (FastAPI >= 0.13x nests included routers lazily)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()
        else:
            yield route


def request(  # type: ignore[no-untyped-def]
    w: World,
    method: str,
    path: str,
    op: dict[str, Any],
    key: str | None,
    via: TestClient | None = None,
    **kw: Any,
):
    """Call one operation with A's object parameters, a minimal valid body and ``key``."""
    spec = w.client.app.openapi()  # type: ignore[attr-defined]
    values = {**object_params(w), **{k: v for k, v in PUBLIC_PARAMS.items() if v}}
    params, url = {}, path
    for p in op.get("parameters", []):
        name = p["name"]
        if p["in"] == "path":
            assert name in values, f"{method.upper()} {path}: add {name!r} to object_params"
            url = url.replace("{" + name + "}", str(values[name]))
        elif p["in"] == "query" and p.get("required"):
            assert name in values, f"{method.upper()} {path}: add {name!r} to object_params"
            params[name] = values[name]
    content = op.get("requestBody", {}).get("content", {})
    body = None
    if "application/json" in content:
        body = minimal_instance(content["application/json"]["schema"], spec)
    headers = auth(key) if key else {}
    client = via or w.client
    return client.request(method, url, params=params, json=body, headers=headers, **kw)


def test_every_operation_declares_a_role_or_is_public(world: World) -> None:
    """Each route declares its least role via require(); the spec marks exactly those secured."""
    roles = roles_by_operation(world)
    for method, path, op in operations(world):
        role = roles[(method, path)]
        if path in PUBLIC:
            assert role is None and "security" not in op, (method, path)
        else:
            assert role is not None, f"{method.upper()} {path} declares no role"
            assert op.get("security") == [{"APIKeyHeader": []}], (method, path)
            assert {"401", "403"} <= op["responses"].keys(), (method, path)


def test_no_key_bad_revoked_or_expired_key_is_401(world: World) -> None:
    """Without a valid key every secured operation answers 401 problem+json."""
    w = world
    revoked, expired = (issue_key(w.settings, "north", Role.admin) for _ in range(2))
    with open_session(w.settings) as db:
        for key, column in ((revoked, "revoked_at"), (expired, "expires_at")):
            when = utcnow() - timedelta(seconds=1)
            db.execute(
                update(ApiKey)
                .where(ApiKey.key_hash == hash_key(key=key, settings=w.settings))
                .values({column: when})
            )
        db.commit()
    checked = 0
    for n, (method, path, op) in enumerate(operations(w)):
        if path in PUBLIC:
            continue
        # one client address per operation: 3 refused keys each stay below the 429 throttle
        via = TestClient(w.client.app, client=(f"127.0.{n // 250 + 1}.{n % 250 + 1}", 50000))
        for key in (None, "kr_" + "A" * 43, revoked, expired):
            r = request(w, method, path, op, key, via)
            assert r.status_code == 401, (method, path, key, r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            checked += 1
    assert checked >= 4 * 20


def test_lower_roles_are_403_and_the_declared_role_passes(world: World) -> None:
    """Each role below the declared one gets 403; GETs with the declared role answer 200."""
    w = world
    roles = roles_by_operation(w)
    for method, path, op in operations(w):
        role = roles[(method, path)]
        if role is None:
            assert request(w, method, path, op, None).status_code == 200, path
            continue
        for lower in RANK[: RANK.index(role)]:
            r = request(w, method, path, op, w.a[lower.value])
            assert r.status_code == 403, (method, path, lower, r.status_code, r.text)
            assert r.json()["type"].endswith("/forbidden")
        if method == "get":
            r = request(w, method, path, op, w.a[role.value])
            assert r.status_code == 200, (method, path, role, r.status_code, r.text)


def test_other_organisations_objects_are_404(world: World) -> None:
    """Org B's admin key gets 404 for every operation naming one of A's objects."""
    w = world
    names = set(object_params(w))
    checked = 0
    for method, path, op in operations(w):
        if path in PUBLIC:
            continue
        refs = [p for p in op.get("parameters", []) if p["name"] in names and p.get("required")]
        if not refs:
            continue
        r = request(w, method, path, op, w.b["admin"])
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json()["type"].endswith("/not-found")
        checked += 1
    assert checked >= 10
    # ... and nothing was changed by those attempts
    r = w.client.get(f"/api/v1/runs/{w.run_id}", headers=auth(w.a["viewer"]))
    assert r.json()["status"] == "succeeded"
    firms = w.client.get("/api/v1/firms", headers=auth(w.a["member"])).json()
    assert firms["total"] == len(w.firm_ids)
    assert w.client.get("/api/v1/competitors", headers=auth(w.a["member"])).json()["total"] == 2


def test_collections_never_show_other_organisations_rows(world: World) -> None:
    """Every parameterless GET with B's admin key shows none of A's firm ids or names."""
    w = world
    secrets = [f'"{i}"' for i in w.firm_ids] + ["Bouwbedrijf Bakker", "north"]
    for method, path, op in operations(w):
        if method != "get" or path in PUBLIC or "{" in path:
            continue
        r = request(w, method, path, op, w.b["admin"])
        assert r.status_code == 200, (path, r.text)
        leaked = [s for s in secrets if s in r.text]
        assert not leaked, (path, leaked)


def test_body_references_to_other_organisations_objects_are_404(world: World) -> None:
    """A run may not name another organisation's profile: 404, and no run is created."""
    w = world
    body = {"purpose": "training", "profile_id": w.profile_id, "time_limit_s": 1}
    r = w.client.post("/api/v1/runs", json=body, headers=auth(w.b["admin"]))
    assert r.status_code == 404, r.text
    assert w.client.get("/api/v1/runs", headers=auth(w.b["viewer"])).json()["total"] == 0
