"""matching.engines.distributed: window planning, window solving and the verified merge."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching import distributed as d
from matching.core.params import SolveParams
from matching.core.problem import Instance
from matching.core.verify import verify
from matching.sme.build import build_instance
from matching.sme.generate import generate_cohort
from matching.sme.settings import RunSettings


@pytest.fixture(scope="module")
def instance() -> Instance:
    """A generated cohort of 600 northern firms (default 10-15 firms within 50 km)."""
    cohort = generate_cohort(600, seed=3)
    settings = RunSettings.from_dict({"purpose": "training", "seed": 1})
    built, _ = build_instance(cohort.firms, cohort.competitors, cohort.partners, settings)
    return built


def test_plan_cores_partition_the_placeable_firms_and_bands_stay_within_the_border(
    instance: Instance,
) -> None:
    """Cores are disjoint and cover every placeable firm; band firms lie near their core."""
    plans = d.plan_windows(instance, 4, 20.0)
    assert len(plans) == 4
    cores = np.concatenate([np.array(p.core) for p in plans])
    assert sorted(cores.tolist()) == np.nonzero(instance.is_placeable)[0].tolist()
    assert instance.lats is not None and instance.lons is not None
    for p in plans:
        assert set(p.band).isdisjoint(p.core) and len(p.band) <= len(p.core) * d.BAND_SHARE + 1
        core = np.array(p.core)
        for f in p.band:  # within 20 km of the core's bounding box (degrees -> km, generous)
            lat, lon = instance.lats[f], instance.lons[f]
            assert instance.lats[core].min() - 0.2 <= lat <= instance.lats[core].max() + 0.2
            assert instance.lons[core].min() - 0.35 <= lon <= instance.lons[core].max() + 0.35
        assert d.WindowPlan.from_dict(p.to_dict()) == p


def test_windows_merge_into_one_verified_solution(instance: Instance) -> None:
    """Solving every window and merging yields a solution the verifier accepts, firms once."""
    plans = d.plan_windows(instance, 4, 50.0)
    results = [
        d.solve_window(instance, p, seed=1, max_iterations=300, time_limit_s=None) for p in plans
    ]
    assert [d.WindowResult.from_dict(r.to_dict()) for r in results] == results
    result = d.merge(instance, plans, results, SolveParams(time_limit_s=None, max_iterations=400))
    assert result.solution is not None
    assert verify(instance, result.solution) == []
    members = [i for g in result.solution.groups for i in g]
    assert len(members) == len(set(members)) == result.placed > 0.5 * instance.n_firms
    # the merge's bound is the star test's: valid, and never below the (tighter) cores' bound
    from matching.core.constraints import placement_upper_bound
    from matching.rules.unassigned import star_upper_bound

    assert result.bound_placed is not None
    assert result.bound_placed >= placement_upper_bound(instance) >= result.placed
    # counted per window over the firms each core left out: the same as over the merged
    # run's left-out firms (a firm the star test rules out is left out by every solution)
    assert all(r.unplaceable is not None for r in results)
    left = sorted(set(range(instance.n_firms)) - set(members))
    assert result.bound_placed == star_upper_bound(instance, left)


def test_plan_rejects_nonsense_arguments(instance: Instance) -> None:
    """Zero windows or a negative border raise ValueError."""
    with pytest.raises(ValueError):
        d.plan_windows(instance, 0, 50.0)
    with pytest.raises(ValueError):
        d.plan_windows(instance, 2, -1.0)


def test_subset_renumbers_firm_data_pairs_and_whole_groups(instance: Instance) -> None:
    """Instance.subset keeps row k = firm firms[k]; pairs inside the subset survive renamed."""
    firms = np.nonzero(instance.is_placeable)[0][::3][::-1].copy()  # any order
    sub = instance.subset(firms)
    assert sub.n_firms == len(firms) and sub.n_groups is None
    assert instance.lats is not None and sub.lats is not None and instance.needs is not None
    assert np.array_equal(sub.lats, instance.lats[firms])
    assert sub.needs is not None and list(sub.needs) == [instance.needs[i] for i in firms]
    inside = set(firms.tolist())
    expected = {
        frozenset(map(int, p)) for p in instance.forbidden if inside.issuperset(map(int, p))
    }
    assert {frozenset(int(firms[i]) for i in p) for p in sub.forbidden} == expected
    with pytest.raises(Exception, match="distinct"):
        instance.subset(np.array([firms[0], firms[0]]))


def test_border_repair_only_dissolves_groups_near_firms_left_out(instance: Instance) -> None:
    """The repair takes the unplaced zone firms and at most two border groups for each."""
    plans = d.plan_windows(instance, 4, 50.0)
    results = [
        d.solve_window(instance, p, seed=1, max_iterations=300, time_limit_s=None) for p in plans
    ]
    kept = d._keep(instance, plans, results)
    zone = np.zeros(instance.n_firms, bool)
    for p in plans:
        zone[list(p.band)] = True
    touched = [g for g in kept if zone[g].any()]
    others = [g for g in kept if not zone[g].any()]
    free, dissolved = d._repair_zone(instance, zone, touched, others, 12.5)
    placed = {i for g in kept for i in g}
    waiting = [i for i in np.nonzero(zone & instance.is_placeable)[0] if i not in placed]
    assert waiting, "the cohort leaves border firms unplaced (else the test proves nothing)"
    assert all(g in touched for g in dissolved)
    assert len(dissolved) <= d.GROUPS_PER_WAITING_FIRM * len(waiting)
    assert sorted(free.tolist()) == sorted(waiting + [i for g in dissolved for i in g])


def test_repair_parts_solved_apart_give_the_serial_merge(instance: Instance) -> None:
    """plan_repair -> solve_repair_part (any order) -> finish_merge equals merge(); the
    parts partition the re-solved firms, the plan survives JSON, and missing parts raise."""
    plans = d.plan_windows(instance, 4, 50.0)
    results = [
        d.solve_window(instance, p, seed=1, max_iterations=300, time_limit_s=None) for p in plans
    ]
    params = SolveParams(time_limit_s=None, max_iterations=400, seed=1)
    repair = d.plan_repair(instance, plans, results)
    assert repair.parts and d.RepairPlan.from_dict(repair.to_dict()) == repair
    assert [p.number for p in repair.parts] == [d.REPAIR_BASE - k for k in range(len(repair.parts))]
    freed = sorted(i for p in repair.parts for i in p.core)
    assert len(freed) == len(set(freed))
    kept = {i for g in repair.kept for i in g}
    assert kept.isdisjoint(freed) and {i for g in repair.dissolved for i in g} <= set(freed)
    solved = [d.solve_repair_part(instance, p, params) for p in reversed(repair.parts)]
    result = d.finish_merge(instance, repair, solved, params)
    serial = d.merge(instance, plans, results, params)
    assert result.solution is not None and serial.solution is not None
    assert sorted(map(sorted, result.solution.groups)) == sorted(
        map(sorted, serial.solution.groups)
    )
    assert (result.placed, result.affinity) == (serial.placed, serial.affinity)
    with pytest.raises(ValueError, match="repair part"):
        d.finish_merge(instance, repair, solved[1:], params)


@pytest.mark.slow
def test_bench_scale_prints_a_verified_row_per_worker_count() -> None:
    """`kring bench scale` on a small cohort: one verified row per worker count, speed-up 1.00."""
    from typer.testing import CliRunner

    from bench.cli import app

    out = CliRunner().invoke(
        app,
        ["scale", "--sizes", "800", "--workers", "1,2", "--iterations", "300",
         "--seed", "1"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = [line for line in out.output.splitlines() if line.startswith("| 800 |")]
    assert len(rows) == 2
    cells = [r.strip("|").split("|") for r in rows]
    assert [c[1].strip() for c in cells] == ["1", "2"]
    assert all(c[10].strip() == "True" for c in cells)
    assert cells[0][7] == cells[1][7]  # same seed and budget: the same placement on 1 and 2
    assert cells[0][13].strip() == "1.00"


def test_a_window_is_never_capped_tighter_than_a_cohort_of_its_size() -> None:
    """A 3,200-firm window of a cohort capped at 100 neighbours gets the 600 of its size;
    a small window keeps the cohort's cap."""
    from dataclasses import replace

    cohort = generate_cohort(3_500, seed=2)
    settings = RunSettings.from_dict({"purpose": "peer", "seed": 1})
    built, _ = build_instance(cohort.firms, cohort.competitors, cohort.partners, settings)
    tight = replace(built, max_neighbours=100)
    assert d.window_instance(tight, np.arange(3_200)).max_neighbours == 600
    assert d.window_instance(tight, np.arange(500)).max_neighbours == 100
    assert (
        d.window_instance(replace(built, max_neighbours=None), np.arange(3_200)).max_neighbours
        is None
    )


def test_auto_windows_aims_at_two_thousand_firms_per_window_and_at_least_four() -> None:
    """auto_windows: 4 for small runs, a power of two above (50,000 firms -> 32)."""
    assert [d.auto_windows(n) for n in (100, 8_000, 10_000, 50_000)] == [4, 4, 8, 32]


def test_solving_in_windows_in_one_process_is_verified_deterministic_and_cancellable(
    instance: Instance,
) -> None:
    """solve_in_windows: verified, the same groups for the same seed and budget, progress
    rising to the end; cancelled before the start it still returns a verified (empty) merge."""
    params = SolveParams(time_limit_s=None, max_iterations=600, seed=2)
    seen: list[float] = []
    first = d.solve_in_windows(
        instance, replace(params, progress=lambda p: seen.append(p.fraction)), n_windows=4
    )
    again = d.solve_in_windows(instance, params, n_windows=4)
    assert first.solution is not None and again.solution is not None
    assert verify(instance, first.solution) == []
    assert first.solution.groups == again.solution.groups and first.placed > 0.5 * 600
    assert seen == sorted(seen) and 0.9 < seen[-1] <= 1.0
    stopped = d.solve_in_windows(instance, replace(params, should_stop=lambda: True), n_windows=4)
    assert stopped.solution is not None and verify(instance, stopped.solution) == []
    assert stopped.placed == 0


def test_large_cohorts_are_solved_in_windows_by_solve_firms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above WINDOWED_ABOVE firms solve_firms takes the windowed path: verified, with a
    reason for every firm left out; rules needing the whole instance keep the whole path."""
    from matching.sme.pipeline import solve_firms

    monkeypatch.setattr(d, "WINDOWED_ABOVE", 500)
    cohort = generate_cohort(900, seed=4)
    settings = RunSettings.from_dict({"purpose": "peer", "seed": 1, "max_iterations": 900})
    report = solve_firms(cohort.firms, cohort.competitors, cohort.partners, settings)
    assert report.stats["method"] == "windows" and report.stats["verified"] is True
    assert report.stats["placed"] + len(report.unassigned) == 900
    assert report.stats["placed"] > 0.8 * 900
    pinned = [[cohort.firms[0].external_id, cohort.firms[1].external_id]]
    whole = solve_firms(cohort.firms, cohort.competitors, cohort.partners, settings, pinned=pinned)
    assert whole.stats["method"] == "whole"


def test_one_whole_vs_windowed_decision_for_both_executors(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """windowed(): parallel workers split from PARALLEL_WINDOWED_FROM firms, one process only
    above WINDOWED_ABOVE; one window asked, pinned firms or coverage keep the whole path."""
    monkeypatch.setattr(d, "PARALLEL_WINDOWED_FROM", 500)
    assert d.windowed(instance, parallel=True) and not d.windowed(instance)
    assert not d.windowed(instance, parallel=True, n_windows=1)
    assert not d.windowed(replace(instance, pinned_groups=((0, 1),)), parallel=True)
    monkeypatch.setattr(d, "WINDOWED_ABOVE", 500)
    assert d.windowed(instance) and not d.windowed(replace(instance, require_all=True))


def test_windows_default_their_border_to_the_instance_radius(instance: Instance) -> None:
    """plan_windows without a border uses max_pair_km (reach_km), as with it given."""
    assert d.reach_km(instance) == instance.max_pair_km
    assert d.plan_windows(instance, 4) == d.plan_windows(instance, 4, instance.max_pair_km)
    assert d.reach_km(replace(instance, max_pair_km=None)) == d.NO_RADIUS_KM


@pytest.mark.parametrize(
    ("limit", "n_windows", "workers"), [(20, 8, 2), (20, 8, 1), (6, 8, 2), (60, 5, 4), (10, 4, 8)]
)
def test_the_windows_waves_and_the_repair_fit_in_the_run_time_limit(
    limit: float, n_windows: int, workers: int
) -> None:
    """waves x window limit + the repair's share stays within the run's limit."""
    split = d.window_time_limits(limit, n_windows, workers)
    assert split.waves == -(-n_windows // workers)
    assert split.waves * split.window_s + split.repair_s <= limit + 1e-9
    assert split.expected_s == pytest.approx(limit)
    assert split.repair_s == pytest.approx(d.REPAIR_TIME_SHARE * limit)
    loaded = d.window_time_limits(limit, n_windows, workers, task_s=0.2)
    assert loaded.expected_s == pytest.approx(limit) and loaded.window_s < split.window_s
    assert loaded.waves * (loaded.window_s + 0.2) + loaded.repair_s <= limit + 1e-9


def test_more_workers_give_longer_windows_and_a_floor_keeps_them_useful() -> None:
    """Fewer waves with more workers: each window gets more of the limit."""
    limits = [d.window_time_limits(20, 8, w).window_s for w in (1, 2, 4, 8)]
    assert limits == sorted(limits) and limits[0] < limits[-1]
    assert limits[1] == pytest.approx(20 * (1 - d.REPAIR_TIME_SHARE) / 4)
    floor = d.window_time_limits(3, 32, 2, least_s=0.5)  # 16 waves: the floor wins
    assert floor.window_s == 0.5 and floor.expected_s > 3
    with pytest.raises(ValueError):
        d.window_time_limits(0, 4, 2)
    with pytest.raises(ValueError):
        d.window_time_limits(10, 4, 0)
    with pytest.raises(ValueError):
        d.window_time_limits(10, 4, 2, task_s=-1)
