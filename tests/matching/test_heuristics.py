"""Search kernels on hand-checkable windows: construction, tabu search, regions, bounds."""

from __future__ import annotations

import numpy as np

from matching import Instance, SolveParams, solve
from matching.core.constraints import placement_upper_bound
from matching.core.primitives import CountCap, Primitives
from matching.core.registry import Rule, registered
from matching.engines.heuristics import construct, moves
from matching.engines.heuristics.regions import split_regions
from matching.engines.heuristics.search import Tuning, data_of, new_state, run_window
from matching.engines.heuristics.window import make_window
from tests.matching.test_solve import two_towns


def window_of(inst: Instance):  # type: ignore[no-untyped-def]
    """The whole instance as one window, nothing pinned."""
    return make_window(inst, np.arange(inst.n_firms), np.zeros(inst.n_firms, bool))


def test_open_groups_builds_valid_town_groups() -> None:
    """Greedy construction forms the two town groups and leaves the far firm unassigned."""
    inst = two_towns()
    w = window_of(inst)
    out = run_window(w, n_slots=2, initial=np.full(9, 2), seed=0, max_iterations=0, deadline=None)
    assert sorted(map(sorted, (np.nonzero(out.slot == g)[0].tolist() for g in range(2)))) == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
    ]
    assert out.slot[8] == 2


def test_tabu_search_fixes_a_bad_assignment() -> None:
    """Starting from mixed groups, swaps restore the optimum (affinity 12)."""
    inst = two_towns()
    w = window_of(inst)
    start = np.array([0, 0, 1, 1, 0, 0, 1, 1, 2])
    out = run_window(
        w, n_slots=2, initial=start, seed=3, max_iterations=50, deadline=None, tuning=Tuning()
    )
    assert set(out.slot[:4]) != set(out.slot[4:8])
    assert out.score - out.big * 8 == 12.0


def test_assign_all_respects_weight_bounds() -> None:
    """CCP construction places every firm with each group's weight inside [3, 4]."""
    mat = np.ones((6, 6)) - np.eye(6)
    inst = Instance(
        n_firms=6,
        weights=np.array([2, 2, 2, 1, 1, 1]),
        min_weight=3,
        max_weight=4,
        n_groups=3,
        require_all=True,
        affinity_matrix=mat,
    )
    w = window_of(inst)
    cfg = moves.Config(
        min_size=1,
        max_size=6,
        min_weight=3,
        max_weight=4,
        themed=0,
        require_all=1,
        n_slots=3,
        relax=1,
        fixed_groups=1,
        mean=1,
    )
    D, S = data_of(w, cfg), new_state(w, 3, np.full(6, 3))
    moves.rebuild(D, S)
    assert construct.assign_all(D, S, 0)
    assert list(S.size[:3]) == [2, 2, 2] and all(3 <= x <= 4 for x in S.wsum[:3])


def test_regions_split_by_geography() -> None:
    """Windows respect the size limit, cover every firm once and separate distant towns."""
    lats = np.array([52.0, 53.5, 52.01, 53.51, 52.02, 53.52, 52.03, 53.53])
    inst = Instance(n_firms=8, lats=lats, lons=np.full(8, 6.0))
    parts = split_regions(inst, np.arange(8, dtype=np.int64), limit=4)
    assert [p.tolist() for p in parts] == [[0, 2, 4, 6], [1, 3, 5, 7]]
    assert len(split_regions(inst, np.arange(8, dtype=np.int64), limit=8)) == 1


def test_placement_bound_drops_isolated_firms() -> None:
    """The (min_size-1)-core excludes the Leeuwarden firm; ineligible firms are out too."""
    assert placement_upper_bound(two_towns()) == 8
    eligible = np.ones(9, bool)
    eligible[0] = False
    assert placement_upper_bound(two_towns(eligible=eligible)) == 7
    assert placement_upper_bound(two_towns(min_size=5, max_size=5)) == 8


class TwoCaps(Rule):
    """Test rule: at most 2 members per ``attributes["a"]`` label, 1 per ``"b"`` label."""

    name = "test_two_caps"

    def compile(self, instance: Instance) -> Primitives:
        """Two count caps at once."""
        return Primitives(
            caps=(
                CountCap(self.name, instance.attributes["a"], 2),
                CountCap(self.name, instance.attributes["b"], 1),
            )
        )


def two_caps_instance() -> Instance:
    """Twelve firms, all pairs worth 1; ``a`` halves them, ``b`` = index mod 3."""
    n = 12
    idx = np.arange(n)
    return Instance(
        n_firms=n,
        min_size=2,
        max_size=6,
        affinity_matrix=np.ones((n, n)) - np.eye(n),
        attributes={"a": (idx >= 6).astype(np.int64), "b": idx % 3},
    )


def test_search_honours_two_count_caps_at_once() -> None:
    """With two caps registered, tabu keeps every group within both (4 groups of 3)."""
    inst = two_caps_instance()
    with registered(TwoCaps()):
        result = solve(inst, SolveParams(time_limit_s=None, max_iterations=400, seed=0))
    a, b = inst.attributes["a"], inst.attributes["b"]
    assert sorted(len(g) for g in result.solution.groups) == [3, 3, 3, 3]
    for g in result.solution.groups:
        assert np.bincount(a[list(g)]).max() <= 2 and np.bincount(b[list(g)]).max() <= 1
    free = solve(inst, SolveParams(time_limit_s=None, max_iterations=400, seed=0))
    assert sorted(len(g) for g in free.solution.groups) == [6, 6]


def test_window_drops_caps_that_cannot_bind() -> None:
    """A cap no label of the window exceeds is left out; a binding one gets label columns."""
    inst = two_caps_instance()
    with registered(TwoCaps()):
        few = make_window(inst, np.array([0, 7]), np.zeros(12, bool))
        w = window_of(inst)
    assert few.cap_labels.shape == (2, 0)
    assert w.cap_labels.shape == (12, 2) and list(w.cap_limit) == [2, 1]
    assert w.n_cap_labels == 5
