"""Every word on the werkbank comes from the catalogue, in Dutch and English (no browser)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import Response

import texts
from app.routers.map import read_texts

FOLDER = Path(__file__).resolve().parents[2] / "app" / "static" / "map"
KEY = r"[a-z0-9_.\-]+"


def _used_keys() -> set[str]:
    used: set[str] = set()
    for script in FOLDER.glob("*.js"):
        found = re.findall(rf'\bTn?\("({KEY})"', script.read_text(encoding="utf-8"))
        used |= {k for k in found if not k.endswith(".")}  # "map.status." + status: below
    page = (FOLDER / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-t(?:-title|-aria-label|-placeholder)?="([^"]+)"', page))
    return used


def test_every_key_of_every_module_is_in_both_languages() -> None:
    """T("...") in each ES module and data-t* in index.html name catalogue keys (nl and en)."""
    used = _used_keys()
    assert len(used) > 100
    nl, en = texts.catalogue("nl"), texts.catalogue("en")
    assert sorted(k for k in used if k not in nl or k not in en) == []
    built = [f"map.wb.cmp.{kind}" for kind in ("unchanged", "changed", "dropped")]
    built += [f"progress.phase.{p}" for p in ("loading", "building", "solving", "storing")]
    assert [k for k in built if k not in nl] == []


def test_no_english_label_is_hard_coded() -> None:
    """Labels come from the catalogue or the needs' label_nl/label_en by language, never fixed."""
    for script in FOLDER.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert "label_en]" not in text and ".label_en" not in text, script.name


def test_texts_route_serves_the_werkbank_words() -> None:
    """GET /api/v1/texts answers the werkbank's keys and the run phases, in the language asked."""
    dutch = read_texts(Response(), "nl").texts
    english = read_texts(Response(), "nl", "en").texts
    assert dutch["map.wb.why_title"] == "Waarom niet ingedeeld?"
    assert english["map.wb.why_title"] == "Why not placed?"
    assert "progress.phase.solving" in dutch
    assert not [k for k in dutch if not k.startswith(("map.", "progress.phase."))]
