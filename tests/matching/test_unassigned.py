"""The star test (capped instances): each reason on hand-checkable towns, and its bound."""

from __future__ import annotations

import numpy as np

from matching.rules.unassigned import star_upper_bound, unassigned_reasons
from tests.matching.test_solve import two_towns

ALL = list(range(9))


def test_star_reasons_name_each_cause_on_two_towns() -> None:
    """10 km reach (the towns 25 km apart): a lone firm, firms too many of whose reachable
    peers are competitors, firms without a shared theme, an ineligible firm, left-overs."""
    base = {"max_neighbours": 5, "max_pair_km": 10.0}
    reasons, bound, method = unassigned_reasons(two_towns(**base), ALL)
    assert method == "star" and reasons[8] == "no_neighbourhood" and bound == 8
    assert {reasons[i] for i in range(8)} == {"left_over"}
    blocked = two_towns(**base, forbidden=[[4, 5], [6, 4], [5, 4]])
    reasons, bound, _ = unassigned_reasons(blocked, ALL)
    # 4, 5, 6 each keep 2 of 3 reachable peers (min_size 4 needs 3); 7 keeps all three
    assert [reasons[i] for i in (4, 5, 6)] == ["competitors_block"] * 3
    assert reasons[7] == "left_over" and bound == 5
    needs = ((0,),) * 3 + ((1,),) * 5 + ((0,),)
    themed = two_towns(**base, needs=needs, theme_required=True)
    reasons, bound, _ = unassigned_reasons(themed, ALL)
    assert [reasons[i] for i in range(4)] == ["no_common_need"] * 4
    assert [reasons[i] for i in range(4, 8)] == ["left_over"] * 4 and bound == 4
    eligible = np.ones(9, bool)
    eligible[7] = False
    reasons, _, _ = unassigned_reasons(two_towns(**base, eligible=eligible), ALL)
    assert reasons[7] == "ineligible" and reasons[4] == "no_neighbourhood"


def test_star_upper_bound_counts_only_left_out_firms_it_proves_unplaceable() -> None:
    """Placed firms are never questioned; the lone firm is subtracted only when left out."""
    towns = two_towns(max_pair_km=10.0)
    assert star_upper_bound(towns, [8]) == 8
    assert star_upper_bound(towns, [0, 1]) == 9  # reachable peers: could be placed
    assert star_upper_bound(two_towns(max_pair_km=None), [8]) is None
