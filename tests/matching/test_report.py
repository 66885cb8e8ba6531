"""Tests for the report: group descriptions, unassigned reasons and the placeable bound."""

import json
from pathlib import Path

import pytest

from matching.core.objective import evaluate
from matching.core.result import Result, SolveStatus
from matching.core.solution import Solution
from matching.core.verify import verify
from matching.sme.build import build_instance
from matching.sme.explanation import parts_from_details
from matching.sme.firms import Firm, read_firms_csv
from matching.sme.needs import NEED_CODES
from matching.sme.report import build_report, explain, mean_need_jaccard
from matching.sme.settings import RunSettings

DATA = Path(__file__).resolve().parent.parent / "data"
VOC = NEED_CODES.index("train.vocational")


@pytest.fixture(scope="module")
def firms() -> list[Firm]:
    """The 14-firm northern fixture."""
    return read_firms_csv((DATA / "smes_small.csv").read_text(encoding="utf-8"))


def _report(firms: list[Firm], settings: RunSettings, competitors: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    inst, index = build_instance(firms, competitors, [], settings)
    groups = [[index.index_of(e) for e in g] for g in (["g01", "g02", "g03", "g04"],
                                                        ["g06", "g07", "g09", "g10"])]  # fmt: skip
    sol = Solution.from_groups(inst.n_firms, groups, [VOC, VOC])
    assert verify(inst, sol) == []
    obj = evaluate(inst, sol)
    result = Result(sol, SolveStatus.FEASIBLE, obj.placed, obj.affinity, None, None, 0.5, 7, 3)
    return build_report(firms, inst, result)


def test_unassigned_reasons_and_bound(firms: list[Firm]) -> None:
    """Leeuwarden is out of reach, Emmen is blocked by competitors, the rest are left over."""
    settings = RunSettings(min_size=4, max_size=5)
    report = _report(firms, settings, [("e01", "g05"), ("e01", "g06")])
    reasons = dict(report.unassigned)
    assert reasons == {
        "g05": "left_over", "g08": "left_over", "g11": "left_over", "g12": "left_over",
        "f01": "no_neighbourhood",  # only g07 and g11 within 50 km (< min_size - 1 = 3)
        "e01": "competitors_block",  # g05, g06, g08, g10 within reach; 2 are competitors
    }  # fmt: skip
    assert report.stats["upper_bound_placed"] == 12  # the twelve g-firms
    assert report.stats["placed"] == 8 and report.stats["coverage"] == round(8 / 14, 4)


def test_no_common_need_when_theme_cannot_be_shared(firms: list[Firm]) -> None:
    """Without competitors, Emmen's only training need (smart industry) is shared by nobody."""
    report = _report(firms, RunSettings(min_size=4, max_size=5), [])
    assert dict(report.unassigned)["e01"] == "no_common_need"
    peer = _report(firms, RunSettings(purpose="peer", min_size=4, max_size=5), [])
    assert dict(peer.unassigned)["e01"] == "left_over"
    assert peer.stats["upper_bound_placed"] == 13


def test_ineligible_reason(firms: list[Firm]) -> None:
    """Firms outside the eligible provinces are reported as ineligible."""
    settings = RunSettings(purpose="subsidy", min_size=4, max_size=5,
                           eligible_provinces=("Groningen", "Drenthe"))  # fmt: skip
    reasons = dict(_report(firms, settings, []).unassigned)
    assert reasons["f01"] == "ineligible" and reasons["g11"] == "ineligible"


def test_group_description(firms: list[Firm]) -> None:
    """A group reports theme, members, exact diameter pair, shared needs and explanation."""
    report = _report(firms, RunSettings(min_size=4, max_size=5), [])
    g = report.groups[0]
    assert g.members == ("g01", "g02", "g03", "g04") and g.theme == "train.vocational"
    assert 0 < g.diameter_km < 5 and set(g.diameter_pair) <= set(g.members)
    assert g.shared_needs == (("train.vocational", 4), ("hr.recruitment", 2))
    assert g.employees == (5, 25)
    assert dict(g.sectors) == {"F": 3, "C": 1}
    assert g.explanation.startswith("4 bedrijven, allemaal met de vraag Vakopleiding (mbo")
    assert "; 2 ook Werving en vacatures;" in g.explanation
    assert g.explanation.endswith("; 5\u201325 medewerkers")
    assert g.explanation_parts[0] == {
        "key": "group.explanation.all_need",
        "params": {"n": 4, "need": "train.vocational"},
    }
    # need sets: g01 {voc, recruit}, g02 {voc, cyber}, g03 {voc, recruit}, g04 {voc}
    sets = [{"v", "r"}, {"v", "c"}, {"v", "r"}, {"v"}]
    pairs = [(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :]]
    expected = sum(len(a & b) / len(a | b) for a, b in pairs) / 6
    assert g.mean_need_jaccard == pytest.approx(expected)


def test_to_dict_is_the_out_json_shape(firms: list[Firm]) -> None:
    """to_dict has groups/unassigned/stats with the documented keys and is JSON-ready."""
    data = json.loads(json.dumps(_report(firms, RunSettings(min_size=4, max_size=5), []).to_dict()))
    assert set(data) == {"groups", "unassigned", "stats"}
    group = data["groups"][0]
    assert {"id", "theme", "members", "diameter_km", "explanation", "hull"} <= set(group)
    assert group["hull"]["type"] == "Polygon"
    assert {"id", "reason"} == set(data["unassigned"][0])
    assert data["stats"]["verified"] is True and data["stats"]["iterations"] == 7


def test_explanation_example_in_dutch() -> None:
    """The issue's example: 12 firms, all vocational, 9 also recruitment, 41 km, 4 to 38 staff."""
    base = dict(name="X", postcode="9711", sbi_code="4120", digital_level=2, lat=53.2, lon=6.5)
    firms = [
        Firm(f"f{i}", employees=4 if i == 0 else 38 if i == 1 else 10,  # type: ignore[arg-type]
             needs=("train.vocational", "hr.recruitment") if i < 9 else ("train.vocational",),
             **base)
        for i in range(12)
    ]  # fmt: skip
    shared = [("train.vocational", 12), ("hr.recruitment", 9)]
    assert explain(firms, "train.vocational", shared, 41.2) == (
        "12 bedrijven, allemaal met de vraag Vakopleiding (mbo, sectorleerroutes); "
        "9 ook Werving en vacatures; hooguit 41 km uit elkaar; 4\u201338 medewerkers"
    )


def test_explain_partial_theme_and_peer() -> None:
    """Explanations say 'k of n' for a partial theme and name the top need for peer groups."""
    base = dict(name="X", postcode="9711", sbi_code="4120", digital_level=2, lat=53.2, lon=6.5)
    a = Firm("a", employees=3, needs=("dig.ai", "dig.data"), **base)  # type: ignore[arg-type]
    b = Firm("b", employees=9, needs=("dig.data",), **base)  # type: ignore[arg-type]
    text = explain([a, b], "dig.ai", [("dig.data", 2)], 12.4, "en")
    assert text == (
        "2 firms, 1 of them with the need AI applications; 2 also Data-driven working; "
        "at most 12 km apart; 3\u20139 employees"
    )
    peer = explain([a, b], None, [("dig.data", 2)], 3.04)
    assert peer.startswith("2 bedrijven; 2 met de vraag ") and "hooguit 3 km uit elkaar" in peer
    assert mean_need_jaccard([a, b]) == 0.5


def test_phrases_of_older_runs_are_rebuilt_from_their_details(firms: list[Firm]) -> None:
    """A group stored without phrases gets the same phrases back from size, needs and staff."""
    for g in _report(firms, RunSettings(min_size=4, max_size=5), []).to_dict()["groups"]:
        details = {k: v for k, v in g.items() if k != "explanation_parts"}
        rebuilt = parts_from_details(details, g["theme"], g["diameter_km"])
        assert rebuilt == g["explanation_parts"]
