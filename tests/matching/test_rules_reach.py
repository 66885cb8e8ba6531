"""The reach rule (matching/rules/reach.py): no group across the water to a Wadden island."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matching.core import registry
from matching.core.objective import pair_graph
from matching.core.verify import check_group
from matching.rules import reach
from matching.rules.unassigned import unassigned_reasons
from matching.sme.explanation import reason_explanation, reason_label
from matching.sme.firms import Firm
from matching.sme.generate import generate_cohort
from matching.sme.pipeline import solve_firms
from matching.sme.relax import relax_firm
from matching.sme.settings import RunSettings
from tests.matching.test_solve import two_towns

NES = (53.448, 5.773)  # Ameland
HOLWERD = (53.368, 5.902)  # the mainland, across the Wadden Sea (about 12 km)
AMELAND, WADDEN = 60, ("GM0448", "GM0096", "GM0093", "GM0060", "GM0088")


def test_zones_are_data_each_island_on_its_own() -> None:
    """The shipped file lists the five Wadden island gemeenten (CBS 2025), one zone each."""
    zones = reach.barriers()["islands"]
    assert zones == {"Texel": (448,), "Vlieland": (96,), "Terschelling": (93,),
                     "Ameland": (60,), "Schiermonnikoog": (88,)}  # fmt: skip
    raw = json.loads(reach.ZONES_FILE.read_text(encoding="utf-8"))
    codes = [c for z in raw["barriers"]["islands"]["zones"].values() for c in z]
    assert sorted(codes) == sorted(WADDEN)
    field = registry.rule("reach").fields[0]
    assert field.default == "islands" and set(field.choices) == {"islands", "none"}


def _towns(setting: str) -> object:
    gemeente = np.array([AMELAND] * 4 + [14] * 5)
    return two_towns(attributes={"gemeente": gemeente}, options={"reach": setting})


def test_mixed_group_is_a_violation_and_a_split_unless_off() -> None:
    """An island firm with mainland firms: one reach violation, no compatible pair; 'none' off."""
    on, off = _towns("islands"), _towns("none")
    found = check_group(on, 0, (0, 4, 5, 6), None)
    assert [v.kind for v in found] == ["reach"] and "Ameland" in found[0].detail
    assert check_group(on, 0, (0, 1, 2, 3), None) == []
    assert check_group(off, 0, (0, 4, 5, 6), None) == []
    pg = pair_graph(on)
    cross = [(i, j) for i in range(4) for j in pg.indices[pg.indptr[i] : pg.indptr[i + 1]]
             if j >= 4]  # fmt: skip
    assert cross == [] and registry.primitives(off).splits == ()


def test_island_firms_too_few_for_a_group_get_no_reach() -> None:
    """Three Ameland firms (min_size 4) near the mainland: no_reach; exact and star agree."""
    gemeente = np.array([AMELAND] * 3 + [14] * 6)
    lats = np.array([NES[0]] * 3 + [HOLWERD[0]] * 6) + 0.002 * np.arange(9)
    lons = np.array([NES[1]] * 3 + [HOLWERD[1]] * 6)
    for cap in (None, 5):
        inst = two_towns(lats=lats, lons=lons, attributes={"gemeente": gemeente},
                         options={"reach": "islands"}, max_neighbours=cap)  # fmt: skip
        reasons, bound, _ = unassigned_reasons(inst, list(range(9)))
        assert [reasons[i] for i in range(3)] == ["no_reach"] * 3
        assert bound == 6
    assert reason_label("no_reach", "nl") == "Alleen per veerboot bereikbaar"
    assert "veerboot" in reason_explanation("no_reach", "nl")
    assert "ferry" in reason_explanation("no_reach", "en")


def _firm(eid: str, at: tuple[float, float], gemeente: str, k: int) -> Firm:
    return Firm(eid, f"Firm {eid}", "9163", "4120", 10, 2, ("train.vocational",),
                at[0] + 0.002 * k, at[1], gemeente_code=gemeente)  # fmt: skip


def test_solve_leaves_lone_island_firms_unassigned_with_no_reach() -> None:
    """Ameland's 3 firms never join the 6 mainland firms; with reach 'none' they may."""
    firms = [_firm(f"a{k}", NES, "GM0060", k) for k in range(3)]
    firms += [_firm(f"m{k}", HOLWERD, "GM1949", k) for k in range(6)]
    base = {"purpose": "peer", "min_size": 4, "max_size": 9, "time_limit_s": None,
            "max_iterations": 200}  # fmt: skip
    report = solve_firms(firms, [], [], RunSettings(**base))  # type: ignore[arg-type]
    assert [set(g.members) for g in report.groups] == [{f"m{k}" for k in range(6)}]
    assert dict(report.unassigned) == {f"a{k}": "no_reach" for k in range(3)}
    off = solve_firms(firms, [], [], RunSettings(**base, options={"reach": "none"}))  # type: ignore[arg-type]
    assert sum(len(g.members) for g in off.groups) == 9


@pytest.mark.slow
def test_generated_frisian_cohort_never_mixes_an_island_with_another_zone() -> None:
    """1,500 firms of Fryslân (islands included): verified, every group within one zone."""
    cohort = generate_cohort(1500, ("Fryslân",), seed=5)
    zone = {f.external_id: f.gemeente_code if f.gemeente_code in WADDEN else "mainland"
            for f in cohort.firms}  # fmt: skip
    assert {"GM0060", "GM0093"} <= set(zone.values())
    settings = RunSettings(purpose="peer", time_limit_s=8.0, seed=1)
    report = solve_firms(cohort.firms, cohort.competitors, cohort.partners, settings)
    assert report.stats["verified"] is True and report.groups
    mixed = [g.id for g in report.groups if len({zone[m] for m in g.members}) > 1]
    assert mixed == []


def test_relaxation_keeps_an_island_firm_on_its_island() -> None:
    """Three Ameland firms, min_size 4: the advice is a group of the three, never the mainland."""
    firms = [_firm(f"a{k}", NES, "GM0060", k) for k in range(3)]
    firms += [_firm(f"m{k}", HOLWERD, "GM1949", k) for k in range(6)]
    settings = RunSettings(purpose="peer", min_size=4, max_size=9, time_limit_s=None,
                           max_iterations=10)  # fmt: skip
    rel = relax_firm(firms, [], [], settings, [(tuple(f"m{k}" for k in range(6)), None)], "a0")
    assert rel.best is not None and (rel.best.setting, rel.best.needed) == ("min_size", 3)
    assert set(rel.best.members) == {"a0", "a1", "a2"}
    assert all(set(c.members) <= {"a0", "a1", "a2"} for c in rel.options)
