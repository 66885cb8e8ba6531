"""End-to-end tests of solve_firms on the small northern fixture (budget mode, fixed seed)."""

from pathlib import Path

import pytest

from matching.sme.firms import Firm, read_firms_csv, read_pairs_csv
from matching.sme.pipeline import solve_firms
from matching.sme.settings import RunSettings

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def firms() -> list[Firm]:
    """The 14-firm northern fixture."""
    return read_firms_csv((DATA / "smes_small.csv").read_text(encoding="utf-8"))


def _settings(**kw: object) -> RunSettings:
    base: dict[str, object] = dict(min_size=4, max_size=6, time_limit_s=None, max_iterations=300)
    return RunSettings(**{**base, **kw})  # type: ignore[arg-type]


def test_places_all_placeable_and_keeps_competitors_apart(firms: list[Firm]) -> None:
    """All twelve g-firms are placed in verified groups; declared competitors never share one."""
    comp = read_pairs_csv((DATA / "competitors_small.csv").read_text(), source="c.csv")
    report = solve_firms(firms, comp, [("g01", "g02")], _settings())
    placed = {m for g in report.groups for m in g.members}
    assert placed == {f"g{i:02d}" for i in range(1, 13)}
    assert dict(report.unassigned) == {"f01": "no_neighbourhood", "e01": "no_common_need"}
    assert report.stats["verified"] and report.stats["upper_bound_placed"] == 12
    for g in report.groups:
        assert 4 <= len(g.members) <= 6 and g.diameter_km <= 50
        assert g.theme == "train.vocational"
        for a, b in comp:
            assert not {a, b} <= set(g.members)


def test_same_seed_and_budget_give_the_same_report(firms: list[Firm]) -> None:
    """Budget mode is deterministic: the same input and seed give identical groups."""
    a = solve_firms(firms, [], [], _settings(seed=5)).to_dict()
    b = solve_firms(firms, [], [], _settings(seed=5)).to_dict()
    assert a["groups"] == b["groups"] and a["unassigned"] == b["unassigned"]


def test_settings_snapshot_and_empty_cohort(firms: list[Firm]) -> None:
    """stats carry the settings snapshot; an empty cohort gives an empty verified report."""
    settings = _settings(purpose="peer")
    report = solve_firms(firms, [], [], settings)
    assert RunSettings.from_dict(report.stats["settings"]) == settings
    empty = solve_firms([], [], [], settings)
    assert empty.groups == () and empty.stats["verified"]
