"""The rule modules: one per hard rule, each with its fields, check, reason and relaxation."""

from __future__ import annotations

import numpy as np
import pytest

from matching.core import registry
from matching.core.errors import InvalidInstanceError
from matching.core.primitives import CountCap
from matching.core.verify import check_group
from matching.rules import distance
from matching.rules.unassigned import reasons
from tests.matching.test_solve import two_towns

SHIPPED = ("competitors", "distance", "division", "eligibility", "size", "theme", "weight")


def test_every_shipped_rule_is_registered_once_with_its_own_kinds() -> None:
    """Each rule module registers one rule; no two rules report the same violation kind."""
    names = [r.name for r in registry.rules()]
    assert set(SHIPPED) <= set(names) and len(names) == len(set(names))
    kinds = [k for r in registry.rules() for k in r.violation_kinds()]
    assert len(kinds) == len(set(kinds))
    assert registry.rule_of_kind("diameter") is registry.rule("distance")
    assert registry.rule_of_kind("duplicate") is None


def test_every_field_is_declared_once_with_dutch_and_english_words() -> None:
    """Field names are unique; each has a Dutch and an English sentence and sane bounds."""
    fields = registry.rule_fields()
    assert len({f.name for f in fields}) == len(fields)
    for f in fields:
        assert f.nl.strip() and f.en.strip() and f.nl != f.en, f.name
        if f.ge is not None and f.le is not None:
            assert f.ge <= f.le, f.name
        if f.default is None:
            assert f.nullable, f.name
        if f.choices:
            assert f.default in f.choices, f.name


def test_bounds_are_those_the_settings_enforced() -> None:
    """The Fields carry the strictest bounds RunSettings and the API used (one definition)."""
    by_name = {f.name: f for f in registry.rule_fields()}
    assert (by_name["min_size"].ge, by_name["max_size"].le) == (2, 100)
    assert (by_name["max_pair_km"].gt, by_name["max_pair_km"].le) == (0, 300)
    assert (by_name["min_theme_share"].gt, by_name["min_theme_share"].le) == (0, 1)
    assert (by_name["infer_competitors_km"].gt, by_name["infer_competitors_km"].le) == (0, 100)
    assert (by_name["max_same_division"].ge, by_name["max_same_division"].le) == (
        1,
        registry.MAX_COUNT,
    )
    assert by_name["max_weight"].ge == 0 and by_name["eligible_max_employees"].ge == 0


def test_the_geodesic_screen_is_the_distance_rules_one_definition() -> None:
    """Haversine decides outside the 1 % band, the exact geodesic inside it."""
    assert distance.GEODESIC_SCREEN == 0.01
    inst = two_towns()
    assert distance.far_pairs(inst, (0, 1, 2, 3)) == []
    far = distance.far_pairs(inst, (0, 1, 8))
    assert [(i, j) for i, j, _ in far] == [(0, 8), (1, 8)]
    assert all(km > 50 for *_, km in far)


def test_each_rule_checks_its_own_raw_data() -> None:
    """check_group asks every rule: a division cap over the raw divisions, from the instance."""
    divisions = np.array([1, 1, 1, 2, 2, 2, 2, 2, 3])
    inst = two_towns(attributes={"division": divisions}, options={"max_same_division": 2})
    found = check_group(inst, 0, (0, 1, 2, 3), None)
    assert [(v.kind, v.firms) for v in found] == [("division", (0, 1, 2))]
    assert registry.rule("division").check(inst, 0, (4, 5, 6, 7), None)[0].firms == (4, 5, 6, 7)


def test_division_compiles_into_a_count_cap() -> None:
    """The division cap becomes one CountCap over the divisions, with the run's limit."""
    inst = two_towns(attributes={"division": np.arange(9)}, options={"max_same_division": 3})
    caps = registry.primitives(inst).caps
    division = [c for c in caps if c.rule == "division"]
    assert len(division) == 1 and isinstance(division[0], CountCap)
    assert division[0].limit == 3 and division[0].labels.tolist() == list(range(9))


def test_a_division_cap_without_divisions_names_the_setting() -> None:
    """options max_same_division without attributes['division']: InvalidInstanceError."""
    with pytest.raises(InvalidInstanceError) as err:
        registry.primitives(two_towns(options={"max_same_division": 2}))
    assert err.value.field == "max_same_division"


@pytest.mark.parametrize(
    ("overrides", "members", "setting", "needed"),
    [
        ({}, (0, 1, 2, 3, 4), "max_size", 5),
        ({}, (0, 1, 2), "min_size", 3),
        ({"attributes": {"division": np.zeros(9, np.int64)},
          "options": {"max_same_division": 3}}, (0, 1, 2, 3), "max_same_division", 4),
        ({"forbidden": [[1, 2]]}, (0, 1, 2, 3), "competitor_link", None),
        ({"max_pair_km": 1.0}, (0, 1, 2, 3), "max_pair_km", 1.1),
    ],
)  # fmt: skip
def test_each_rule_proposes_its_smallest_loosening(
    overrides: dict[str, object], members: tuple[int, ...], setting: str, needed: float | None
) -> None:
    """A rule's relax() names its setting and the value that makes the group keep it."""
    inst = two_towns(**overrides)
    found = check_group(inst, None, members, None)
    owner = registry.rule_of_kind(found[0].kind)
    assert owner is not None and {v.kind for v in found} <= set(owner.violation_kinds())
    loose = owner.relax(inst, found, members, None)
    assert loose is not None and loose.setting == setting
    if needed is not None:
        assert loose.needed == pytest.approx(needed, abs=0.11)
    assert check_group(loose.instance, None, members, None) == []


def test_reasons_come_from_the_rules_in_stage_order() -> None:
    """The unassigned reasons are the rules' own codes: exclusion, reach, pairs, group."""
    codes = reasons()
    assert codes[0] == "ineligible" and codes[1] == "no_neighbourhood"
    assert codes.index("competitors_block") < codes.index("no_common_need")
    assert codes[-1] == "left_over"
