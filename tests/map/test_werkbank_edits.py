"""Hand edits on the werkbank in Debian's chromium: move, refusal in Dutch, add, invitation.

The shared live server (tests/map/conftest.py) gets one extra run of the demo cohort made
here; only that run is edited, so the other map tests see the demo run as it was.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.map.conftest import LiveServer

pytestmark = pytest.mark.slow

OpenBrowser = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "test-artifacts" / "refused-move.png"  # copied by hand to docs/screenshots


def _manager(live: LiveServer, method: str, path: str, body: Any = None) -> httpx.Response:
    headers = {"X-API-Key": live.manager_key}
    return httpx.request(method, live.base_url + path, json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def edit_run(live_server: LiveServer) -> int:
    """A run of its own for these tests to edit (the demo run stays untouched)."""
    body = {"purpose": "training", "time_limit_s": 4, "seed": 11}
    run_id: int = live_server.post("/api/v1/runs", body)["id"]
    assert live_server.wait_for_run(run_id)["status"] == "succeeded"
    return run_id


def _groups(live: LiveServer, run_id: int) -> dict[str, Any]:
    body: dict[str, Any] = live.get(f"/api/v1/runs/{run_id}/groups")
    return body


def _centre(group: dict[str, Any]) -> tuple[float, float]:
    c = group["details"]["centroid"]
    return c["lat"], c["lon"]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[1] - b[1]) * math.cos(math.radians(a[0])) * 111.3
    return math.hypot((a[0] - b[0]) * 111.3, dx)


def _dry(live: LiveServer, run_id: int, body: dict[str, Any]) -> dict[str, Any]:
    response = _manager(live, "POST", f"/api/v1/runs/{run_id}/edits?dry_run=true", body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _find_move(live: LiveServer, run_id: int, legal: bool) -> dict[str, Any]:
    """A move the server allows or refuses, found by dry runs.

    Legal: into a group with room (training groups fill up to 15, so most have none), from
    the nearest groups above the minimum size, a member that has the target's theme.
    Illegal: from the largest groups to the farthest ones.
    """
    groups = [g for g in _groups(live, run_id)["groups"] if not g.get("locked")]
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if legal:
        low, high = min(len(g["members"]) for g in groups), max(len(g["members"]) for g in groups)
        targets = sorted((o for o in groups if len(o["members"]) < high),
                         key=lambda o: len(o["members"]))  # fmt: skip
        for o in targets[:8]:
            sources = sorted((g for g in groups if g["number"] != o["number"]
                              and len(g["members"]) > low),
                             key=lambda g: _km(_centre(g), _centre(o)))  # fmt: skip
            pairs += [(g, o) for g in sources[:4]]
    else:
        for g in sorted(groups, key=lambda g: -len(g["members"]))[:8]:
            others = sorted((o for o in groups if o["number"] != g["number"]),
                            key=lambda o: _km(_centre(g), _centre(o)), reverse=True)  # fmt: skip
            pairs += [(g, o) for o in others[:4]]
    for g, o in pairs:
        members = g["members"]
        if legal and o.get("theme"):
            members = [m for m in members if o["theme"] in (m.get("needs") or [])] or members
        for m in members[:4]:
            body = {"kind": "move", "firm": m["external_id"], "to_group": o["number"]}
            answer = _dry(live, run_id, body)
            if answer["allowed"] == legal:
                return {**body, "from": g["number"], "name": m["name"], "answer": answer}
    raise AssertionError(f"no {'legal' if legal else 'illegal'} move found")


def _open(page: Any, live: LiveServer, run_id: int, query: str) -> None:
    page.add_init_script(f"sessionStorage.setItem('kring.apiKey', {json.dumps(live.manager_key)})")
    page.goto(f"{live.base_url}/map?run={run_id}{query}")
    page.wait_for_selector(f"body[data-run='{run_id}']")


def _choose_move(page: Any, move: dict[str, Any]) -> None:
    page.wait_for_selector("#edit-kind")
    page.select_option("#edit-kind", "move")
    page.select_option("#edit-firm", move["firm"])
    page.select_option("#edit-to", str(move["to_group"]))
    page.click("#edit-check")
    page.wait_for_selector("#edit-preview .edit-apply")


def test_legal_move_is_checked_applied_stored_and_audited(
    live_server: LiveServer, edit_run: int, open_browser: OpenBrowser, artifacts: Path
) -> None:
    """A legal move: dry-run effects on the card, applied, card refreshed, in /edits and audit."""
    move = _find_move(live_server, edit_run, legal=True)
    page = open_browser(1280, 900)
    _open(page, live_server, edit_run, f"&group={move['from']}")
    _choose_move(page, move)
    rows = page.locator("#edit-preview .edit-effects tbody tr")
    assert rows.count() == 2  # both changed groups, before -> after
    assert "vraagoverlap" in page.inner_text("#edit-preview")
    assert "Geen regel wordt gebroken" in page.inner_text("#edit-preview")
    started = time.perf_counter()
    page.click("#edit-preview .edit-apply")
    page.wait_for_selector("#message.ok")
    wall_ms = (time.perf_counter() - started) * 1000
    assert "revisie 1" in page.inner_text("#message")
    gone = f"#member-table tr[data-external-id='{move['firm']}']"
    page.wait_for_selector(gone, state="detached")  # the card shows the group after the move
    assert f"Groep {move['from']} " in page.inner_text("#detail-title")  # its number stays
    dry_ms = int(page.get_attribute("body", "data-edit-dry-run-ms") or -1)
    apply_ms = int(page.get_attribute("body", "data-edit-apply-ms") or -1)
    assert dry_ms >= 0 and apply_ms >= 0
    assert (
        page.locator(f'.group-item[data-group-id="{move["to_group"]}"] .badge.edited').count() == 1
    )
    after = {g["number"]: g for g in _groups(live_server, edit_run)["groups"]}
    assert move["firm"] in [m["external_id"] for m in after[move["to_group"]]["members"]]
    history = live_server.get(f"/api/v1/runs/{edit_run}/edits")
    assert history["revision"] == 1 and history["proposal"] is not None
    assert history["edits"][0]["request"]["firm"] == move["firm"] and history["edits"][0]["by"]
    audit = _manager(live_server, "GET", "/api/v1/audit?action=group.edit").json()["items"]
    assert any(a["resource_id"] == str(edit_run) for a in audit)
    page.click("#history-card summary")
    assert move["name"] in page.inner_text("#history-list")
    bench = {"dry_run_ms": dry_ms, "apply_ms": apply_ms, "round_trip_ms": dry_ms + apply_ms,
             "apply_click_to_refreshed_card_ms": round(wall_ms)}  # fmt: skip
    (artifacts / "werkbank-edit-bench.json").write_text(json.dumps(bench, indent=2))


def test_illegal_move_is_refused_with_the_rule_in_dutch(
    live_server: LiveServer, edit_run: int, open_browser: OpenBrowser
) -> None:
    """A move to a far group is refused: the broken rule in Dutch words, apply disabled."""
    move = _find_move(live_server, edit_run, legal=False)
    words = [v["message"] for v in move["answer"]["violations"]]
    assert any("de grens is" in w or "concurrenten" in w for w in words), words
    page = open_browser(1280, 900)
    _open(page, live_server, edit_run, f"&group={move['from']}")
    _choose_move(page, move)
    preview = page.inner_text("#edit-preview")
    assert "Geweigerd" in preview and words[0] in preview
    assert page.locator("#edit-preview .edit-apply").is_disabled()
    page.locator("#detail-edits").scroll_into_view_if_needed()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    before = live_server.get(f"/api/v1/runs/{edit_run}/edits")["revision"]
    refused = _manager(live_server, "POST", f"/api/v1/runs/{edit_run}/edits",
                       {k: move[k] for k in ("kind", "firm", "to_group")})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["violations"]
    assert live_server.get(f"/api/v1/runs/{edit_run}/edits")["revision"] == before


def test_unassigned_firm_is_added_where_legal(
    live_server: LiveServer, edit_run: int, open_browser: OpenBrowser
) -> None:
    """Waarom niet ingedeeld? offers "Toevoegen aan groep N" where a dry-run add is allowed."""
    groups = sorted(_groups(live_server, edit_run)["groups"], key=lambda g: -len(g["members"]))
    big = next(g for g in groups if not g.get("locked") and g["status"] == "proposed")
    member = next(m for m in big["members"] if big["theme"] in (m.get("needs") or []))
    removed = _manager(live_server, "POST", f"/api/v1/runs/{edit_run}/edits",
                       {"kind": "remove", "firm": member["external_id"]})  # fmt: skip
    assert removed.status_code == 200, removed.text  # a firm that group {big} could take back
    loose = [u["external_id"] for u in _groups(live_server, edit_run)["unassigned"]]
    assert member["external_id"] in loose
    firm = member["external_id"]
    page = open_browser(1280, 900)
    _open(page, live_server, edit_run, "")
    page.click("#unassigned-details summary")
    page.click(f".unassigned-item[data-external-id='{firm}']")
    done = "(id) => { const s = document.getElementById('why-add-status');"
    done += " return s && s.dataset.firm === id && s.dataset.done; }"
    page.wait_for_function(done, arg=firm)
    buttons = page.locator("button.why-add")
    if buttons.count() == 0:  # no legal add: each candidate says its broken rule
        assert "Geen van deze groepen" in page.inner_text("#why-add-status")
        assert page.locator("#why-add-list .violations li").count() >= 1
        return
    assert "Toevoegen aan groep" in buttons.first.inner_text()
    number = int(
        page.locator("#why-add-list li:has(button.why-add)").first.get_attribute("data-group")
    )
    buttons.first.click()
    assert "Geen regel wordt gebroken" in page.inner_text("#why-add-list")
    page.click("#why-add-list .edit-apply")
    page.wait_for_selector("#message.ok")
    page.wait_for_selector(f"#member-table tr[data-external-id='{firm}']")
    assert f"Groep {number} " in page.inner_text("#detail-title")
    placed = {g["number"]: g for g in _groups(live_server, edit_run)["groups"]}[number]
    assert firm in [m["external_id"] for m in placed["members"]]
    history = live_server.get(f"/api/v1/runs/{edit_run}/edits")["edits"]
    assert history[-1]["kind"] == "add" and history[-1]["request"]["firm"] == firm


def test_accepted_group_shows_its_invitation_pack(
    live_server: LiveServer, edit_run: int, open_browser: OpenBrowser
) -> None:
    """An accepted group's card: the invitation text (copyable) and the .xlsx/.csv downloads."""
    group = _groups(live_server, edit_run)["groups"][-1]
    number = group["number"]
    accepted = _manager(live_server, "POST", f"/api/v1/runs/{edit_run}/groups/{number}/accept",
                        {"comment": "eerste bijeenkomst"})  # fmt: skip
    assert accepted.status_code == 200
    page = open_browser(1280, 900)
    _open(page, live_server, edit_run, f"&group={number}")
    page.click("#invitation-open")
    page.wait_for_selector("#invitation-text")
    text = page.input_value("#invitation-text")
    named = [m["name"] for m in group["members"] if m.get("name")]
    assert named and all(name in text for name in named)
    with page.expect_download() as got:
        page.click("#invitation-xlsx")
    assert got.value.suggested_filename.endswith(".xlsx")
    assert Path(got.value.path()).read_bytes()[:2] == b"PK"
    with page.expect_download() as got:
        page.click("#invitation-csv")
    body = Path(got.value.path()).read_bytes().decode("utf-8-sig")
    assert ";" in body.splitlines()[0] and named[0] in body
