"""/docs and /redoc in Debian's chromium with every request off the server refused.

Requests to any other host are aborted (Playwright routing) and recorded; the HTML pages get
the Content-Security-Policy below when the server sends none of its own, so the test also
pins that the pages work with ``script-src 'self'`` (no inline script).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.map.conftest import LiveServer

pytestmark = pytest.mark.slow

OpenBrowser = Callable[..., Any]
DATA = Path(__file__).resolve().parents[1] / "data"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
# ReDoc's sidebar always asks for its vendor's logo (an <img>); it hides it when that fails.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _offline(page: Any, live: LiveServer) -> tuple[list[str], list[str]]:
    """Refuse every request off the live server; return (refused URLs, console errors)."""
    refused: list[str] = []
    errors: list[str] = []

    def route(handle: Any) -> None:
        request = handle.request
        if not request.url.startswith(live.base_url + "/"):
            refused.append(request.url)
            handle.abort()
        elif request.resource_type == "document":
            response = handle.fetch()
            headers = {"content-security-policy": CSP, **response.headers}
            handle.fulfill(response=response, headers=headers)
        else:
            handle.continue_()

    page.context.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return refused, errors


def _operations(live: LiveServer) -> list[str]:
    spec = httpx.get(live.base_url + "/openapi.json", timeout=30).json()
    return [op["operationId"] for item in spec["paths"].values() for op in item.values()]


def _csv() -> tuple[bytes, list[str]]:
    """smes_small.csv with ids ``docs-g01``… (the demo organisation has none of these)."""
    header, *rows = (DATA / "smes_small.csv").read_text(encoding="utf-8").splitlines()
    rows = [f"docs-{row}" for row in rows]
    return "\n".join([header, *rows, ""]).encode(), [row.split(",", 1)[0] for row in rows]


def _authorize(page: Any, key: str) -> None:
    page.click("button.authorize")
    page.fill(".auth-container input", key)
    page.click(".auth-btn-wrapper button.authorize")
    page.click(".auth-btn-wrapper button.btn-done")


def test_swagger_ui_renders_offline_and_uploads_a_csv(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """/docs shows every operation with the network refused; Try it out imports a CSV (200)."""
    operations = _operations(live_server)
    page = open_browser(1280, 900)
    refused, errors = _offline(page, live_server)
    page.goto(f"{live_server.base_url}/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() == len(operations)
    assert page.locator(".opblock-summary-operation-id").all_inner_texts() != []
    payload, ids = _csv()
    _authorize(page, live_server.key)
    block = page.locator("#operations-firms-firms-import")
    block.locator(".opblock-summary").click()
    block.locator(".try-out__btn").click()
    upload = {"name": "smes.csv", "mimeType": "text/csv", "buffer": payload}
    block.locator("input[type=file]").set_input_files(upload)
    block.locator(".execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status")
    status.wait_for()
    assert status.inner_text().strip() == "200"
    body = json.loads(block.locator(".live-responses-table .microlight").first.inner_text())
    assert body["external_ids"] == ids and body["created"] + body["updated"] == len(ids)
    page.screenshot(path=str(artifacts / "docs-swagger.png"))
    for external_id in ids:
        assert live_server.get(f"/api/v1/firms/{external_id}")["external_id"] == external_id
    assert refused == [] and errors == []


def test_redoc_renders_offline(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """/redoc shows a section per operation with the network refused, without script errors."""
    operations = _operations(live_server)
    page = open_browser(1280, 900)
    refused, errors = _offline(page, live_server)
    page.goto(f"{live_server.base_url}/redoc")
    page.wait_for_selector("[data-section-id*='/operation/']")
    sections = page.locator("[id^='tag/'][id*='/operation/']")
    assert sections.count() == len(operations)
    assert page.locator("[id='tag/firms/operation/firms-import'] h2").is_visible()
    page.screenshot(path=str(artifacts / "docs-redoc.png"))
    assert set(refused) <= {REDOC_LOGO}
    assert [e for e in errors if REDOC_LOGO not in e] == []  # the CSP refuses the logo too
