"""The single definition of affinity and score, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from matching import AffinityWeights, Instance, Solution, evaluate
from matching.core.errors import InvalidInstanceError
from matching.core.objective import affinity_of_pairs, need_matrix


def pair_instance(**overrides: object) -> Instance:
    """Two firms: needs (0, 1) and (1,), 10 and 10 employees, digital 2 and 4, partners."""
    fields: dict[str, object] = {
        "n_firms": 2,
        "needs": ((0, 1), (1,)),
        "n_needs": 2,
        "employees": np.array([10, 10]),
        "digital_levels": np.array([2, 4]),
        "partners": [[0, 1]],
    }
    fields.update(overrides)
    return Instance(**fields)  # type: ignore[arg-type]


def test_affinity_terms_by_hand() -> None:
    """J = (0 + 0.8) / (1 + 1) = 0.4; size 1; digital 1/3; partner 1 -> weighted sum."""
    got = affinity_of_pairs(pair_instance(), np.array([0]), np.array([1]))[0]
    assert got == pytest.approx(0.6 * 0.4 + 0.2 * 1.0 + 0.2 / 3 + 0.25)


def test_rank_weights_favour_first_needs() -> None:
    """A firm's first need weighs 1.0, the second 0.8, then 0.6 and 0.5."""
    inst = Instance(n_firms=1, needs=((3, 2, 1, 0),), n_needs=5)
    assert list(need_matrix(inst)[0]) == [0.5, 0.6, 0.8, 1.0, 0.0]


def test_size_similarity_uses_log_employees() -> None:
    """1 vs 250 employees: 1 - (log1p(250) - log1p(1)) / log1p(250)."""
    inst = pair_instance(
        employees=np.array([1, 250]),
        digital_levels=None,
        partners=[],
        affinity_weights=AffinityWeights(need=0.0, size=1.0),
    )
    got = affinity_of_pairs(inst, np.array([0]), np.array([1]))[0]
    assert got == pytest.approx(np.log1p(1) / np.log1p(250))


def test_evaluate_sums_within_group_pairs() -> None:
    """Placed counts distinct members; affinity sums pairs inside groups only."""
    mat = np.array([[0, 1, 2], [1, 0, 4], [2, 4, 0]], float)
    inst = Instance(n_firms=3, affinity_matrix=mat)
    assert evaluate(inst, Solution(3, ((0, 1),))).affinity == 1.0
    value = evaluate(inst, Solution(3, ((0, 1, 2),)))
    assert (value.placed, value.affinity) == (3, 7.0)


def test_member_mean_counts_each_member_once() -> None:
    """member_mean scales a group's pair sum by 2 / (size - 1): each member's mean fit."""
    mat = np.array([[0, 1, 2], [1, 0, 4], [2, 4, 0]], float)
    inst = Instance(n_firms=3, affinity_matrix=mat, group_score="member_mean")
    assert evaluate(inst, Solution(3, ((0, 1, 2),))).affinity == pytest.approx(7.0)  # 2/2 * 7
    assert evaluate(inst, Solution(3, ((0, 1),))).affinity == pytest.approx(2.0)  # 2/1 * 1
    assert evaluate(inst, Solution(3, ((0,),))).affinity == 0.0


def test_unknown_group_score_is_rejected() -> None:
    """An unknown group score names the field."""
    with pytest.raises(InvalidInstanceError) as err:
        Instance(n_firms=2, group_score="median")  # type: ignore[arg-type]
    assert err.value.field == "group_score"
