"""Tests for build_instance: ids, needs, competitors, themes, eligibility."""

from pathlib import Path

import numpy as np
import pytest

from matching.sme.build import (
    UnknownFirmIdError,
    auto_max_neighbours,
    build_instance,
    default_themes,
    infer_competitors,
)
from matching.sme.firms import Firm, read_firms_csv
from matching.sme.needs import NEED_CODES
from matching.sme.settings import RunSettings, SettingsError

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def firms() -> list[Firm]:
    """The 14-firm northern fixture (12 in Groningen/Drenthe, one in Leeuwarden, one in Emmen)."""
    return read_firms_csv((DATA / "smes_small.csv").read_text(encoding="utf-8"))


def test_ids_needs_and_pairs_map_to_dense_indices(firms: list[Firm]) -> None:
    """Firm i is index i; needs keep their order; declared pairs become index pairs."""
    inst, index = build_instance(firms, [("g10", "g01")], [("g01", "g02")], RunSettings())
    assert inst.n_firms == 14 and index.ids[0] == "g01" and index.index_of("e01") == 13
    assert [NEED_CODES[t] for t in inst.needs[0]] == ["train.vocational", "hr.recruitment"]
    assert inst.forbidden.tolist() == [[0, 9]]
    assert inst.partners.tolist() == [[0, 1]]
    assert inst.max_pair_km == 50.0 and (inst.min_size, inst.max_size) == (10, 15)
    assert inst.attributes["division"][0] == 41 and inst.options["max_same_division"] is None


def test_unknown_ids_in_pairs_raise(firms: list[Firm]) -> None:
    """A pair naming an unknown firm raises UnknownFirmIdError with the list and id."""
    with pytest.raises(UnknownFirmIdError) as info:
        build_instance(firms, [("g01", "zz")], [], RunSettings())
    assert (info.value.field, info.value.external_id) == ("competitors", "zz")


def test_inferred_competitors_same_class_within_radius() -> None:
    """Same 4-digit class within the radius become competitors; other classes do not."""
    base = dict(name="X", postcode="9711", employees=5, digital_level=2, needs=("dig.ai",))
    firms = [
        Firm("a", sbi_code="4120", lat=53.20, lon=6.50, **base),  # type: ignore[arg-type]
        Firm("b", sbi_code="4120", lat=53.21, lon=6.51, **base),  # type: ignore[arg-type]
        Firm("c", sbi_code="4120", lat=53.60, lon=6.50, **base),  # type: ignore[arg-type]
        Firm("d", sbi_code="4321", lat=53.20, lon=6.50, **base),  # type: ignore[arg-type]
    ]
    assert infer_competitors(firms, 5.0) == [(0, 1)]
    settings = RunSettings(min_size=2, max_size=3, infer_competitors_km=5.0)
    inst, index = build_instance(firms, [], [], settings)
    assert inst.forbidden.tolist() == [[0, 1]] and index.inferred_competitors == ((0, 1),)
    inst, index = build_instance(firms, [("b", "a")], [], settings)
    assert inst.forbidden.tolist() == [[0, 1]] and index.inferred_competitors == ()


def test_themes_follow_purpose(firms: list[Firm]) -> None:
    """Training themes: joint-training needs; subsidy: joint-subsidy needs; peer: none."""
    assert "hr.recruitment" not in default_themes(RunSettings())  # type: ignore[operator]
    assert "biz.strategy" not in default_themes(RunSettings(purpose="subsidy"))  # type: ignore[operator]
    assert default_themes(RunSettings(purpose="peer")) is None
    inst, _ = build_instance(firms, [], [], RunSettings(purpose="peer"))
    assert not inst.theme_required and inst.allowed_themes is None
    inst, _ = build_instance(firms, [], [], RunSettings(allowed_themes=("train.vocational",)))
    assert inst.theme_required and inst.allowed_themes == frozenset({8})


def test_eligibility_by_province_and_size(firms: list[Firm]) -> None:
    """Firms outside eligible provinces or above the size cap are ineligible."""
    settings = RunSettings(
        purpose="subsidy", eligible_provinces=("Groningen", "Drenthe"), eligible_max_employees=40
    )
    inst, index = build_instance(firms, [], [], settings)
    assert inst.eligible is not None
    out = {index.ids[i] for i in np.flatnonzero(~inst.eligible)}
    assert out == {"g11", "f01", "e01"}  # Drachten + Leeuwarden (Fryslân), 45 employees
    with pytest.raises(SettingsError):
        build_instance(firms, [], [], RunSettings(eligible_provinces=("Atlantis",)))


def test_neighbour_cap_only_for_large_cohorts() -> None:
    """No cap up to 3,000 firms; 600 up to 20,000; 300 above; explicit setting wins."""
    s = RunSettings()
    assert auto_max_neighbours(2000, s) is None
    assert auto_max_neighbours(10_000, s) == 600
    assert auto_max_neighbours(50_000, s) == 300
    assert auto_max_neighbours(50_000, RunSettings(max_neighbours=80)) == 80
