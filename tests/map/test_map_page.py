"""The map page in Debian's chromium against a live server with a demo cohort and a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.map.conftest import LiveServer

pytestmark = pytest.mark.slow

OpenBrowser = Callable[..., Any]


def _errors(page: Any) -> list[str]:
    """Collect console errors and uncaught exceptions of ``page`` from now on."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return errors


def _enter_key(page: Any, live: LiveServer, key: str) -> None:
    page.goto(f"{live.base_url}/map?run={live.run_id}")
    page.fill("#key-input", key)
    page.press("#key-input", "Enter")


def _open_run(page: Any, live: LiveServer) -> None:
    _enter_key(page, live, live.key)
    page.wait_for_selector(f"body[data-run='{live.run_id}']")


def _expected(live: LiveServer) -> tuple[dict[str, Any], dict[str, Any]]:
    groups = live.get(f"/api/v1/runs/{live.run_id}/groups")
    geojson = live.get(f"/api/v1/runs/{live.run_id}/groups.geojson?unassigned=true")
    return groups, geojson


def test_page_draws_every_group_and_firm_without_console_errors(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """Outlines on and zoomed in: one hull per group and one dot per firm, as in the API."""
    groups, geojson = _expected(live_server)
    kinds = Counter(
        "hull" if f["geometry"]["type"] != "Point"
        else "firm" if f["properties"].get("group_number") is not None
        else "unassigned"
        for f in geojson["features"]
    )  # fmt: skip
    assert groups["groups"], "the demo run formed groups"
    page = open_browser(1280, 800)
    errors = _errors(page)
    _open_run(page, live_server)
    assert page.locator(".group-item").count() == len(groups["groups"])
    page.check("#show-hulls")
    assert page.locator("path.kring-hull").count() == kinds["hull"] == len(groups["groups"])
    for _ in range(2):  # one zoom step at a time (a click during the animation is lost)
        page.click(".leaflet-control-zoom-in")
        page.wait_for_timeout(600)
    page.locator("path.kring-firm").nth(kinds["firm"] - 1).wait_for(state="attached")
    assert page.locator("path.kring-firm").count() == kinds["firm"]
    assert kinds["firm"] == sum(len(g["members"]) for g in groups["groups"])
    assert page.locator("path.kring-unassigned").count() == kinds["unassigned"] > 0
    assert page.locator("#unassigned-list li").count() == len(groups["unassigned"])
    assert page.locator("#message").is_hidden()
    page.screenshot(path=str(artifacts / "map-1280x800.png"))
    assert errors == []


def test_clicking_a_group_lists_its_members(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Clicking a group in the list shows its theme and one table row per member."""
    groups, _ = _expected(live_server)
    group = groups["groups"][-1]
    page = open_browser()
    _open_run(page, live_server)
    page.click(f'.group-item[data-group-id="{group["number"]}"]')
    page.wait_for_selector("#group-detail:not([hidden])")
    assert f"Groep {group['number']} ·" in page.inner_text("#detail-title")  # Dutch default
    rows = page.locator("#member-table tbody tr")
    assert rows.count() == len(group["members"])
    names = sorted(rows.nth(i).locator("td").first.inner_text() for i in range(rows.count()))
    assert names == sorted(m["name"] for m in group["members"])


def test_group_list_works_from_the_keyboard(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Arrow keys move focus through the group list and Enter opens the focused group."""
    groups, _ = _expected(live_server)
    if len(groups["groups"]) < 2:
        pytest.skip("the demo run formed a single group")
    page = open_browser()
    _open_run(page, live_server)
    page.focus(".group-item >> nth=0")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#group-detail:not([hidden])")
    second = groups["groups"][1]
    assert page.get_attribute(".group-item >> nth=1", "aria-pressed") == "true"
    assert f"Groep {second['number']} ·" in page.inner_text("#detail-title")


def test_province_and_status_filters_narrow_the_list(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """The province filter keeps groups with a member there; unticking a status hides it."""
    groups, _ = _expected(live_server)
    by_province = Counter(
        p for g in groups["groups"] for p in {m["province"] for m in g["members"]}
    )
    province, count = by_province.most_common()[-1]
    page = open_browser()
    _open_run(page, live_server)
    page.select_option("#filter-province", province)
    assert page.locator(".group-item").count() == count
    page.select_option("#filter-province", "")
    page.uncheck("input[name=status][value=proposed]")
    proposed = sum(g["status"] == "proposed" for g in groups["groups"])
    assert page.locator(".group-item").count() == len(groups["groups"]) - proposed


def test_outlines_can_be_limited_to_the_selected_group(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """With "outline every group" off only the selected group's hull stays on the map."""
    page = open_browser()
    _open_run(page, live_server)
    page.uncheck("#show-hulls")
    assert page.locator("path.kring-hull").count() == 0
    page.click(".group-item >> nth=0")
    assert page.locator("path.kring-hull").count() == 1
    page.click("#detail-close")
    assert page.locator("path.kring-hull").count() == 0


def test_wrong_api_key_shows_a_clear_message(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """A key the service rejects gives a visible message and asks for the key again."""
    page = open_browser()
    _enter_key(page, live_server, "not-a-real-key")
    message = page.wait_for_selector("#message:not([hidden])")
    assert "API-sleutel werd niet geaccepteerd" in message.inner_text()
    assert page.is_visible("#key-form")
    assert page.locator(".group-item").count() == 0
    assert page.evaluate("sessionStorage.getItem('kring.apiKey')") is None


def test_key_is_kept_in_session_storage_for_reloads(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """After one accepted key a reload opens the run without asking again."""
    page = open_browser()
    _open_run(page, live_server)
    assert page.evaluate("sessionStorage.getItem('kring.apiKey')") == live_server.key
    page.reload()
    page.wait_for_selector(".group-item")
    assert page.is_hidden("#key-form")


def test_page_fits_a_phone_width_screen(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """At 390 px wide nothing scrolls sideways and map and group list are both visible."""
    page = open_browser(390, 844)
    errors = _errors(page)
    _open_run(page, live_server)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page.is_visible("#map")
    assert page.locator(".group-item").first.is_visible()
    page.screenshot(path=str(artifacts / "map-390x844.png"))
    assert errors == []


def test_page_is_usable_at_900_px_wide(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """At 900 px: no sideways scrolling, panel and a map wider than it, legend in view."""
    page = open_browser(900, 700)
    errors = _errors(page)
    _open_run(page, live_server)
    assert page.evaluate("document.documentElement.scrollWidth") <= 900
    panel = page.locator("#panel").bounding_box()
    area = page.locator("#map").bounding_box()
    assert area["width"] >= 500 and panel["width"] >= 300
    legend = page.locator("#legend").bounding_box()
    assert legend["x"] + legend["width"] <= 900 and legend["y"] + legend["height"] <= 700
    page.focus(".group-item >> nth=0")
    page.keyboard.press("Enter")
    page.wait_for_selector("#group-detail:not([hidden])")
    assert page.locator("#group-detail").bounding_box()["width"] <= panel["width"]
    page.screenshot(path=str(artifacts / "map-900x700.png"))
    assert errors == []
