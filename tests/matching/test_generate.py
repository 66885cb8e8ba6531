"""Tests for the synthetic cohort generator."""

from collections import Counter

import numpy as np
import pytest

from matching.sme.firms import firms_to_csv, read_firms_csv
from matching.sme.generate import LADDER, Cohort, GenerateError, generate_cohort
from matching.sme.sbi import sbi_class


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    """A 3,000-firm northern cohort shared by the distribution tests."""
    return generate_cohort(3000, ("Groningen", "Friesland", "Drenthe"), seed=1)


def test_same_seed_same_cohort_other_seed_differs() -> None:
    """The generator is deterministic for a seed and varies across seeds."""
    a, b = generate_cohort(300, seed=7), generate_cohort(300, seed=7)
    assert a == b
    assert generate_cohort(300, seed=8).firms != a.firms


def test_locations_are_real_pc4_centroids_in_chosen_provinces(cohort: Cohort) -> None:
    """Every firm sits in one of the chosen provinces; its postcode is PC6-shaped."""
    assert {f.province for f in cohort.firms} == {"Groningen", "Fryslân", "Drenthe"}
    assert all(len(f.postcode) == 7 and f.postcode[4] == " " for f in cohort.firms)
    assert len({f.external_id for f in cohort.firms}) == 3000


def test_employees_log_normal_median_about_ten(cohort: Cohort) -> None:
    """Employees: median ~10, all within 1-249."""
    emp = np.array([f.employees for f in cohort.firms])
    assert 7 <= np.median(emp) <= 14
    assert emp.min() >= 1 and emp.max() <= 249


def test_digital_ladder_shares_and_small_firms_lower(cohort: Cohort) -> None:
    """Ladder levels 1-4 are ~20/36/33/11 % overall; firms under 5 employees sit lower."""
    levels = np.array([f.digital_level for f in cohort.firms])
    shares = np.bincount(levels, minlength=5)[1:] / len(levels)
    assert np.all(np.abs(shares - LADDER) < 0.035)
    emp = np.array([f.employees for f in cohort.firms])
    assert levels[emp < 5].mean() < levels[emp >= 5].mean() - 0.3


def test_needs_count_and_sector_bias(cohort: Cohort) -> None:
    """1-4 distinct needs per firm; agriculture leans to succession, ICT to AI."""
    assert Counter(len(f.needs) for f in cohort.firms).keys() <= {1, 2, 3, 4}

    def share(sector: str, code: str) -> float:
        firms = [f for f, s in zip(cohort.firms, cohort.sectors, strict=True) if s == sector]
        return sum(code in f.needs for f in firms) / len(firms)

    assert share("agriculture", "biz.succession") > 2 * share("ict", "biz.succession")
    assert share("ict", "dig.ai") > 2 * share("agriculture", "dig.ai")


def test_all_nine_sectors_occur(cohort: Cohort) -> None:
    """The cohort mixes the nine sectors of the issue."""
    assert len(set(cohort.sectors)) == 9


def test_competitors_share_class_and_are_close(cohort: Cohort) -> None:
    """Declared competitors have the same 4-digit SBI class and lie within 15 km."""
    from geodata.distance import haversine_km

    by_id = {f.external_id: f for f in cohort.firms}
    assert len(cohort.competitors) > 100
    for a, b in cohort.competitors:
        fa, fb = by_id[a], by_id[b]
        assert sbi_class(fa.sbi_code) == sbi_class(fb.sbi_code)
        assert haversine_km(fa.lat, fa.lon, fb.lat, fb.lon) <= 15.0 + 1e-6
    assert not set(cohort.competitors) & set(cohort.partners)
    assert len(cohort.partners) > 50


def test_written_cohort_reads_back() -> None:
    """A generated cohort written as CSV passes the strict reader unchanged."""
    cohort = generate_cohort(200, ("Drenthe",), seed=3)
    again = read_firms_csv(firms_to_csv(cohort.firms))
    assert again == list(cohort.firms)


def test_bad_arguments_raise() -> None:
    """n < 1 and shares outside [0, 1] are rejected with the field named."""
    with pytest.raises(GenerateError) as info:
        generate_cohort(0)
    assert info.value.field == "n"
    with pytest.raises(GenerateError):
        generate_cohort(10, competitor_share=1.5)
