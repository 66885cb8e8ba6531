"""Instance and SolveParams validate themselves and are immutable."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matching import Instance, SolveParams
from matching.core.errors import InvalidInstanceError, InvalidParamsError
from matching.core.objective import pair_graph
from tests.matching.test_solve import two_towns


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"weights": [1, -1]}, "weights"),
        ({"min_size": 5, "max_size": 3}, "min_size"),
        ({"lats": [52.0, 52.1]}, "lats"),
        ({"max_pair_km": 50.0}, "max_pair_km"),
        ({"needs": ((0,), (5,)), "n_needs": 2}, "needs"),
        ({"forbidden": [[0, 0]]}, "forbidden"),
        ({"locked_groups": ((0,),), "pinned_groups": ((0, 1),)}, "pinned_groups"),
        ({"digital_levels": [0, 2]}, "digital_levels"),
        ({"theme_required": True}, "theme_required"),
        ({"affinity_matrix": [[0.0, 1.0], [2.0, 0.0]]}, "affinity_matrix"),
        ({"attributes": {"division": [41, 41, 41]}}, "attributes.division"),
    ],
)
def test_invalid_fields_are_named(fields: dict[str, object], field: str) -> None:
    """Each malformed field raises InvalidInstanceError naming that field."""
    with pytest.raises(InvalidInstanceError) as err:
        Instance(n_firms=2, **fields)  # type: ignore[arg-type]
    assert err.value.field == field


def test_instance_is_immutable() -> None:
    """Fields cannot be reassigned and arrays are read-only copies."""
    lats = np.array([53.0, 53.1])
    inst = Instance(n_firms=2, lats=lats, lons=np.array([6.0, 6.1]))
    lats[0] = 0.0
    assert inst.lats is not None and inst.lats[0] == 53.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        inst.n_firms = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        inst.lats[0] = 1.0


def test_pairs_are_sparse_and_exclude_far_and_forbidden() -> None:
    """The compatibility graph keeps pairs within 50 km that are not competitors."""
    inst = two_towns(forbidden=[[0, 1]])
    pairs = pair_graph(inst)
    assert list(pairs.of(8)) == []  # Leeuwarden: nobody within 50 km
    assert 1 not in pairs.of(0) and 2 in pairs.of(0) and 4 in pairs.of(0)
    assert int(pairs.degree.sum()) == 2 * (28 - 1)


def test_params_validate_ranges() -> None:
    """Params need some limit and sane values."""
    with pytest.raises(InvalidParamsError):
        SolveParams(time_limit_s=None, max_iterations=None)
    with pytest.raises(InvalidParamsError):
        SolveParams(time_limit_s=-1.0)
    with pytest.raises(InvalidParamsError):
        SolveParams(workers=0)
    assert SolveParams(time_limit_s=None, max_iterations=10).deterministic


def test_params_from_toml(tmp_path: object) -> None:
    """A [solve] table becomes params; unknown keys are rejected."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "p.toml"
    path.write_text("[solve]\ntime_limit_s = 3.5\nseed = 7\n", encoding="utf-8")
    params = SolveParams.from_toml(path)
    assert (params.time_limit_s, params.seed) == (3.5, 7)
    path.write_text("[solve]\nbogus = 1\n", encoding="utf-8")
    with pytest.raises(InvalidParamsError):
        SolveParams.from_toml(path)


def test_instance_pickles_for_process_pools() -> None:
    """An Instance with rule attributes and options survives pickling (windows and search
    populations go to other processes), its mappings still read-only."""
    import pickle

    inst = dataclasses.replace(
        two_towns(), attributes={"gemeente": np.arange(9) % 3}, options={"max_per_gemeente": 4}
    )
    back = pickle.loads(pickle.dumps(inst))
    assert dict(back.options) == {"max_per_gemeente": 4}
    assert np.array_equal(back.attributes["gemeente"], inst.attributes["gemeente"])
    with pytest.raises(TypeError):
        back.options["max_per_gemeente"] = 5  # type: ignore[index]
