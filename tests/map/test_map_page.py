"""The map page in Debian's chromium against a live server with a demo cohort and a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
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
    """The run's hulls, firm markers and group list match the API; no console errors."""
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
    assert page.locator("path.kring-hull").count() == kinds["hull"] == len(groups["groups"])
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


def test_need_filter_hides_groups_without_that_theme(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Choosing a need leaves exactly the groups with that theme, in the list and on the map."""
    groups, _ = _expected(live_server)
    themes = Counter(g["theme"] for g in groups["groups"])
    if len(themes) < 2:
        pytest.skip("every group of the demo run has the same theme")
    theme, count = themes.most_common()[-1]
    page = open_browser()
    _open_run(page, live_server)
    page.select_option("#filter-need", theme)
    shown = page.locator(".group-item")
    assert shown.count() == count < len(groups["groups"])
    expected_ids = sorted(str(g["number"]) for g in groups["groups"] if g["theme"] == theme)
    ids = sorted(shown.nth(i).get_attribute("data-group-id") for i in range(shown.count()))
    assert ids == expected_ids
    assert page.locator("path.kring-hull").count() == count


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


def test_a_running_run_is_drawn_once_it_has_finished(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Opening the map on a queued or running run shows progress, then draws its groups."""
    response = httpx.post(
        live_server.base_url + "/api/v1/runs",
        json={"purpose": "training", "time_limit_s": 2, "seed": 1},
        headers={"X-API-Key": live_server.key},
        timeout=30,
    )
    assert response.status_code == 202
    run_id = response.json()["id"]
    page = open_browser()
    errors = _errors(page)
    page.goto(f"{live_server.base_url}/map?run={run_id}")
    page.fill("#key-input", live_server.key)
    page.press("#key-input", "Enter")
    page.wait_for_selector(f"body[data-run='{run_id}']", timeout=240_000)
    groups = live_server.get(f"/api/v1/runs/{run_id}/groups")
    assert page.locator(".group-item").count() == len(groups["groups"])
    assert "gelukt" in page.inner_text(f"#run-select option[value='{run_id}']")
    assert errors == []


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


def test_page_is_dutch_by_default_and_english_with_lang_en(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """Labels, group titles and reasons come from the catalogue: Dutch, or English with lang=en."""
    groups, _ = _expected(live_server)
    group = groups["groups"][0]
    reason = groups["unassigned"][0]
    page = open_browser()
    errors = _errors(page)
    _open_run(page, live_server)
    assert page.inner_text("#groups-title").startswith("Groepen")
    assert page.get_attribute("html", "lang") == "nl"
    assert page.inner_text("label[for=filter-need]") == "Thema of vraag"
    assert reason["reason_label"] in (page.text_content("#unassigned-list") or "")  # Dutch
    page.screenshot(path=str(artifacts / "map-nl.png"))
    english = open_browser()
    english.goto(f"{live_server.base_url}/map?run={live_server.run_id}&lang=en")
    english.fill("#key-input", live_server.key)
    english.press("#key-input", "Enter")
    english.wait_for_selector(f"body[data-run='{live_server.run_id}']")
    assert english.inner_text("#groups-title").startswith("Groups")
    english.click(f'.group-item[data-group-id="{group["number"]}"]')
    assert f"Group {group['number']} ·" in english.inner_text("#detail-title")
    assert " firms, " in english.inner_text("#detail-explanation")
    english.screenshot(path=str(artifacts / "map-en.png"))
    assert errors == []
