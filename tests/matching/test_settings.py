"""Tests for RunSettings: defaults, validation and the JSON snapshot."""

import json
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.core import registry
from matching.core.problem import AffinityWeights
from matching.core.registry import Field
from matching.sme.fields import check_value
from matching.sme.settings import RunSettings, SettingsError


def test_defaults_match_the_domain() -> None:
    """Defaults: training groups of 10-15 within 50 km, full theme share, no inference."""
    s = RunSettings()
    assert (s.purpose, s.min_size, s.max_size, s.max_pair_km) == ("training", 10, 15, 50.0)
    assert s.min_theme_share == 1.0 and s.infer_competitors_km is None
    assert s.theme_required and not RunSettings(purpose="peer").theme_required


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"purpose": "party"}, "purpose"),
        ({"min_size": 1}, "min_size"),
        ({"min_size": 12, "max_size": 11}, "max_size"),
        ({"max_pair_km": 0}, "max_pair_km"),
        ({"max_pair_km": float("nan")}, "max_pair_km"),
        ({"min_weight": 20, "max_weight": 10}, "max_weight"),
        ({"infer_competitors_km": -1.0}, "infer_competitors_km"),
        ({"min_theme_share": 0.0}, "min_theme_share"),
        ({"max_same_division": 0}, "max_same_division"),
        ({"allowed_themes": ("dig.nope",)}, "allowed_themes"),
        ({"purpose": "peer", "allowed_themes": ("dig.ai",)}, "allowed_themes"),
        ({"purpose": "subsidy", "allowed_themes": ("biz.strategy",)}, "allowed_themes"),
        ({"time_limit_s": None}, "time_limit_s"),
        ({"seed": -1}, "seed"),
        ({"max_neighbours": 5}, "max_neighbours"),
        ({"eligible_provinces": ()}, "eligible_provinces"),
    ],
)
def test_impossible_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    """Each impossible setting raises SettingsError naming the offending field."""
    with pytest.raises(SettingsError) as info:
        RunSettings(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_from_dict_rejects_unknown_keys_and_bad_weights() -> None:
    """from_dict is strict: unknown settings and negative affinity weights are errors."""
    with pytest.raises(SettingsError) as info:
        RunSettings.from_dict({"min_sise": 3})
    assert info.value.field == "min_sise"
    with pytest.raises(SettingsError) as info:
        RunSettings.from_dict({"affinity": {"need": -1.0}})
    assert info.value.field == "affinity.need"
    with pytest.raises(SettingsError):
        RunSettings.from_dict({"affinity": {"colour": 1.0}})


@given(
    purpose=st.sampled_from(["training", "subsidy", "peer"]),
    min_size=st.integers(2, 20),
    extra=st.integers(0, 10),
    km=st.floats(1.0, 200.0),
    share=st.floats(0.5, 1.0),
    seed=st.integers(0, 2**31 - 1),
    need_w=st.floats(0.0, 2.0),
    infer=st.none() | st.floats(0.5, 30.0),
)
def test_snapshot_round_trips_through_json(
    purpose: str,
    min_size: int,
    extra: int,
    km: float,
    share: float,
    seed: int,
    need_w: float,
    infer: float | None,
) -> None:
    """to_dict -> JSON -> from_dict gives back equal settings."""
    s = RunSettings(
        purpose=purpose,  # type: ignore[arg-type]
        min_size=min_size,
        max_size=min_size + extra,
        max_pair_km=km,
        min_theme_share=share,
        seed=seed,
        affinity=AffinityWeights(need=need_w),
        infer_competitors_km=infer,
        eligible_provinces=("Groningen",) if purpose == "subsidy" else None,
        allowed_themes=("train.vocational",) if purpose != "peer" else None,
    )
    assert RunSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_group_score_defaults_by_purpose_and_round_trips() -> None:
    """peer resolves to member_mean, the others to pair_sum; an explicit choice is kept."""
    assert RunSettings(purpose="peer").group_score == "member_mean"
    assert RunSettings(purpose="training").group_score == "pair_sum"
    chosen = RunSettings(purpose="peer", group_score="pair_sum")
    assert chosen.group_score == "pair_sum"
    assert RunSettings.from_dict(chosen.to_dict()) == chosen


def test_unknown_group_score_names_the_setting() -> None:
    """A group score outside pair_sum/member_mean is a SettingsError on group_score."""
    with pytest.raises(SettingsError) as err:
        RunSettings(group_score="max")  # type: ignore[arg-type]
    assert err.value.field == "group_score"


class _Cap(registry.Rule):
    """A test-only rule whose setting has no RunSettings attribute."""

    name: ClassVar[str] = "cap_test"
    fields: ClassVar[tuple[Field, ...]] = (
        Field("max_cap_test", "int", None, nullable=True, ge=1, le=9, en="Cap.", nl="Plafond."),
        Field("mode_test", "str", "on", choices=("on", "off"), en="Mode.", nl="Stand."),
    )


def test_rule_settings_live_in_options_and_value_reads_every_setting() -> None:
    """A rule's settings go to options (defaults filled), value() reads them and attributes."""
    with registry.registered(_Cap()):
        s = RunSettings.from_dict({"max_cap_test": 4, "min_size": 8})
        assert s.options == {**s.options, "max_cap_test": 4, "mode_test": "on"}
        assert (s.value("max_cap_test"), s.value("mode_test"), s.value("min_size")) == (4, "on", 8)
        assert RunSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
        with pytest.raises(SettingsError) as info:
            RunSettings(options={"mode_test": "sideways"})
        assert info.value.field == "mode_test"
        with pytest.raises(SettingsError) as info:
            RunSettings(options={"max_cup_test": 1})
        assert info.value.field == "max_cup_test"
    with pytest.raises(KeyError):
        RunSettings().value("max_cap_test")


def test_check_value_applies_type_bounds_and_null() -> None:
    """check_value: whole floats become ints, ints become floats, lists tuples; else errors."""
    count = Field("n", "int", None, nullable=True, ge=1, le=3, en="", nl="")
    share = Field("x", "float", 1.0, gt=0, le=1, en="", nl="")
    codes = Field("c", "list[str]", None, nullable=True, en="", nl="")
    assert check_value(count, 3.0) == 3 and check_value(count, None) is None
    assert check_value(share, 1) == 1.0 and isinstance(check_value(share, 1), float)
    assert check_value(codes, ["a"]) == ("a",)
    for field, bad in ((count, 3.5), (count, 4), (count, True), (share, 0), (share, None),
                       (share, float("inf")), (codes, "a"), (codes, [1])):  # fmt: skip
        with pytest.raises(SettingsError) as info:
            check_value(field, bad)
        assert info.value.field == field.name
