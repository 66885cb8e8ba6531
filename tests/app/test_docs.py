"""The offline documentation pages and the generator-friendly OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

from app.schemas import FirmCreate, ReviewCreate, RunCreate

BINARY = {"type": "string", "format": "binary"}
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
FILE_MEDIA_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _references(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets_and_no_inline_script(
    client: TestClient, page: str
) -> None:
    """/docs and /redoc reference only kring's own URLs, every one answers, no inline script."""
    r = client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    urls = _references(r.text)
    assert "/openapi.json" in urls and len(urls) >= 3
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", r.text) == []  # script-src 'self' holds
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert ASSET_TYPES.get(suffix, "json") in asset.headers["content-type"], url


def test_swagger_bundle_is_version_5_and_redoc_is_bundled(client: TestClient) -> None:
    """The served Swagger UI can read OpenAPI 3.1 (version 5) and ReDoc is the standalone build."""
    swagger = client.get("/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in swagger.text[:2000]
    assert re.search(r'"5\.\d+\.\d+"', swagger.text)
    assert len(client.get("/docs/assets/redoc.standalone.js").content) > 500_000
    assert "SwaggerUIBundle(" in client.get("/docs/assets/swagger-init.js").text


def test_unknown_docs_asset_is_a_problem_404(client: TestClient) -> None:
    """Only the listed assets are served; anything else is a problem+json 404."""
    for name in ("nope.js", "..%2F..%2Fmain.py", "core.py"):
        r = client.get(f"/docs/assets/{name}")
        assert r.status_code == 404, name
        assert r.headers["content-type"].startswith("application/problem+json")


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}


def test_upload_fields_carry_format_binary(client: TestClient) -> None:
    """Every 3.1 upload field (contentMediaType) also says format binary, for generators."""
    spec = client.get("/openapi.json").json()
    uploads = [n for n in _walk(spec) if "contentMediaType" in n]
    assert uploads, "firms-import has an upload field"
    assert all(n["type"] == "string" and n["format"] == "binary" for n in uploads)
    body = _operations(spec)["firms-import"]["requestBody"]["content"]["multipart/form-data"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec["components"]["schemas"][ref]["properties"]["file"]["format"] == "binary"


def test_file_responses_declare_a_binary_schema(client: TestClient) -> None:
    """xlsx and csv responses declare {type: string, format: binary}."""
    spec = client.get("/openapi.json").json()
    seen = []
    for op_id, op in _operations(spec).items():
        for code, response in op["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if media_type in FILE_MEDIA_TYPES:
                    seen.append((op_id, media_type))
                    assert content["schema"] == BINARY, (op_id, code, media_type)
    assert {m for _, m in seen} == set(FILE_MEDIA_TYPES)
    assert ("runs-groups-xlsx", FILE_MEDIA_TYPES[1]) in seen


def _examples(op: dict[str, Any]) -> list[Any]:
    content = op["requestBody"]["content"]["application/json"]
    return [example["value"] for example in content["examples"].values()]


@pytest.mark.parametrize(
    ("operation_id", "model"),
    [("runs-create", RunCreate), ("review-accept", ReviewCreate), ("firms-upsert", FirmCreate)],
)
def test_main_flows_carry_valid_request_examples(
    client: TestClient, operation_id: str, model: type[BaseModel]
) -> None:
    """Run, accept and firm upsert have request examples that their own models accept."""
    op = _operations(client.get("/openapi.json").json())[operation_id]
    examples = _examples(op)
    assert examples
    for value in examples:
        if isinstance(value, list):
            TypeAdapter(list[model]).validate_python(value)  # type: ignore[valid-type]
        else:
            model.model_validate(value)


def test_import_and_groups_are_documented_with_examples(client: TestClient) -> None:
    """The import form shows a sample CSV; groups and accept take example path parameters."""
    ops = _operations(client.get("/openapi.json").json())
    assert "external_id,name,postcode" in ops["firms-import"]["requestBody"]["description"]
    for op_id in ("runs-groups", "review-accept"):
        assert all(p["example"] == 1 for p in ops[op_id]["parameters"] if p["in"] == "path")


def test_runs_create_examples_start_runs(client: TestClient, keys: dict[str, str]) -> None:
    """Each runs-create example without a stored profile is accepted by the API (202)."""
    with open("tests/data/smes_small.csv", "rb") as fh:
        files = {"file": ("smes.csv", fh, "text/csv")}
        imported = client.post("/api/v1/firms/import", files=files, headers=_key(keys))
    assert imported.status_code == 200, imported.text
    examples = _examples(_operations(client.get("/openapi.json").json())["runs-create"])
    for value in examples:
        if "profile_id" in value:
            continue
        body = {**value, "time_limit_s": 1}
        r = client.post("/api/v1/runs", json=body, headers=_key(keys))
        assert r.status_code == 202, (value, r.text)


def _key(keys: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": keys["member"]}


def test_operations_are_named_for_people_not_after_functions(client: TestClient) -> None:
    """Every operation's summary is a sentence from its docstring, never "Get Csv"."""
    spec = client.get("/openapi.json").json()
    summaries = {
        f"{method.upper()} {path}": op["summary"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    made_up = {k: v for k, v in summaries.items() if v == v.title() and " " in v}
    assert not made_up
    assert summaries["GET /api/v1/runs/{run_id}/groups.csv"].startswith("The groups as CSV")
