"""Security headers on every response; no-store on keyed API reads; the pepper start-up check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.config import DEV_PEPPER
from app.db import dispose_engine
from app.migrate import upgrade
from app.security import API_POLICY, DOCS_POLICY, PAGE_POLICY
from tests.app.conftest import auth, client_for, make_settings
from tests.security.conftest import World
from tests.security.test_routes import operations, request, roles_by_operation

ROOT = Path(__file__).resolve().parents[2]
FIXED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
PUBLIC_DATA = {"/api/v1/boundaries/{layer}"}  # public CBS data, cached publicly


def assert_secured(r: httpx.Response, policy: str) -> None:
    """The fixed headers and the expected Content-Security-Policy are present."""
    for name, value in FIXED.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
    assert r.headers.get("content-security-policy") == policy, r.request.url


def test_every_api_operation_sends_the_headers_and_no_store(world: World) -> None:
    """Every GET of the spec (JSON, CSV, XLSX, GeoJSON, application packs): headers, no-store."""
    roles = roles_by_operation(world)
    checked = set()
    for method, path, op in operations(world):
        role = roles[(method, path)]
        if method != "get" or role is None:
            continue
        r = request(world, method, path, op, world.a[role.value])
        assert r.status_code == 200, (path, r.status_code, r.text)
        assert_secured(r, API_POLICY)
        assert r.headers["cache-control"] == "no-store", (path, r.headers["cache-control"])
        checked.add(path.rsplit("/", 1)[-1])
    assert {"groups.csv", "groups.xlsx", "groups.geojson", "application", "application.csv",
            "{external_id}", "firms"} <= checked  # fmt: skip


def test_problem_responses_and_public_files_send_the_headers(world: World) -> None:
    """401, 403, 404, 422 problem+json, /health, /openapi.json and public data: headers too."""
    c, admin = world.client, auth(world.a["admin"])
    answers = [
        c.get("/api/v1/runs"),
        c.get("/api/v1/runs", headers=auth("kr_wrong")),
        c.post("/api/v1/profiles", json={}, headers=auth(world.a["viewer"])),
        c.get("/api/v1/runs/999999", headers=admin),
        c.get("/api/v1/firms?limit=0", headers=admin),
        c.get("/nothing-here"),
        c.get("/health"),
        c.get("/openapi.json"),
    ]
    assert [r.status_code for r in answers] == [401, 401, 403, 404, 422, 404, 200, 200]
    for r in answers:
        assert_secured(r, API_POLICY)
    for r in answers[1:5]:  # keyed API answers are never stored
        assert r.headers["cache-control"] == "no-store"
    boundaries = c.get("/api/v1/boundaries/province", headers=admin)
    assert_secured(boundaries, API_POLICY)
    assert boundaries.headers["cache-control"].startswith("public")


def test_map_and_docs_pages_get_their_policies(world: World) -> None:
    """The map and its assets: same-origin scripts and styles only; docs may inline styles."""
    c = world.client
    for url in ("/map", "/map/assets/map.js", "/map/assets/map.css",
                "/map/vendor/leaflet/leaflet.js"):  # fmt: skip
        r = c.get(url)
        assert r.status_code == 200, url
        assert_secured(r, PAGE_POLICY)
    assert "'unsafe-inline'" not in PAGE_POLICY and "'unsafe-eval'" not in PAGE_POLICY
    assert "script-src 'self';" in PAGE_POLICY and "frame-ancestors 'none'" in PAGE_POLICY
    for url in ("/docs", "/redoc"):
        r = c.get(url)
        assert r.status_code == 200, url
        assert_secured(r, DOCS_POLICY)
        assert "<script>" not in r.text  # no inline script: script-src 'self' suffices
    assert "script-src 'self';" in DOCS_POLICY


def test_body_limit_answer_sends_the_headers(tmp_path: Path) -> None:
    """The 413 written by the body-limit middleware carries the headers too."""
    settings = make_settings(tmp_path / "kring.db", max_body_bytes=1_000)
    upgrade(settings)
    with client_for(settings) as c:
        r = c.post("/api/v1/firms", content=b"x" * 5_000, headers=auth("kr_any"))
    assert r.status_code == 413
    assert_secured(r, API_POLICY)
    dispose_engine(settings.database_url)


def test_the_app_refuses_to_start_with_the_development_pepper(tmp_path: Path) -> None:
    """Without KRING_API_KEY_PEPPER the app does not start, unless dev_mode is set."""
    settings = make_settings(tmp_path / "kring.db", api_key_pepper=SecretStr(DEV_PEPPER))
    upgrade(settings)
    with pytest.raises(RuntimeError, match="KRING_API_KEY_PEPPER"), client_for(settings):
        pass
    allowed = settings.model_copy(update={"dev_mode": True})
    with client_for(allowed) as c:
        assert c.get("/health").status_code == 200
    dispose_engine(settings.database_url)


@pytest.mark.slow
def test_kring_serve_refuses_to_start_without_a_pepper(tmp_path: Path) -> None:
    """`kring serve` without KRING_API_KEY_PEPPER exits 2 saying what to set; no port opened."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRING_")}
    env["KRING_DATABASE_URL"] = f"sqlite:///{tmp_path / 'kring.db'}"
    code = "from app.cli import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "KRING_API_KEY_PEPPER ontbreekt" in out.stderr  # Dutch by default; --lang en
    assert "KRING_DEV_MODE=true" in out.stderr
