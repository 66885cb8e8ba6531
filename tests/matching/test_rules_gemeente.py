"""The gemeente cap (matching/rules/gemeente.py): counted, compiled, solved, verified, relaxed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from app.cli import app
from matching.core import registry
from matching.core.verify import check_group
from matching.sme.firms import Firm, firms_to_csv
from matching.sme.generate import generate_cohort
from matching.sme.relax import relax_firm
from matching.sme.settings import RunSettings
from tests.matching.test_solve import two_towns

GRONINGEN = (53.2194, 6.5665)


def _towns(cap: int | None) -> object:
    gemeente = np.array([14, 14, 14, 34, 106, 106, 106, 106, 80])
    return two_towns(attributes={"gemeente": gemeente}, options={"max_per_gemeente": cap})


def test_off_by_default_and_counted_from_the_raw_gemeente() -> None:
    """No cap: nothing compiled, nothing found; cap 2: one violation naming the 3 firms."""
    rule = registry.rule("gemeente")
    assert rule.fields[0].default is None
    off = _towns(None)
    assert registry.primitives(off).caps == () or all(
        c.rule != "gemeente" for c in registry.primitives(off).caps
    )
    assert check_group(off, 0, (0, 1, 2, 3), None) == []
    capped = _towns(2)
    found = check_group(capped, 0, (0, 1, 2, 3), None)
    assert [(v.kind, v.firms) for v in found] == [("gemeente", (0, 1, 2))]
    caps = [c for c in registry.primitives(capped).caps if c.rule == "gemeente"]
    assert len(caps) == 1 and caps[0].limit == 2


def _firm(eid: str, gemeente: str, k: int) -> Firm:
    """A Groningen-area firm a few hundred metres from the others, in ``gemeente``."""
    lat, lon = GRONINGEN
    return Firm(eid, f"Firm {eid}", "9711", "4120", 10, 2, ("train.vocational",),
                lat + 0.002 * k, lon, gemeente_code=gemeente)  # fmt: skip


def test_relaxation_raises_the_cap_to_place_the_firm_in_group_12() -> None:
    """Group 12 already has 3 firms of the firm's gemeente: 'raise max_per_gemeente 3 -> 4'."""
    members = [_firm(f"m{k}", "GM0014" if k < 3 else f"GM{100 + k:04d}", k) for k in range(10)]
    lone = _firm("x", "GM0014", 11)
    settings = RunSettings(purpose="peer", min_size=5, max_size=15, time_limit_s=None,
                           max_iterations=10, options={"max_per_gemeente": 3})  # fmt: skip
    groups = [((), None)] * 11 + [(tuple(f.external_id for f in members), None)]
    rel = relax_firm([*members, lone], [], [], settings, groups, "x")
    best = rel.best
    assert best is not None and best.setting == "max_per_gemeente"
    assert (best.current, best.needed, best.group) == (3, 4, 12)
    assert rel.advice("nl") == (
        "Verhoog max_per_gemeente van 3 naar 4: past dan in groep 12 (11 bedrijven)"
    )
    assert rel.advice("en") == (
        "Raise max_per_gemeente from 3 to 4: it then fits in group 12 (11 firms)"
    )


@pytest.mark.slow
def test_kring_solve_max_per_gemeente_3_keeps_every_group_under_the_cap(tmp_path: Path) -> None:
    """`kring solve --max-per-gemeente 3` on a generated cohort: verified, <= 3 per gemeente."""
    cohort = generate_cohort(400, ("Groningen",), seed=3)
    smes = tmp_path / "smes.csv"
    smes.write_text(firms_to_csv(cohort.firms), encoding="utf-8")
    out = tmp_path / "out.json"
    args = ["solve", str(smes), "--purpose", "peer", "--max-per-gemeente", "3",
            "--time-limit", "5", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["stats"]["verified"] is True and data["groups"]
    gemeente = {f.external_id: f.gemeente_code for f in cohort.firms}
    worst = max(max(Counter(gemeente[m] for m in g["members"]).values()) for g in data["groups"])
    assert worst <= 3
    # the cohort is concentrated: without the cap some group has more of one gemeente
    assert max(Counter(gemeente.values()).values()) > 3
