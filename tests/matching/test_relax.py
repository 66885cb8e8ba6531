"""The "why not placed" relaxation on cohorts checkable on paper (Groningen and Leeuwarden)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.distance import geodesic_km
from matching.core.verify import check_group
from matching.sme.build import build_instance
from matching.sme.firms import Firm
from matching.sme.needs import NEED_CODES
from matching.sme.relax import Change, Relaxation, relax_firm
from matching.sme.settings import RunSettings

GRONINGEN = (53.2194, 6.5665)
LEEUWARDEN = (53.2012, 5.7999)


def firm(eid: str, at: tuple[float, float], needs: tuple[str, ...] = ("train.vocational",),
         employees: int = 10, dlat: float = 0.0) -> Firm:  # fmt: skip
    """A firm at a town (shifted north by ``dlat`` degrees)."""
    return Firm(eid, f"Firm {eid}", "9711", "4120", employees, 2, needs, at[0] + dlat, at[1])


def town(prefix: str, at: tuple[float, float], n: int) -> list[Firm]:
    """``n`` firms a few hundred metres apart."""
    return [firm(f"{prefix}{k}", at, dlat=0.002 * k) for k in range(n)]


SETTINGS = RunSettings(min_size=5, max_size=6, time_limit_s=None, max_iterations=10)


def test_far_firm_needs_the_exact_distance() -> None:
    """A Leeuwarden firm joins four Groningen firms once max_pair_km reaches their distance."""
    firms = [*town("g", GRONINGEN, 4), firm("l0", LEEUWARDEN)]
    rel = relax_firm(firms, [], [], SETTINGS, [], "l0")
    best = rel.best
    assert best is not None and best.setting == "max_pair_km" and best.group is None
    far = max(geodesic_km(*LEEUWARDEN, f.lat, f.lon) for f in firms[:4])
    assert best.needed == pytest.approx(far, abs=0.1) and best.needed >= far
    assert best.current == 50.0 and set(best.members) == {"g0", "g1", "g2", "g3", "l0"}


def test_small_cluster_needs_a_lower_min_size() -> None:
    """Four close firms and min_size 5: min_size 5 -> 4 is offered (besides the distance)."""
    firms = [*town("g", GRONINGEN, 4), firm("l0", LEEUWARDEN)]
    rel = relax_firm(firms, [], [], SETTINGS, [], "g0")
    sizes = [c for c in rel.options if c.setting == "min_size"]
    assert sizes and sizes[0].needed == 4 and sizes[0].relative == pytest.approx(0.2)
    assert rel.best is not None and rel.best.setting == "max_pair_km"  # 51 km is +3 %, smaller


def test_competitor_link_is_named() -> None:
    """Five close firms, one competitor pair: the blocking link is named as an option."""
    firms = town("g", GRONINGEN, 5)
    rel = relax_firm(firms, [("g0", "g4")], [], SETTINGS, [], "g0")
    links = [c for c in rel.options if c.setting == "competitor_link"]
    assert [c.link for c in links] == [("g0", "g4")]
    assert rel.options[-1].setting == "competitor_link"  # numeric changes rank first


def test_theme_share_down() -> None:
    """A firm without the group's theme joins once the theme share drops to 4 of 5."""
    odd = firm("x", GRONINGEN, ("hr.employer_branding",), dlat=0.01)
    firms = [*town("g", GRONINGEN, 4), odd]
    groups = [(["g0", "g1", "g2", "g3"], "train.vocational")]
    settings = RunSettings(min_size=4, max_size=6, time_limit_s=None, max_iterations=10)
    rel = relax_firm(firms, [], [], settings, groups, "x")
    best = rel.best
    assert best is not None and best.setting == "min_theme_share" and best.needed == 0.8
    assert best.group == 1 and best.theme == "train.vocational"
    assert any(a.group == 1 for a in rel.tried)


def test_full_group_needs_a_larger_max_size() -> None:
    """A full group within reach: max_size 4 -> 5 places the firm in it."""
    firms = town("g", GRONINGEN, 5)
    groups = [(["g0", "g1", "g2", "g3"], "train.vocational")]
    settings = RunSettings(min_size=4, max_size=4, time_limit_s=None, max_iterations=10)
    rel = relax_firm(firms, [], [], settings, groups, "g4")
    assert rel.best is not None and rel.best.setting == "max_size" and rel.best.needed == 5


def test_ineligible_firm_reports_its_rule() -> None:
    """An ineligible firm gets its failed rule and no options."""
    firms = town("g", GRONINGEN, 5)
    settings = RunSettings(purpose="subsidy", eligible_max_employees=5, min_size=2,
                           time_limit_s=None, max_iterations=10)  # fmt: skip
    rel = relax_firm(firms, [], [], settings, [], "g0")
    assert rel.ineligible_rule is not None and rel.ineligible_rule.startswith("eligible_max")
    assert rel.options == () and rel.to_dict()["best"] is None


_NEEDS = ("train.vocational", "hr.recruitment", "dig.cybersecurity")


@settings(max_examples=25, deadline=None)
@given(
    spots=st.lists(
        st.tuples(st.floats(-0.5, 0.5), st.floats(-0.8, 0.8), st.sampled_from(_NEEDS)),
        min_size=4,
        max_size=9,
    ),
    min_size=st.integers(3, 5),
    km=st.sampled_from([20.0, 35.0, 50.0]),
    links=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=3),
)
def test_every_option_places_the_firm_when_applied(
    spots: list[tuple[float, float, str]], min_size: int, km: float, links: list[tuple[int, int]]
) -> None:
    """Applying any offered change to the settings makes its group valid (exact re-check)."""
    firms = [Firm(f"f{k}", "F", "9711", "4120", 10, 2, (need,), GRONINGEN[0] + dlat,
                  GRONINGEN[1] + dlon) for k, (dlat, dlon, need) in enumerate(spots)]  # fmt: skip
    pairs = [(f"f{a}", f"f{b}") for a, b in links if a != b and max(a, b) < len(firms)]
    base = RunSettings(min_size=min_size, max_size=min_size + 1, max_pair_km=km,
                       time_limit_s=None, max_iterations=5)  # fmt: skip
    rel = relax_firm(firms, pairs, [], base, [], "f0")
    relative = [c.relative for c in rel.options if c.relative is not None]
    assert relative == sorted(relative)
    for change in rel.options:
        changed = base
        kept = pairs
        if change.setting == "competitor_link":
            assert change.link is not None
            kept = [p for p in pairs if set(p) != set(change.link)]
        else:
            value = change.needed
            assert value is not None
            value = int(value) if change.setting.endswith("size") else value
            changed = dataclasses.replace(base, **{change.setting: value})
        instance, index = build_instance(firms, kept, [], changed)
        members = tuple(sorted(index.index_of(e) for e in change.members))
        theme = None if change.theme is None else NEED_CODES.index(change.theme)
        assert "f0" in change.members
        assert check_group(instance, None, members, theme) == [], change.describe()


def test_answer_is_the_five_best_changes_in_words() -> None:
    """to_dict keeps five ranked options, rounds them and says each in Dutch (English on ask)."""

    def change(needed: float, group: int) -> Change:
        members = tuple(f"f{k}" for k in range(11))
        return Change("max_pair_km", 50.0, needed, None, group, members, None,
                      (needed - 50) / 50)  # fmt: skip

    options = tuple(change(50.04 + k, 12 + k) for k in range(7))
    out = Relaxation("x", None, options, ()).to_dict()
    assert len(out["options"]) == 5 and out["options_found"] == 7
    assert [o["rank"] for o in out["options"]] == [1, 2, 3, 4, 5]
    best = out["options"][0]
    assert (
        best["description"] == "Sta 51 km toe in plaats van 50: past dan in groep 12 (11 bedrijven)"
    )
    assert best["relative"] == 0.001 and best["suggested"] == 51 and best["needed"] == 50.04
    english = Relaxation("x", None, options, ()).to_dict("en")["best"]["description"]
    assert english == "Allow 51 km instead of 50: it then fits in group 12 (11 firms)"


def test_ineligible_firm_advice_names_the_place() -> None:
    """An ineligible firm's relaxation names its gemeente and the scheme's area by name."""
    far = dataclasses.replace(firm("n0", GRONINGEN), gemeente_name="Noordenveld",
                              province="Drenthe", gemeente_code="GM1699")  # fmt: skip
    subsidy = RunSettings(purpose="subsidy", scheme_id="jtf-groningen-personeel-scholing")
    rel = relax_firm([far, *town("g", GRONINGEN, 4)], [], [], subsidy, [], "n0")
    out = rel.to_dict()
    assert out["ineligible_rule_code"] == "scheme.regions"
    assert out["ineligible_rule"] == "Noordenveld ligt buiten Groningen en gemeente Emmen"
    assert out["advice"].startswith("Het bedrijf valt buiten de regeling (Noordenveld ligt")
