"""Each CP-SAT module on a feasible and an infeasible window; LNS improves a bad start."""

from __future__ import annotations

import numpy as np

from matching import Instance, SolveParams, SolveStatus
from matching.core.registry import CpsatWindow, Rule, registered
from matching.core.stop import Budget
from matching.engines.cpsat.lns import improve
from matching.engines.cpsat.model import ClusteringModel
from matching.engines.heuristics.window import make_window
from tests.matching.test_heuristics import TwoCaps, two_caps_instance
from tests.matching.test_solve import two_towns


def run(inst: Instance, n_slots: int) -> tuple[SolveStatus, list[list[int]]]:
    """Solve the whole instance as one window; return status and groups."""
    window = make_window(inst, np.arange(inst.n_firms), np.zeros(inst.n_firms, bool))
    model = ClusteringModel(window, n_slots, inst.min_theme_share, all_open=inst.require_all)
    out = model.solve(seed=0, deterministic_limit=5.0)
    return out.status, out.groups


def test_assign_once_and_size() -> None:
    """Three firms fit one slot of three, not one slot of two (all must be placed)."""
    mat = np.ones((3, 3)) - np.eye(3)
    assert run(Instance(n_firms=3, max_size=3, require_all=True, affinity_matrix=mat), 1) == (
        SolveStatus.OPTIMAL,
        [[0, 1, 2]],
    )
    small = Instance(n_firms=3, max_size=2, require_all=True, affinity_matrix=mat)
    assert run(small, 1)[0] is SolveStatus.INFEASIBLE


def test_weight_bounds() -> None:
    """Weights 5+5 fit a cap of 10, not a cap of 9."""
    mat = np.ones((2, 2)) - np.eye(2)
    ok = Instance(
        n_firms=2, weights=np.array([5, 5]), max_weight=10, require_all=True, affinity_matrix=mat
    )
    assert run(ok, 1)[0] is SolveStatus.OPTIMAL
    tight = Instance(
        n_firms=2, weights=np.array([5, 5]), max_weight=9, require_all=True, affinity_matrix=mat
    )
    assert run(tight, 1)[0] is SolveStatus.INFEASIBLE


def test_compatibility() -> None:
    """Competitors go to different slots when two exist; one slot is infeasible."""
    inst = Instance(n_firms=2, forbidden=[[0, 1]], require_all=True)
    status, groups = run(inst, 2)
    assert status is SolveStatus.OPTIMAL and sorted(groups) == [[0], [1]]
    assert run(inst, 1)[0] is SolveStatus.INFEASIBLE


def test_division_cap() -> None:
    """Two firms of one division cannot share a group capped at one per division."""
    inst = Instance(n_firms=2, attributes={"division": np.array([41, 41])},
                    options={"max_same_division": 1}, require_all=True)  # fmt: skip
    assert run(inst, 1)[0] is SolveStatus.INFEASIBLE
    assert run(inst, 2)[0] is SolveStatus.OPTIMAL


def test_themes() -> None:
    """Firms sharing need 1 form a themed group; disjoint needs cannot."""
    same = Instance(
        n_firms=2, needs=((0, 1), (1,)), n_needs=2, theme_required=True, require_all=True
    )
    assert run(same, 1) == (SolveStatus.OPTIMAL, [[0, 1]])
    apart = Instance(
        n_firms=2, needs=((0,), (1,)), n_needs=2, theme_required=True, require_all=True
    )
    assert run(apart, 1)[0] is SolveStatus.INFEASIBLE


def test_objective_places_first_then_pairs_by_affinity() -> None:
    """Two slots of two: the pairs with affinity 5 and 4 win over 1 + 1."""
    mat = np.zeros((4, 4))
    for i, j, c in ((0, 1, 1.0), (2, 3, 1.0), (0, 2, 5.0), (1, 3, 4.0)):
        mat[i, j] = mat[j, i] = c
    inst = Instance(n_firms=4, min_size=2, max_size=2, affinity_matrix=mat)
    status, groups = run(inst, 2)
    assert status is SolveStatus.OPTIMAL
    assert sorted(groups) == [[0, 2], [1, 3]]


def test_lns_repairs_a_poor_start() -> None:
    """From groups mixing the towns, CP-SAT LNS reaches the paper optimum (score 12)."""
    inst = two_towns()
    params = SolveParams(time_limit_s=None, max_iterations=10, seed=0)
    groups, rounds = improve(inst, [[0, 1, 4, 5], [2, 3, 6, 7]], params, Budget(params), 3)
    assert rounds == 3
    assert sorted(groups) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_count_caps_generic() -> None:
    """Two count caps at once: groups of at most 3 (b) with at most 2 of one a-label."""
    inst = two_caps_instance()
    with registered(TwoCaps()):
        status, groups = run(inst, 4)
        assert run(inst, 1)[1] and max(len(g) for g in run(inst, 1)[1]) <= 3
    a, b = inst.attributes["a"], inst.attributes["b"]
    assert status is SolveStatus.OPTIMAL and sorted(len(g) for g in groups) == [3, 3, 3, 3]
    for g in groups:
        assert np.bincount(a[g]).max() <= 2 and np.bincount(b[g]).max() <= 1


class _ApartByHook(Rule):
    """Test rule with its own CP-SAT encoding: the firms flagged in ``attributes["apart"]``
    never share a slot (no primitive; only ``encode_cpsat``)."""

    name = "test_apart_hook"

    def encode_cpsat(self, window: CpsatWindow) -> None:
        """At most one flagged firm per slot."""
        flagged = np.nonzero(window.instance.attributes["apart"][window.firms])[0].tolist()
        for g in range(window.n_slots):
            window.model.add_at_most_one(window.x[i, g] for i in flagged)


def test_rule_hook_encode_cpsat_is_called_by_the_model() -> None:
    """A registered rule's encode_cpsat constrains the window model: two flagged firms of
    three split over two slots (one slot becomes infeasible); unregistered, they share one."""
    mat = np.ones((3, 3)) - np.eye(3)
    inst = Instance(
        n_firms=3,
        require_all=True,
        affinity_matrix=mat,
        attributes={"apart": np.array([1, 1, 0])},
    )
    assert run(inst, 1) == (SolveStatus.OPTIMAL, [[0, 1, 2]])
    with registered(_ApartByHook()):
        assert run(inst, 1)[0] is SolveStatus.INFEASIBLE
        status, groups = run(inst, 2)
    assert status is SolveStatus.OPTIMAL and not any({0, 1} <= set(g) for g in groups)
