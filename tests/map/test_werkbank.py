"""The werkbank in Debian's chromium: 100+ groups, filters, search, decisions, compare, English.

One live server with the demo's 1,500 firms (tests/map/conftest.py); every test opens a
fresh browser profile with the key already in sessionStorage, as after one entry.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.map.conftest import LiveServer

pytestmark = pytest.mark.slow

OpenBrowser = Callable[..., Any]
GROUP_ITEMS = ".group-item"


def _errors(page: Any) -> list[str]:
    """Collect console errors and uncaught exceptions of ``page`` from now on."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return errors


def _open(page: Any, live: LiveServer, key: str, query: str = "") -> None:
    """Open /map?run=<demo run><query> with ``key`` in sessionStorage; wait until drawn."""
    page.add_init_script(f"sessionStorage.setItem('kring.apiKey', {json.dumps(key)})")
    page.goto(f"{live.base_url}/map?run={live.run_id}{query}")
    page.wait_for_selector(f"body[data-run='{live.run_id}']")


def _groups(live: LiveServer, run_id: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = live.get(f"/api/v1/runs/{run_id or live.run_id}/groups")
    return body


def test_overview_of_100_plus_groups_is_readable_and_measured(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """100+ groups load: a number per group, neighbours coloured apart, towns, legend; timed."""
    groups = _groups(live_server)
    assert len(groups["groups"]) >= 100
    page = open_browser(1280, 800)
    errors = _errors(page)
    _open(page, live_server, live_server.manager_key)
    assert page.locator(GROUP_ITEMS).count() == len(groups["groups"])
    assert page.locator(".kring-badge").count() == len(groups["groups"])
    assert page.locator(".town-label").count() >= 5
    assert page.locator("#legend").is_visible()
    assert page.locator("#legend").bounding_box()["y"] < 800  # in view, not below the list
    pairs = int(page.get_attribute("body", "data-neighbour-pairs") or 0)
    clashes = int(page.get_attribute("body", "data-colour-clashes") or 0)
    assert pairs > len(groups["groups"]) and clashes / pairs < 0.15
    assert page.evaluate("document.querySelectorAll('path.kring-firm').length") == 0  # overview
    assert page.locator(".kring-cluster").count() > 0  # unassigned firms clustered
    summary = page.locator("#summary-province tbody tr")
    assert summary.count() == len({m["province"] for g in groups["groups"] for m in g["members"]})
    page.screenshot(path=str(artifacts / "werkbank-overview.png"))
    timing = page.evaluate(
        """() => {
        const entries = performance.getEntriesByType("resource")
          .concat(performance.getEntriesByType("navigation"));
        const sum = (f) => entries.reduce((n, e) => n + (e[f] || 0), 0);
        const at = (name) => (performance.getEntriesByName(name)[0] || {}).startTime;
        const end = (part) => Math.max(...entries.filter((e) => e.name.indexOf(part) >= 0)
          .map((e) => e.responseEnd));
        return {encoded: sum("encodedBodySize"), decoded: sum("decodedBodySize"),
                transfer: sum("transferSize"), requests: entries.length,
                scripts_ms: end("/map/assets/"), data_ms: at("kring-data"),
                rendered_ms: at("kring-rendered"),
                slowest: entries.filter((e) => e.name.indexOf("/api/") >= 0)
                  .map((e) => [e.name.split("/api/v1/")[1], Math.round(e.startTime),
                               Math.round(e.responseEnd)])};
    }"""
    )
    firms = sum(len(g["members"]) for g in groups["groups"]) + len(groups["unassigned"])
    timing.update(firms=firms, groups=len(groups["groups"]))
    (artifacts / "werkbank-bench.json").write_text(json.dumps(timing, indent=2))
    # issue 17 asks <= 2 MB and <= 2 s; the render bound here leaves room for a busy CI box
    assert timing["encoded"] <= 2_000_000 and timing["rendered_ms"] <= 4000, timing
    for _ in range(2):  # one zoom step at a time (a click during the animation is lost)
        page.click(".leaflet-control-zoom-in")
        page.wait_for_timeout(600)
    page.locator("path.kring-firm").first.wait_for(state="attached")  # zoomed in: the firms
    assert errors == []


def test_filters_by_status_theme_gemeente_and_size(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Theme, gemeente and size filters leave exactly the matching groups; statuses hide."""
    groups = _groups(live_server)["groups"]
    theme, count = Counter(g["theme"] for g in groups).most_common()[-1]
    page = open_browser()
    _open(page, live_server, live_server.key)
    page.select_option("#filter-need", theme)
    ids = sorted(int(i) for i in page.locator(GROUP_ITEMS).evaluate_all(
        "els => els.map(e => e.dataset.groupId)"))  # fmt: skip
    assert ids == sorted(g["number"] for g in groups if g["theme"] == theme) and len(ids) == count
    assert page.locator(".kring-badge").count() == count
    page.select_option("#filter-need", "")
    places = Counter(m["gemeente_name"] for g in groups for m in g["members"])
    gemeente = places.most_common(1)[0][0]
    page.select_option("#filter-gemeente", gemeente)
    with_gemeente = [g for g in groups if any(m["gemeente_name"] == gemeente for m in g["members"])]
    assert page.locator(GROUP_ITEMS).count() == len(with_gemeente)
    page.select_option("#filter-gemeente", "")
    page.fill("#filter-min", "14")
    page.dispatch_event("#filter-min", "change")
    assert page.locator(GROUP_ITEMS).count() == sum(len(g["members"]) >= 14 for g in groups)
    page.fill("#filter-min", "")
    page.dispatch_event("#filter-min", "change")
    page.uncheck("input[name=status][value=proposed]")
    assert page.locator(GROUP_ITEMS).count() == sum(g["status"] != "proposed" for g in groups)


def test_deep_link_opens_a_group_and_its_print_view(
    live_server: LiveServer, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """/map?run=R&group=N opens group N; its print view lists members, needs and a small map."""
    group = _groups(live_server)["groups"][6]
    number = group["number"]
    page = open_browser(1280, 800)
    errors = _errors(page)
    _open(page, live_server, live_server.key, f"&group={number}")
    page.wait_for_selector("#group-detail:not([hidden])")
    assert page.inner_text("#detail-title").startswith(f"Groep {number} · ")
    assert "—" not in page.inner_text("#detail-title")
    assert page.locator("#member-table tbody tr").count() == len(group["members"])
    assert page.get_attribute(f'.group-item[data-group-id="{number}"]', "aria-pressed") == "true"
    page.wait_for_timeout(800)  # the zoom animation has ended
    page.screenshot(path=str(artifacts / "werkbank-group.png"))
    page.click("#print-link")
    page.wait_for_selector(f"body[data-print='{number}']")
    assert page.locator(".print-members tbody tr").count() == len(group["members"])
    assert page.locator(".small-map circle.firm").count() == len(group["members"])
    assert group["members"][0]["name"] in page.inner_text("#print-sheet")
    assert page.locator("#map").is_hidden()
    page.screenshot(path=str(artifacts / "werkbank-print.png"), full_page=True)
    assert errors == []


def test_search_finds_a_firm_by_name_postcode_and_kvk_number(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Typing a name, postcode or KvK number lists the firm; choosing it opens its group."""
    group = _groups(live_server)["groups"][3]
    member = group["members"][0]
    firm = live_server.get(f"/api/v1/firms/{member['external_id']}")
    page = open_browser()
    _open(page, live_server, live_server.key)
    for query in (member["name"], member["postcode"], firm["kvk_number"]):
        if not query:
            continue
        page.fill("#search", query)
        hit = page.locator(f'.search-hit[data-external-id="{member["external_id"]}"]')
        hit.wait_for()
    hit.click()
    page.wait_for_selector("#group-detail:not([hidden])")
    assert page.inner_text("#detail-title").startswith(f"Groep {group['number']} ")
    assert page.locator("#member-table tr.found").count() == 1


def test_manager_accepts_a_group_with_a_comment(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """A manager's Accept stores the decision and comment; a member key sees no buttons."""
    group = _groups(live_server)["groups"][-1]
    number = group["number"]
    member = open_browser()
    _open(member, live_server, live_server.key, f"&group={number}")
    member.wait_for_selector("#group-detail:not([hidden])")
    assert member.locator("#decision").is_hidden()
    page = open_browser()
    errors = _errors(page)
    _open(page, live_server, live_server.manager_key, f"&group={number}")
    page.wait_for_selector("#decision:not([hidden])")
    page.fill("#decision-comment", "Eerste bijeenkomst in Assen")
    page.click("#accept")
    page.wait_for_selector("#message.ok")
    assert f"Groep {number} is geaccepteerd" in page.inner_text("#message")
    assert "geaccepteerd" in page.inner_text(f'.group-item[data-group-id="{number}"]')
    stored = next(g for g in _groups(live_server)["groups"] if g["number"] == number)
    assert stored["status"] == "accepted"
    manager = {"X-API-Key": live_server.manager_key}
    audit = httpx.get(live_server.base_url + "/api/v1/audit?limit=20", headers=manager).json()
    assert any("Eerste bijeenkomst in Assen" in json.dumps(e) for e in audit["items"])
    assert errors == []


def test_unassigned_firm_says_why_it_was_not_placed(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Choosing an unassigned firm zooms to it and shows its reason and the best change."""
    left = _groups(live_server)["unassigned"][0]
    advice = live_server.get(
        f"/api/v1/runs/{live_server.run_id}/unassigned/{left['external_id']}/relaxation"
    )
    page = open_browser()
    errors = _errors(page)
    _open(page, live_server, live_server.key)
    page.click("#unassigned-details summary")
    page.click(f'.unassigned-item[data-external-id="{left["external_id"]}"]')
    page.wait_for_selector("#why:not([hidden])")
    assert page.inner_text("#why-title") == "Waarom niet ingedeeld?"
    assert left["reason_label"] in page.inner_text("#why-reason")
    page.wait_for_selector("#why-advice .advice")
    if advice["advice"]:
        assert advice["advice"] in page.inner_text("#why-advice")
    assert page.evaluate("document.querySelector('.leaflet-popup-content') !== null")
    assert errors == []


def test_compare_marks_unchanged_new_and_dropped_groups_and_moved_firms(
    live_server: LiveServer, other_run: int, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """Comparing with a second run rings every moved firm and counts groups as the API does."""
    cmp = live_server.get(f"/api/v1/runs/{live_server.run_id}/compare/{other_run}")
    page = open_browser(1280, 800)
    errors = _errors(page)
    _open(page, live_server, live_server.key, f"&compare={other_run}")
    page.wait_for_selector(f"body[data-compare='{other_run}']")
    assert page.get_attribute("body", "data-moved") == str(len(cmp["moved"]))
    fresh = cmp["groups"]["b"] - len({m["b"] for m in cmp["matched_groups"]})
    dropped = cmp["groups"]["a"] - len({m["a"] for m in cmp["matched_groups"]})
    assert page.locator("path.kring-new-hull").count() == fresh
    assert page.locator(".badge.cmp-dropped").count() == dropped
    assert page.locator(".badge.cmp-unchanged").count() == len(cmp["unchanged_groups"])
    summary = page.inner_text("#compare-summary")
    assert f"{len(cmp['moved'])} verplaatst" in summary and "max_pair_km" in summary
    moved_from = Counter(m["from_group"] for m in cmp["moved"])
    number, moved = moved_from.most_common(1)[0]
    page.click(f'.group-item[data-group-id="{number}"]')  # its moved firms get their rings
    assert page.locator("path.kring-moved").count() == moved
    page.locator("#compare-summary").scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # the zoom animation has ended
    page.screenshot(path=str(artifacts / "werkbank-compare.png"))
    assert errors == []


def test_switch_to_english(live_server: LiveServer, open_browser: OpenBrowser) -> None:
    """The EN switch reloads the page in English: labels, titles and API answers."""
    group = _groups(live_server)["groups"][0]
    page = open_browser()
    errors = _errors(page)
    _open(page, live_server, live_server.key, f"&group={group['number']}")
    assert page.inner_text("#groups-title").startswith("Groepen")
    page.click("#lang-en")
    page.wait_for_selector("html[lang='en']")
    page.wait_for_selector(f"body[data-run='{live_server.run_id}']")
    page.wait_for_selector("#group-detail:not([hidden])")
    assert page.inner_text("#groups-title").startswith("Groups")
    assert page.inner_text("#detail-title").startswith(f"Group {group['number']} · ")
    assert " firms" in page.inner_text("#detail-explanation")  # the API answered in English
    assert page.inner_text("label[for=search]") == "Find a firm"
    assert "lang=en" in page.url
    assert errors == []


def test_new_run_from_a_profile_shows_live_progress(
    live_server: LiveServer, open_browser: OpenBrowser
) -> None:
    """Start from a (peer) profile: a progress bar follows it, then the map shows its groups."""
    page = open_browser()
    errors = _errors(page)
    _open(page, live_server, live_server.key)
    page.click("#new-run-card summary")
    profiles = live_server.get("/api/v1/profiles")["items"]
    peer = next(p for p in profiles if p["purpose"] == "peer")
    page.select_option("#profile-select", str(peer["id"]))
    page.fill("#time-limit", "2")
    page.click("#start-run")
    page.wait_for_selector("#new-run-progress:not([hidden])")
    run_id = int(page.wait_for_selector("body[data-new-run]").get_attribute("data-new-run"))
    assert "Run " in page.wait_for_selector("#new-run-text:not(:empty)").inner_text()
    page.wait_for_selector(f"body[data-run='{run_id}']", timeout=240_000)
    assert page.evaluate("document.getElementById('new-run-bar').value") == 1
    assert live_server.get(f"/api/v1/runs/{run_id}")["profile_id"] == peer["id"]
    titles = page.locator(".group-item .title").all_inner_texts()
    assert titles and all(" e.o." in t and "—" not in t for t in titles)  # named by place
    assert errors == []
