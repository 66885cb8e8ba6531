"""Tests for the fixed needs taxonomy."""

import json

import pytest

from matching.sme.needs import (
    NEED_CODES,
    NEEDS,
    THEMES,
    UnknownNeedError,
    is_need_code,
    need_by_code,
    needs_to_dict,
)

ISSUE_CODES = {
    "hr.recruitment", "hr.strategic_planning", "hr.employer_branding",
    "hr.sustainable_employability", "hr.untapped_talent", "hr.internships",
    "hr.international_talent", "train.upskilling", "train.vocational",
    "train.digital_skills", "train.ai_skills", "train.leadership", "dig.basics",
    "dig.online_sales", "dig.data", "dig.ai", "dig.cybersecurity", "dig.privacy",
    "auto.process", "auto.robotics", "auto.smart_industry", "biz.strategy",
    "biz.financing", "biz.succession", "biz.sustainability",
}  # fmt: skip


def test_taxonomy_is_exactly_the_issue_list() -> None:
    """The taxonomy holds exactly the 25 codes listed in issue 3, each once."""
    assert set(NEED_CODES) == ISSUE_CODES
    assert len(NEED_CODES) == len(ISSUE_CODES) == 25


def test_every_need_is_complete() -> None:
    """Each need has its theme prefix, non-empty distinct labels and a valid sensitivity."""
    for need in NEEDS:
        assert need.code.split(".")[0] == need.theme
        assert need.theme in THEMES
        assert need.label_nl and need.label_en
        assert need.sensitivity in ("generic", "core")
        assert need.joint_training or need.joint_subsidy


def test_every_theme_has_needs_and_labels_are_unique() -> None:
    """Every theme is used and no two needs share a Dutch label."""
    assert {n.theme for n in NEEDS} == set(THEMES)
    assert len({n.label_nl for n in NEEDS}) == len(NEEDS)


def test_need_by_code_returns_entry() -> None:
    """need_by_code finds a known code and its Dutch label."""
    need = need_by_code("train.vocational")
    assert need.label_nl.startswith("Vakopleiding")
    assert need.joint_training


def test_unknown_code_raises_typed_error() -> None:
    """An unknown code raises UnknownNeedError carrying the code, not KeyError."""
    with pytest.raises(UnknownNeedError) as info:
        need_by_code("hr.Recruitment")
    assert info.value.code == "hr.Recruitment"
    assert not is_need_code("hr.Recruitment")
    assert is_need_code("hr.recruitment")


def test_taxonomy_serialises_to_json() -> None:
    """needs_to_dict is JSON-serialisable and round-trips every field."""
    data = json.loads(json.dumps(needs_to_dict()))
    assert [d["code"] for d in data["needs"]] == list(NEED_CODES)
    assert data["needs"][0] == NEEDS[0].to_dict()
    assert {t["code"] for t in data["themes"]} == set(THEMES)
