"""Tests for the meeting place in the report: group data, run stats and the explanation."""

import json
from pathlib import Path

import pytest

from geodata.distance import haversine_km
from matching.core.objective import evaluate
from matching.core.result import Result, SolveStatus
from matching.core.solution import Solution
from matching.sme.build import build_instance
from matching.sme.explanation import parts_from_details, render_explanation
from matching.sme.firms import Firm, read_firms_csv
from matching.sme.meeting import MeetingPlace
from matching.sme.needs import NEED_CODES
from matching.sme.report import Report, build_report, explain
from matching.sme.settings import RunSettings

DATA = Path(__file__).resolve().parent.parent / "data"
VOC = NEED_CODES.index("train.vocational")
GRONINGEN = ["g01", "g02", "g03", "g04"]  # 9711 AB, 9712, 9721, 9724
SPREAD = ["g06", "g07", "g09", "g10"]  # Assen, Roden, Groningen: tens of km apart


@pytest.fixture(scope="module")
def firms() -> list[Firm]:
    """The 14-firm northern fixture."""
    return read_firms_csv((DATA / "smes_small.csv").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(firms: list[Firm]) -> Report:
    """Two hand-made groups of the fixture, reported."""
    inst, index = build_instance(firms, [], [], RunSettings(min_size=4, max_size=5))
    groups = [[index.index_of(e) for e in g] for g in (GRONINGEN, SPREAD)]
    sol = Solution.from_groups(inst.n_firms, groups, [VOC, VOC])
    obj = evaluate(inst, sol)
    result = Result(sol, SolveStatus.FEASIBLE, obj.placed, obj.affinity, None, None, 0.5, 7, 3)
    return build_report(firms, inst, result)


def test_every_group_has_a_meeting_place_with_its_travel(firms: list[Firm], report: Report) -> None:
    """Each group's meeting_place has the documented keys; mean and max are its members' km."""
    by_id = {f.external_id: f for f in firms}
    for g in json.loads(json.dumps(report.to_dict()))["groups"]:
        place = g["meeting_place"]
        assert set(place) == {"place", "postcode", "lat", "lon", "mean_km", "max_km"}
        km = [haversine_km(by_id[e].lat, by_id[e].lon, place["lat"], place["lon"])
              for e in g["members"]]  # fmt: skip
        assert place["mean_km"] == round(sum(km) / len(km), 1)
        assert place["max_km"] == round(max(km), 1)


def test_a_group_in_groningen_meets_in_groningen(report: Report) -> None:
    """Four firms in Groningen city meet in Groningen, at one of their own PC4s or nearby."""
    place = report.groups[0].meeting_place
    assert place is not None and place.place == "Groningen"
    assert place.max_km < 5


def test_stats_give_mean_and_largest_travel_to_the_meeting_place(report: Report) -> None:
    """meeting_km_mean averages the groups' mean km; meeting_km_max is the largest max_km."""
    places = [g.meeting_place for g in report.groups]
    assert all(p is not None for p in places)
    means = [p.mean_km for p in places if p is not None]
    maxes = [p.max_km for p in places if p is not None]
    assert report.stats["meeting_km_mean"] == round(sum(means) / len(means), 1)
    assert report.stats["meeting_km_max"] == round(max(maxes), 1)
    assert report.stats["meeting_km_max"] > report.stats["meeting_km_mean"] > 0


def test_explanation_names_the_meeting_place_in_dutch_and_english(report: Report) -> None:
    """The stored phrases name the place; they render with decimal commas in Dutch."""
    g = report.groups[1]
    place = g.meeting_place
    assert place is not None
    phrase = [p for p in g.explanation_parts if p["key"] == "group.explanation.meeting"]
    assert phrase == [{"key": "group.explanation.meeting", "params": {
        "place": place.place, "postcode": place.postcode,
        "mean_km": round(place.mean_km, 1), "max_km": round(place.max_km, 1)}}]  # fmt: skip
    assert f"; ontmoetingsplek {place.place} ({place.postcode}): gemiddeld " in g.explanation
    english = render_explanation(g.explanation_parts, "en")
    assert f"; meeting place {place.place} ({place.postcode}): " in english
    assert " km travel on average, at most " in english


def test_meeting_phrase_wording_and_numbers() -> None:
    """The issue's example: Drachten (9201), 12.3 km on average, at most 31 km, nl and en."""
    base = dict(name="X", postcode="9201", sbi_code="4120", digital_level=2, lat=53.1, lon=6.1)
    firms = [Firm(f"f{i}", employees=10, needs=("train.vocational",), **base)  # type: ignore[arg-type]
             for i in range(12)]  # fmt: skip
    meeting = MeetingPlace("Drachten", "9201", 53.1139, 6.0951, 12.34, 31.0)
    shared = [("train.vocational", 12)]
    nl = explain(firms, "train.vocational", shared, 41.2, meeting=meeting)
    assert nl == (
        "12 bedrijven, allemaal met de vraag Vakopleiding (mbo, sectorleerroutes); "
        "hooguit 41 km uit elkaar; "
        "ontmoetingsplek Drachten (9201): gemiddeld 12,3 km reizen, hooguit 31 km; "
        "elk 10 medewerkers"
    )
    en = explain(firms, "train.vocational", shared, 41.2, "en", meeting)
    assert "; meeting place Drachten (9201): 12.3 km travel on average, at most 31 km; " in en


def test_phrases_rebuilt_from_details_keep_the_meeting_place(report: Report) -> None:
    """A group stored without phrases gets the meeting phrase back from its meeting_place."""
    for g in report.to_dict()["groups"]:
        details = {k: v for k, v in g.items() if k != "explanation_parts"}
        assert parts_from_details(details, g["theme"], g["diameter_km"]) == g["explanation_parts"]
        older = {k: v for k, v in details.items() if k != "meeting_place"}
        rebuilt = parts_from_details(older, g["theme"], g["diameter_km"]) or []
        assert "group.explanation.meeting" not in [p["key"] for p in rebuilt]
