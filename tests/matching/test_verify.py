"""The verifier: each planted violation is reported, exactly, with the exact geodesic."""

from __future__ import annotations

import numpy as np

from matching import Instance, Solution, verify
from tests.matching.test_solve import two_towns

GOOD = ((0, 1, 2, 3), (4, 5, 6, 7))


def kinds(instance: Instance, groups: tuple[tuple[int, ...], ...], themes=None) -> list[str]:  # type: ignore[no-untyped-def]
    """Sorted violation kinds of the given groups."""
    sol = Solution(instance.n_firms, groups, themes or ())
    return sorted(v.kind for v in verify(instance, sol))


def test_valid_solution_has_no_violations() -> None:
    """The paper optimum of the two-towns instance passes."""
    assert kinds(two_towns(), GOOD) == []


def test_firm_past_the_radius_is_a_diameter_violation_only() -> None:
    """Swapping in the Leeuwarden firm (51 km away) yields exactly diameter violations."""
    inst = two_towns()
    found = verify(inst, Solution(9, ((0, 1, 2, 8), (4, 5, 6, 7))))
    assert {v.kind for v in found} == {"diameter"}
    assert all(8 in v.firms for v in found)
    assert len(found) == 3


def test_firm_below_the_size_bound_is_a_size_violation_only() -> None:
    """Removing one member from a group at min_size yields exactly one size violation."""
    assert kinds(two_towns(), ((0, 1, 2), (4, 5, 6, 7))) == ["size"]


def test_geodesic_decides_near_the_limit() -> None:
    """Two firms 49.96 km apart by haversine but 50.12 km by geodesic violate 50 km."""
    inst = Instance(
        n_firms=2, lats=np.array([53.2, 53.2]), lons=np.array([6.5, 7.25]), max_pair_km=50.0
    )
    assert kinds(inst, ((0, 1),)) == ["diameter"]
    wide = Instance(
        n_firms=2, lats=np.array([53.2, 53.2]), lons=np.array([6.5, 7.25]), max_pair_km=50.2
    )
    assert kinds(wide, ((0, 1),)) == []


def test_each_rule_is_reported() -> None:
    """Competitors, duplicates, unknown firms, themes, eligibility, divisions, locks, pins."""
    eligible = np.ones(9, bool)
    eligible[0] = False
    assert kinds(two_towns(forbidden=[[0, 1]]), GOOD) == ["forbidden"]
    assert kinds(two_towns(), ((0, 1, 2, 3), (3, 4, 5, 6))) == ["duplicate"]
    assert "unknown_firm" in kinds(two_towns(), ((0, 1, 2, 99), (4, 5, 6, 7)))
    assert kinds(two_towns(require_all=True), GOOD) == ["require_all"]
    assert kinds(two_towns(theme_required=True), GOOD, (1, 1)) == ["theme"]
    assert kinds(two_towns(theme_required=True), GOOD, (0, 1)) == []
    assert kinds(two_towns(eligible=eligible), GOOD) == ["ineligible"]
    divs = np.zeros(9, np.int64)
    capped = two_towns(attributes={"division": divs}, options={"max_same_division": 3})
    assert kinds(capped, GOOD) == ["division"] * 2
    assert kinds(two_towns(locked_groups=((0, 1, 2, 4),)), GOOD) == ["locked"]
    assert kinds(two_towns(pinned_groups=((0, 4),)), GOOD) == ["pinned"]
    assert kinds(two_towns(n_groups=3), GOOD) == ["group_count"]
    heavy = two_towns(weights=np.full(9, 2), max_weight=7)
    assert kinds(heavy, GOOD) == ["weight", "weight"]


def test_solution_for_another_instance_is_a_shape_violation() -> None:
    """A solution sized for a different instance is rejected as a whole."""
    assert kinds(two_towns(), ()) == []
    assert [v.kind for v in verify(two_towns(), Solution(5, ()))] == ["shape"]


def test_competitors_are_found_in_every_group_of_a_firm_placed_twice() -> None:
    """A firm placed in two groups, its competitor in the second: both findings reported."""
    inst = two_towns(forbidden=[[3, 4], [0, 7]])
    found = verify(inst, Solution(9, ((0, 1, 2, 3), (3, 4, 5, 6))))
    assert sorted(v.kind for v in found) == ["duplicate", "forbidden"]
    assert [v.group for v in found if v.kind == "forbidden"] == [1]
    assert [v.firms for v in found if v.kind == "forbidden"] == [(3, 4)]
