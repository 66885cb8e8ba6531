"""A throwaway rule registered through the registry alone is honoured everywhere.

tests/matching/rules_small_firms.py (at most 2 members with fewer than 5 employees) is
registered with ``registry.registered`` only: the tabu search, the CP-SAT model and its
LNS, the verifier and the relaxation all keep it, and none of them names it.
"""

from __future__ import annotations

import numpy as np

from matching import Instance, Solution, SolveParams, SolveStatus, solve, verify
from matching.core import registry
from matching.core.stop import Budget
from matching.engines.cpsat.lns import improve
from matching.sme.firms import Firm
from matching.sme.relax import relax_firm
from matching.sme.settings import RunSettings
from tests.matching.rules_small_firms import SMALL, SmallFirms
from tests.matching.test_cpsat import run
from tests.matching.test_solve import two_towns

EMPLOYEES = np.array([1, 2, 3, 40, 50, 60, 70, 80, 90])  # Groningen's 0, 1, 2 are small
OPTIMUM = [[0, 1, 2, 3], [4, 5, 6, 7]]  # the paper optimum without the rule: 3 small firms


def _towns() -> Instance:
    return two_towns(employees=EMPLOYEES, options={"max_small_firms": 2})


def _most_small(groups: object) -> int:
    return max(int((EMPLOYEES[list(g)] < SMALL).sum()) for g in groups)  # type: ignore[attr-defined]


def test_the_rule_is_registered_only_inside_the_block() -> None:
    """registered() adds the rule, its field and its primitives; leaving the block removes them."""
    inst = _towns()
    with registry.registered(SmallFirms()):
        assert "max_small_firms" in {f.name for f in registry.rule_fields()}
        caps = registry.primitives(inst).caps
        assert [c.rule for c in caps] == ["small_firms"] and caps[0].limit == 2
    assert "small_firms" not in {r.name for r in registry.rules()}
    assert registry.primitives(inst).caps == ()


def test_tabu_search_honours_the_rule() -> None:
    """Without the rule the search finds the optimum with 3 small firms; with it, at most 2."""
    params = SolveParams(time_limit_s=None, max_iterations=400, seed=0, use_cpsat=False)
    inst = _towns()
    free = solve(inst, params)
    assert free.solution is not None and _most_small(free.solution.groups) == 3
    with registry.registered(SmallFirms()):
        capped = solve(inst, params)
        assert capped.solution is not None and capped.solution.groups
        assert _most_small(capped.solution.groups) <= 2
        assert verify(inst, capped.solution) == []


def test_cpsat_model_and_lns_honour_the_rule() -> None:
    """CP-SAT: 6 small firms need 3 slots under the rule (2 are infeasible); LNS keeps it."""
    small = Instance(n_firms=6, employees=np.ones(6, np.int64), require_all=True,
                     options={"max_small_firms": 2})  # fmt: skip
    assert run(small, 2)[0] is SolveStatus.OPTIMAL
    inst = _towns()
    params = SolveParams(time_limit_s=None, max_iterations=10, seed=0)
    start = [[0, 1, 4, 5], [2, 3, 6, 7]]
    assert sorted(improve(inst, [g[:] for g in start], params, Budget(params), 3)[0]) == OPTIMUM
    with registry.registered(SmallFirms()):
        assert run(small, 2)[0] is SolveStatus.INFEASIBLE
        status, groups = run(small, 3)
        assert status is SolveStatus.OPTIMAL and _most_small(groups) <= 2
        groups, _ = improve(inst, [g[:] for g in start], params, Budget(params), 3)
        assert _most_small(groups) <= 2
        assert verify(inst, Solution(9, tuple(tuple(g) for g in groups))) == []


def test_verifier_reports_the_rule_from_the_raw_employees() -> None:
    """The optimum's Groningen group breaks the rule: one small_firms violation, 3 firms."""
    inst = _towns()
    solution = Solution(9, tuple(tuple(g) for g in OPTIMUM))
    assert verify(inst, solution) == []
    with registry.registered(SmallFirms()):
        found = verify(inst, solution)
    assert [(v.kind, v.group, v.firms) for v in found] == [("small_firms", 0, (0, 1, 2))]


def _firm(eid: str, employees: int, k: int) -> Firm:
    return Firm(eid, f"Firm {eid}", "9711", "4120", employees, 2, ("train.vocational",),
                53.2194 + 0.002 * k, 6.5665)  # fmt: skip


def test_relaxation_raises_the_rules_own_setting() -> None:
    """A small firm that would be the group's third: 'Verhoog max_small_firms van 2 naar 3'."""
    members = [_firm(f"m{k}", 2 if k < 2 else 30, k) for k in range(5)]
    lone = _firm("x", 1, 6)
    groups = [(tuple(f.external_id for f in members), None)]
    with registry.registered(SmallFirms()):
        settings = RunSettings(purpose="peer", min_size=3, max_size=8, time_limit_s=None,
                               max_iterations=10, options={"max_small_firms": 2})  # fmt: skip
        rel = relax_firm([*members, lone], [], [], settings, groups, "x")
    assert rel.best is not None and rel.best.setting == "max_small_firms"
    assert (rel.best.current, rel.best.needed, rel.best.group) == (2, 3, 1)
    assert (
        rel.advice("nl")
        == "Verhoog max_small_firms van 2 naar 3: past dan in groep 1 (6 bedrijven)"
    )
