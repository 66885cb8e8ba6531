"""The scheme catalogue: schema validation, per-firm eligibility, subsidy runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching.sme.firms import Firm
from matching.sme.pipeline import solve_firms
from matching.sme.schemes import (
    SCHEME_DIR,
    SchemeFileError,
    catalogue,
    check_firm,
    load_schemes,
    scheme_by_id,
)
from matching.sme.settings import RunSettings, SettingsError, effective_settings

SHIPPED = {"jtf-groningen-personeel-scholing", "jtf-groningen-digitalisering-robotisering",
           "slim", "mit-rd-samenwerking"}  # fmt: skip


def firm(eid: str, employees: int = 10, province: str = "Groningen", gemeente: str = "GM0014",
         needs: tuple[str, ...] = ("train.vocational",), dlat: float = 0.0) -> Firm:  # fmt: skip
    """A firm in Groningen city (or wherever ``province``/``gemeente`` say)."""
    return Firm(eid, f"Firm {eid}", "9711", "4120", employees, 2, needs, 53.2194 + dlat, 6.5665,
                gemeente_code=gemeente, gemeente_name="Somewhere", province=province)  # fmt: skip


def test_catalogue_ships_the_four_schemes_marked_verify() -> None:
    """The bundled catalogue has the four schemes, each with a source and a verify note."""
    schemes = catalogue()
    assert {s.id for s in schemes} == SHIPPED
    for s in schemes:
        assert "verify" in s.verify.lower() and s.source and s.notes
    assert scheme_by_id("slim").lead_applicant.may_be == ("member", "branch_organisation",
                                                          "training_fund")  # fmt: skip
    assert scheme_by_id("mit-rd-samenwerking").max_cost_share == 0.7
    assert scheme_by_id("jtf-groningen-personeel-scholing").regions.gemeenten == ("GM0114",)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["partners"].update(min=0), "partners.min"),
        (lambda d: d.update(funded_needs=["hr.nonsense"]), "funded_needs"),
        (lambda d: d["regions"].update(gemeenten=["Emmen"]), "regions.gemeenten"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.pop("source"), "source"),
        (lambda d: d.update(id="other"), "id"),
    ],
)
def test_malformed_scheme_file_names_file_and_field(tmp_path: Path, edit, field: str) -> None:  # type: ignore[no-untyped-def]
    """A malformed scheme file fails loudly, naming the file and the field."""
    data = json.loads((SCHEME_DIR / "slim.json").read_text())
    edit(data)
    (tmp_path / "slim.json").write_text(json.dumps(data))
    with pytest.raises(SchemeFileError) as info:
        load_schemes(tmp_path)
    assert info.value.path.name == "slim.json" and info.value.field.startswith(field)
    assert "slim.json" in str(info.value) and field in str(info.value)


def test_invalid_json_is_a_file_error(tmp_path: Path) -> None:
    """A file that is not JSON fails with field 'file'."""
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(SchemeFileError, match=r"broken\.json") as info:
        load_schemes(tmp_path)
    assert info.value.field == "file"


def test_check_firm_returns_the_failed_rule() -> None:
    """check_firm reports size, region and funded-need failures in that order."""
    jtf = scheme_by_id("jtf-groningen-personeel-scholing")
    assert check_firm(jtf, firm("a")) is None
    assert check_firm(jtf, firm("b", province="Drenthe", gemeente="GM0114")) is None  # Emmen
    big = check_firm(jtf, firm("c", employees=60, province="Fryslân"))
    assert big is not None and big.rule == "firm_size.max_employees"
    away = check_firm(jtf, firm("d", province="Fryslân", gemeente="GM0080"))
    assert away is not None and away.rule == "regions"
    need = check_firm(jtf, firm("e", needs=("biz.strategy",)))
    assert need is not None and need.rule == "funded_needs"


def test_effective_settings_intersect_partner_bounds_and_themes() -> None:
    """A scheme narrows themes to its funded needs and keeps sizes within partner bounds."""
    s = RunSettings(purpose="subsidy", scheme_id="slim", min_size=1 + 1, max_size=4)
    eff = effective_settings(s)
    assert eff.scheme_id is None and (eff.min_size, eff.max_size) == (2, 4)
    assert set(eff.allowed_themes or ()) == set(scheme_by_id("slim").funded_needs)


def test_scheme_settings_are_validated() -> None:
    """Unknown schemes, non-subsidy purposes and unfunded themes are SettingsErrors."""
    with pytest.raises(SettingsError, match="unknown scheme") as info:
        RunSettings(purpose="subsidy", scheme_id="nope")
    assert info.value.field == "scheme_id"
    with pytest.raises(SettingsError, match="purpose"):
        RunSettings(purpose="training", scheme_id="slim")
    with pytest.raises(SettingsError, match="funded") as info:
        RunSettings(purpose="subsidy", scheme_id="slim", allowed_themes=("dig.privacy",))
    assert info.value.field == "allowed_themes"


def test_subsidy_run_places_only_eligible_firms_within_partner_bounds() -> None:
    """A JTF run places only eligible firms; ineligible ones come with their failed rule."""
    firms = [firm(f"g{k}", dlat=0.002 * k) for k in range(6)]
    firms += [firm("big", employees=80, dlat=0.001), firm("fry", province="Fryslân",
              gemeente="GM0080", dlat=0.003), firm("strat", needs=("biz.strategy",))]  # fmt: skip
    jtf = "jtf-groningen-personeel-scholing"
    settings = RunSettings(purpose="subsidy", scheme_id=jtf, min_size=3, max_size=4,
                           time_limit_s=None, max_iterations=50)  # fmt: skip
    out = solve_firms(firms, [], [], settings).to_dict()
    placed = {m for g in out["groups"] for m in g["members"]}
    assert placed and placed <= {f"g{k}" for k in range(6)}
    assert all(3 <= g["size"] <= 4 for g in out["groups"])
    rules = {u["id"]: u.get("rule", "") for u in out["unassigned"]}
    assert rules["big"].startswith("scheme.firm_size.max_employees")
    assert rules["fry"].startswith("scheme.regions")
    assert rules["strat"].startswith("scheme.funded_needs")
    assert {u["id"]: u["reason"] for u in out["unassigned"]}["big"] == "ineligible"
    themes = {g["theme"] for g in out["groups"]}
    assert themes <= set(scheme_by_id("jtf-groningen-personeel-scholing").funded_needs)


def test_labour_market_region_is_looked_up_from_the_postcode() -> None:
    """A scheme limited to a labour-market region accepts a firm whose PC4 lies in it."""
    base = scheme_by_id("slim")
    regions = base.regions.model_copy(update={"labour_market_regions": ("Groningen",)})
    scheme = base.model_copy(update={"regions": regions})
    assert check_firm(scheme, firm("a")) is None  # 9711 is in labour-market region Groningen
    away = Firm("b", "B", "8911", "4120", 10, 2, ("train.vocational",), 53.2, 5.8,
                gemeente_code="GM0080", province="Fryslân")  # fmt: skip
    failed = check_firm(scheme, away)
    assert failed is not None and failed.rule == "regions"


def test_partner_maximum_caps_group_size() -> None:
    """A scheme allowing at most 4 partners caps max_size at 4; a min_size above it fails."""
    capped = scheme_by_id("slim").model_copy(
        update={"partners": scheme_by_id("slim").partners.model_copy(update={"max": 4})}
    )
    s = RunSettings(purpose="subsidy", scheme_id="slim", min_size=3, max_size=15)
    eff = effective_settings(s, capped)
    assert (eff.min_size, eff.max_size) == (3, 4)
    with pytest.raises(SettingsError, match="partners") as info:
        effective_settings(RunSettings(purpose="subsidy", scheme_id="slim", min_size=5), capped)
    assert info.value.field == "scheme_id"
