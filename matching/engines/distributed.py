"""Solve a large instance as overlapping regional windows, then merge and repair.

The pure half of the distributed executor (the service ships windows to Celery workers):

1. :func:`plan_windows` cuts the placeable firms into ``n_windows`` compact *cores* by
   recursive median cuts (:func:`matching.engines.heuristics.regions.split_regions`) and gives each
   core a *border band*: the nearest firms of other cores within ``border_km`` of its
   bounding box (capped at ``band_share`` of the core), so windows overlap at the cuts.
2. :func:`solve_window` runs the whole optimiser (:func:`matching.engines.solve.solve`: search,
   then CP-SAT polish) on one window's core as an instance of its own
   (:meth:`Instance.subset`); inputs and outputs are plain data
   (:meth:`WindowPlan.to_dict`, :meth:`WindowResult.to_dict`).
3. :func:`plan_repair` joins the windows' groups and picks the border repair: each firm
   of a border band left unplaced dissolves its nearest border groups; those firms are cut
   into compact *repair parts*.  :func:`solve_repair_part` re-solves one part (parts are
   independent: a pool or Celery runs them in parallel), and :func:`finish_merge` keeps the
   re-solved groups only when they place more firms or, equally many, with more affinity,
   then verifies the whole clustering.  :func:`merge` does the three steps in one process.
   The repair is proportional to the firms left out at the borders, not to the instance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geodata.neighbours import nearest_within
from matching.core import constraints as c
from matching.core.errors import UnverifiedSolutionError
from matching.core.objective import evaluate, group_pair_sums, group_values, neighbour_cap
from matching.core.params import SolveParams
from matching.core.problem import Instance
from matching.core.progress import Progress
from matching.core.result import Result, SolveStatus
from matching.core.solution import Solution
from matching.core.verify import verify
from matching.engines.heuristics.regions import split_regions
from matching.engines.solve import solve
from matching.rules.unassigned import star_unplaceable, star_upper_bound

KM_PER_DEGREE = 111.2
WINDOW_FIRMS = 2_000
"""Firms per window :func:`auto_windows` aims at (small windows: uncapped pair graphs)."""
GROUPS_PER_WAITING_FIRM = 2
"""Border groups an unplaced border firm may dissolve in the repair (nearest first)."""
REPAIR_PART_FIRMS = 750
"""Most firms in one repair part.  Measured at 50,000 firms (4,340 firms re-solved): parts
of <= 1,500 took 7.4 s in all and re-placed 3,799 firms, parts of <= 750 took 2.9 s and
re-placed 3,775 (the dissolved groups held 3,669); the parts are the merge's critical path."""
BAND_SHARE = 0.15
"""Default cap on a border band's size, relative to its core."""


@dataclass(frozen=True)
class WindowPlan:
    """One window: its core firms and its border band (global indices, ascending)."""

    number: int
    core: tuple[int, ...]
    band: tuple[int, ...]

    @property
    def firms(self) -> NDArray[np.int64]:
        """Core and band together, ascending."""
        return np.array(sorted(self.core + self.band), np.int64)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return {"number": self.number, "core": list(self.core), "band": list(self.band)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(int(data["number"]), tuple(data["core"]), tuple(data["band"]))


@dataclass(frozen=True)
class WindowResult:
    """Groups (global indices) a window's search found, and the iterations it used."""

    number: int
    groups: tuple[tuple[int, ...], ...]
    iterations: int
    unplaceable: int | None = None
    """Core firms left out that the star test proves can never be placed (``None``: not
    counted); their sum over the windows gives the merged run's placement bound."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        groups = [list(g) for g in self.groups]
        return {"number": self.number, "groups": groups, "iterations": self.iterations,
                "unplaceable": self.unplaceable}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowResult:
        """Inverse of :meth:`to_dict`."""
        groups = tuple(tuple(int(i) for i in g) for g in data["groups"])
        never = data.get("unplaceable")
        return cls(int(data["number"]), groups, int(data["iterations"]),
                   None if never is None else int(never))  # fmt: skip


def _band(
    instance: Instance, core: NDArray[np.int64], others: NDArray[np.int64], km: float, cap: int
) -> NDArray[np.int64]:
    """Firms of ``others`` within ``km`` of the core's bounding box, the nearest ``cap``."""
    assert instance.lats is not None and instance.lons is not None
    lat, lon = instance.lats[core], instance.lons[core]
    scale = max(math.cos(math.radians(float(np.mean(lat)))), 0.1)
    o_lat, o_lon = instance.lats[others], instance.lons[others]
    d_lat = np.maximum(np.maximum(lat.min() - o_lat, o_lat - lat.max()), 0.0)
    d_lon = np.maximum(np.maximum(lon.min() - o_lon, o_lon - lon.max()), 0.0) * scale
    away_km = np.hypot(d_lat, d_lon) * KM_PER_DEGREE
    near = np.nonzero(away_km <= km)[0]
    near = near[np.argsort(away_km[near], kind="mergesort")[:cap]]
    return others[near]


def auto_windows(n_placeable: int, firms_per_window: int = WINDOW_FIRMS) -> int:
    """The number of windows for ``n_placeable`` firms: a power of two, at least 4.

    Measured at 50,000 firms (BENCHMARKS.md, scale): 4 windows of 12,500 placed 58.6 % in
    127 s on two workers, 32 windows of ~1,560 placed 90.6 % in 63 s.

    Parameters
    ----------
    n_placeable
        Firms to place.
    firms_per_window
        Target window size.

    Returns
    -------
    int
        ``max(4, 2**ceil(log2(n_placeable / firms_per_window)))``.
    """
    wanted = max(1, math.ceil(n_placeable / max(firms_per_window, 1)))
    return max(4, 1 << (wanted - 1).bit_length())


NO_RADIUS_KM = 50.0
"""Border band (and a quarter of it: the repair zone) of an instance without ``max_pair_km``."""


def reach_km(instance: Instance) -> float:
    """How far apart two members of a group may be: ``max_pair_km``, else ``NO_RADIUS_KM``."""
    return float(instance.max_pair_km) if instance.max_pair_km is not None else NO_RADIUS_KM


def plan_windows(
    instance: Instance,
    n_windows: int,
    border_km: float | None = None,
    band_share: float = BAND_SHARE,
) -> list[WindowPlan]:
    """Cut the placeable firms into about ``n_windows`` overlapping regional windows.

    Parameters
    ----------
    instance
        The instance (coordinates are read from it).
    n_windows
        Wanted number of windows (median cuts give a power of two at or above it; fewer
        when there are fewer firms or no coordinates).
    border_km
        Width of the border band; at least the instance's ``max_pair_km`` so that any group
        straddling a cut fits in some window (default :func:`reach_km`).
    band_share
        Cap on a band's size relative to its core (the nearest firms are kept): on a
        dense, small area a full ``max_pair_km`` band would hold most other firms.

    Returns
    -------
    list of WindowPlan
        Windows whose cores partition the placeable firms.

    Raises
    ------
    ValueError
        If ``n_windows`` < 1 or ``border_km`` < 0.
    """
    border_km = reach_km(instance) if border_km is None else border_km
    if n_windows < 1 or border_km < 0:
        raise ValueError("n_windows must be >= 1 and border_km >= 0")
    placeable = np.nonzero(instance.is_placeable)[0].astype(np.int64)
    if n_windows == 1 or instance.lats is None or len(placeable) < 2 * n_windows:
        return [WindowPlan(0, tuple(int(i) for i in placeable), ())]
    cores = split_regions(instance, placeable, limit=math.ceil(len(placeable) / n_windows))
    plans = []
    for k, core in enumerate(cores):
        others = np.setdiff1d(placeable, core, assume_unique=True)
        cap = math.ceil(band_share * len(core))
        band = np.sort(_band(instance, core, others, border_km, cap))
        plans.append(WindowPlan(k, tuple(int(i) for i in core), tuple(int(i) for i in band)))
    return plans


def solve_window(
    instance: Instance,
    plan: WindowPlan,
    *,
    seed: int,
    max_iterations: int | None,
    time_limit_s: float | None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
    use_cpsat: bool = True,
) -> WindowResult:
    """Group one window's core firms with the whole optimiser (search and CP-SAT polish).

    The core is solved as an instance of its own (:meth:`Instance.subset`), so the pair
    graph and the placement bound are computed for the core only, on the worker.  The band
    is left to :func:`merge`, which re-solves the border zone across windows.

    Parameters
    ----------
    instance
        The whole instance (the same on every worker).
    plan
        The window, from :func:`plan_windows`.
    seed, max_iterations, time_limit_s
        Search seed and this window's budget.
    should_stop
        Polled between search chunks (cancellation).
    progress
        Called with the fraction of this window's budget used.
    use_cpsat
        Polish the window's groups with the CP-SAT neighbourhood search, as in
        :func:`matching.engines.solve.solve`.

    Returns
    -------
    WindowResult
        The window's groups (global indices); firms left out are simply absent.
    """
    core = np.array(plan.core, np.int64)
    params = SolveParams(
        time_limit_s=time_limit_s,
        max_iterations=max_iterations,
        seed=seed,
        use_cpsat=use_cpsat,
        compute_bound=False,  # a window's bounds do not bound the merged run: none computed
        should_stop=should_stop,
        progress=None if progress is None else (lambda report: progress(report.fraction)),
    )
    groups, iterations = _solve_part(instance, core, params)
    placed = {i for g in groups for i in g}
    never = star_unplaceable(instance, [i for i in plan.core if i not in placed])
    return WindowResult(plan.number, tuple(tuple(g) for g in groups), iterations, never)


def window_instance(instance: Instance, firms: NDArray[np.int64]) -> Instance:
    """``instance`` restricted to ``firms``, with a neighbour cap fit for the window's size.

    Parameters
    ----------
    instance
        The whole instance.
    firms
        The window's firms.

    Returns
    -------
    Instance
        :meth:`Instance.subset`, whose ``max_neighbours`` is never tighter than that of a
        cohort of the window's own size (:func:`matching.core.objective.neighbour_cap`).
    """
    part = instance.subset(firms)
    if part.max_neighbours is not None:
        # never tighter than the cap of a cohort of the window's own size: the whole
        # cohort's cap (300 above 20,000 firms) is sized for the memory of the whole pair
        # graph, which the windows never build; at 12,500 firms per window it left two
        # thirds of the firms without a compatible group
        cap = neighbour_cap(len(firms), part.max_size or 15) or 0
        part = replace(part, max_neighbours=max(part.max_neighbours, cap))
    return part


def _solve_part(
    instance: Instance, firms: NDArray[np.int64], params: SolveParams
) -> tuple[list[list[int]], int]:
    """Solve ``instance`` restricted to ``firms``; groups in global indices, iterations."""
    if not len(firms):
        return [], 0
    result = solve(window_instance(instance, firms), params)
    if result.solution is None:
        return [], result.iterations
    groups = [sorted(int(firms[i]) for i in g) for g in result.solution.groups]
    return groups, result.iterations


def _repair_zone(
    instance: Instance,
    zone: NDArray[np.bool_],
    touched: list[list[int]],
    others: list[list[int]],
    repair_km: float,
) -> tuple[NDArray[np.int64], list[list[int]]]:
    """The firms the border repair re-solves, and the groups it dissolves.

    The repair exists for firms the windows could not place because their partners lie
    across a cut: the unplaced firms of the border zone.  Each such firm dissolves the
    (at most ``GROUPS_PER_WAITING_FIRM``) border groups with members nearest to it within
    ``repair_km``; those groups are re-solved together with the waiting firms.  The repair
    stays proportional to the firms left out at the borders: on a small region nearly
    every group touches a band, and re-solving them all took longer than the windows.
    """
    placed = np.zeros(instance.n_firms, bool)
    for g in touched + others:
        placed[g] = True
    waiting = np.nonzero(instance.is_placeable & ~placed & zone)[0]
    if not len(waiting) or not touched or instance.lats is None:
        return waiting.astype(np.int64), []
    owner = np.concatenate([np.full(len(g), k, np.int64) for k, g in enumerate(touched)])
    members = np.concatenate([np.asarray(g, np.int64) for g in touched])
    assert instance.lons is not None
    near = nearest_within(
        instance.lats[members],
        instance.lons[members],
        instance.lats[waiting],
        instance.lons[waiting],
        repair_km,
        8 * GROUPS_PER_WAITING_FIRM,
    )
    chosen: set[int] = set()
    for row in near:  # each waiting firm: the groups of its nearest members, nearest first
        groups = dict.fromkeys(int(owner[i]) for i in row if i >= 0)
        chosen.update(list(groups)[:GROUPS_PER_WAITING_FIRM])
    dissolved = [touched[k] for k in sorted(chosen)]
    free = np.concatenate([waiting, *[np.asarray(g, np.int64) for g in dissolved]])
    return np.sort(free).astype(np.int64), dissolved


def _keep(
    instance: Instance, plans: Sequence[WindowPlan], results: Sequence[WindowResult]
) -> list[list[int]]:
    """Core groups first (cores are disjoint), then band groups by mean affinity."""
    cores = {p.number: set(p.core) for p in plans}
    inner: list[list[int]] = []
    border: list[list[int]] = []
    for result in results:
        for g in result.groups:
            (inner if set(g) <= cores[result.number] else border).append(list(g))
    means = group_pair_sums(instance, border) / np.maximum([len(g) for g in border], 1)
    order = sorted(range(len(border)), key=lambda k: (-means[k], border[k]))
    border = [border[k] for k in order]
    taken = np.zeros(instance.n_firms, bool)
    kept: list[list[int]] = []
    for members in inner + border:
        if not taken[members].any():
            taken[members] = True
            kept.append(members)
    return kept


def _better(instance: Instance, new: list[list[int]], old: list[list[int]]) -> bool:
    """Whether groups ``new`` beat ``old`` lexicographically: firms placed, then affinity."""

    def value(groups: list[list[int]]) -> tuple[int, float]:
        return sum(len(g) for g in groups), float(group_values(instance, groups).sum())

    return value(new) > value(old)


REPAIR_BASE = -2
"""Number of the first repair part (``REPAIR_BASE - k`` for part ``k``; windows count up)."""


@dataclass(frozen=True)
class RepairPlan:
    """The merge's border repair: groups kept as they are, groups dissolved, parts to solve.

    Each part is a :class:`WindowPlan` (numbered ``REPAIR_BASE - k``, empty band) whose
    core is one compact region of the firms to re-solve; parts are independent, so a pool
    or a Celery worker can solve them in parallel (:func:`solve_repair_part`).
    """

    kept: tuple[tuple[int, ...], ...]
    dissolved: tuple[tuple[int, ...], ...]
    parts: tuple[WindowPlan, ...]
    iterations: int
    """Iterations the windows used."""
    unplaceable: int | None = None
    """Sum of the windows' :attr:`WindowResult.unplaceable` (``None`` if one is missing)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return {
            "kept": [list(g) for g in self.kept],
            "dissolved": [list(g) for g in self.dissolved],
            "parts": [p.to_dict() for p in self.parts],
            "iterations": self.iterations,
            "unplaceable": self.unplaceable,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepairPlan:
        """Inverse of :meth:`to_dict`."""
        never = data.get("unplaceable")
        return cls(
            tuple(tuple(int(i) for i in g) for g in data["kept"]),
            tuple(tuple(int(i) for i in g) for g in data["dissolved"]),
            tuple(WindowPlan.from_dict(p) for p in data["parts"]),
            int(data["iterations"]),
            None if never is None else int(never),
        )


def plan_repair(
    instance: Instance,
    plans: Sequence[WindowPlan],
    results: Sequence[WindowResult],
    *,
    repair_km: float | None = None,
) -> RepairPlan:
    """Join the windows' groups and choose what the border repair re-solves.

    Core groups are kept first, then band groups by mean affinity (no firm twice).
    Unplaced firms of the border zone dissolve their nearest border groups
    (:func:`_repair_zone`); those firms are cut into compact regional parts of at most
    ``REPAIR_PART_FIRMS`` (:func:`matching.engines.heuristics.regions.split_regions`), each solved
    as an instance of its own.

    Parameters
    ----------
    instance
        The whole instance.
    plans
        The windows from :func:`plan_windows`.
    results
        One :class:`WindowResult` per window (any order).
    repair_km
        Border groups with a member this close to an unplaced firm of the border zone are
        dissolved and re-solved with those firms (default: a quarter of ``max_pair_km``).

    Returns
    -------
    RepairPlan
        What to keep, what was dissolved, and the parts to solve.
    """
    kept = _keep(instance, plans, results)
    zone = np.zeros(instance.n_firms, bool)
    for p in plans:
        zone[list(p.band)] = True
    touched = [g for g in kept if zone[g].any()]
    others = [g for g in kept if not zone[g].any()]
    km = repair_km if repair_km is not None else reach_km(instance) / 4
    free, dissolved = _repair_zone(instance, zone, touched, others, km)
    gone = {tuple(g) for g in dissolved}
    stay = others + [g for g in touched if tuple(g) not in gone]
    regions = [r for r in split_regions(instance, free, REPAIR_PART_FIRMS) if len(r)]
    parts = [
        WindowPlan(REPAIR_BASE - k, tuple(int(i) for i in r), ()) for k, r in enumerate(regions)
    ]
    counts = [r.unplaceable for r in results]
    return RepairPlan(
        tuple(tuple(g) for g in stay),
        tuple(tuple(g) for g in dissolved),
        tuple(parts),
        sum(r.iterations for r in results),
        None if any(k is None for k in counts) else sum(k for k in counts if k is not None),
    )


def solve_repair_part(
    instance: Instance,
    part: WindowPlan,
    params: SolveParams,
) -> WindowResult:
    """Re-solve one part of the border repair (local search only, no bound).

    Parameters
    ----------
    instance
        The whole instance.
    part
        One of :attr:`RepairPlan.parts`.
    params
        Budget of the whole run: the part gets the share of its firms among the placeable
        firms of ``max_iterations`` and of ``time_limit_s`` (at least half a second);
        ``should_stop`` is polled between search chunks (cancellation).

    Returns
    -------
    WindowResult
        The part's groups (global indices) and the iterations used.
    """
    share = len(part.core) / max(int(instance.is_placeable.sum()), 1)
    iterations = None
    if params.max_iterations is not None:
        iterations = max(1, round(params.max_iterations * share))
    seconds = None if params.time_limit_s is None else max(params.time_limit_s * share, 0.5)
    repair = replace(
        params,
        max_iterations=iterations,
        time_limit_s=seconds,
        progress=None,
        use_cpsat=False,  # the merge's stage: search only, no bound
        compute_bound=False,
    )
    groups, used = _solve_part(instance, np.array(part.core, np.int64), repair)
    return WindowResult(part.number, tuple(tuple(g) for g in groups), used)


def finish_merge(
    instance: Instance,
    repair: RepairPlan,
    parts: Sequence[WindowResult],
    params: SolveParams,
    *,
    bound: int | None = None,
    started: float | None = None,
) -> Result:
    """Assemble the merged solution from a repair plan and its solved parts, and verify it.

    The re-solved groups replace the dissolved ones only when they place more firms or,
    equally many, with more affinity.

    Parameters
    ----------
    instance
        The whole instance.
    repair
        From :func:`plan_repair`.
    parts
        One :func:`solve_repair_part` result per part (any order).
    params
        The run's parameters (seed reported).
    bound
        The placement upper bound of the whole instance when already known; otherwise the
        star test's (:mod:`matching.rules.unassigned`): placeable firms less those the test
        proves unplaceable, as counted by the windows over the firms their cores left out
        (in parallel; the same count as over the merged run's left-out firms, since such
        a firm is left out by every solution), or counted here when a window did not.
        Local either way: the windows never build the whole instance's pair graph.
    started
        ``time.monotonic()`` when the merge began (for the reported seconds).

    Returns
    -------
    Result
        ``FEASIBLE`` with the merged solution; ``iterations`` includes the windows'.

    Raises
    ------
    UnverifiedSolutionError
        If the merged solution breaks a hard constraint (a bug, never an outcome).
    ValueError
        If ``parts`` do not match the plan's parts.
    """
    began = time.monotonic() if started is None else started
    if sorted(r.number for r in parts) != sorted(p.number for p in repair.parts):
        raise ValueError("one result per repair part is needed")
    fresh = [list(g) for r in parts for g in r.groups]
    dissolved = [list(g) for g in repair.dissolved]
    chosen = fresh if _better(instance, fresh, dissolved) else dissolved
    groups = [list(g) for g in repair.kept] + chosen
    iterations = repair.iterations + sum(r.iterations for r in parts)
    everything = [list(g) for g in instance.locked_groups] + groups
    themes = [c.best_theme(instance, g) for g in everything]
    solution = Solution.from_groups(instance.n_firms, everything, themes)
    violations = verify(instance, solution)
    if violations:
        raise UnverifiedSolutionError(violations)
    value = evaluate(instance, solution)
    if bound is None and repair.unplaceable is not None:  # counted by the windows
        locked = sum(len(g) for g in instance.locked_groups)
        bound = locked + int(instance.is_placeable.sum()) - repair.unplaceable
    if bound is None:
        placed = np.zeros(instance.n_firms, bool)
        for g in everything:
            placed[g] = True
        bound = star_upper_bound(instance, np.flatnonzero(~placed).tolist())
    return Result(
        solution,
        SolveStatus.FEASIBLE,
        value.placed,
        value.affinity,
        bound,
        None,
        time.monotonic() - began,
        iterations,
        params.seed,
    )


def merge(
    instance: Instance,
    plans: Sequence[WindowPlan],
    results: Sequence[WindowResult],
    params: SolveParams,
    *,
    repair_km: float | None = None,
    bound: int | None = None,
) -> Result:
    """Merge window results into one verified solution of the whole instance (serially).

    :func:`plan_repair`, then every repair part in this process
    (:func:`solve_repair_part`), then :func:`finish_merge`; a pool or the Celery executor
    runs the three steps with the parts in parallel.

    Parameters
    ----------
    instance
        The whole instance.
    plans
        The windows from :func:`plan_windows`.
    results
        One :class:`WindowResult` per window (any order).
    params
        Budget of the whole run (``max_iterations`` as in a single solve); each repair
        part gets the share of its firms among the placeable firms.
    repair_km
        See :func:`plan_repair`.
    bound
        See :func:`finish_merge`.

    Returns
    -------
    Result
        ``FEASIBLE`` with the merged solution; ``iterations`` includes the windows'.

    Raises
    ------
    UnverifiedSolutionError
        If the merged solution breaks a hard constraint (a bug, never an outcome).
    """
    started = time.monotonic()
    repair = plan_repair(instance, plans, results, repair_km=repair_km)
    parts = [solve_repair_part(instance, p, params) for p in repair.parts]
    return finish_merge(instance, repair, parts, params, bound=bound, started=started)


WINDOWED_ABOVE = 20_000
"""Firms above which :func:`matching.sme.pipeline.solve_firms` solves in regional windows."""
REPAIR_TIME_SHARE = 0.15
"""Share of a windowed run's time limit kept for the border repair (parts get their share)."""


@dataclass(frozen=True)
class TimeSplit:
    """How a run's wall-clock limit is spent on parallel workers (:func:`window_time_limits`)."""

    window_s: float
    """Time limit of each window."""
    waves: int
    """Rounds of windows the workers solve one after another: ``ceil(windows / workers)``."""
    repair_s: float
    """What is left after the waves for the border repair and the merge."""
    task_s: float = 0.0
    """Fixed cost of one task beyond its search, paid once a wave."""

    @property
    def expected_s(self) -> float:
        """Expected wall time of the whole run: the waves, then the repair and merge."""
        return self.waves * (self.window_s + self.task_s) + self.repair_s


def window_time_limits(
    limit_s: float,
    n_windows: int,
    workers: int,
    *,
    repair_share: float = REPAIR_TIME_SHARE,
    task_s: float = 0.0,
    least_s: float = 0.5,
) -> TimeSplit:
    """Split a run's wall-clock limit over its windows, solved ``workers`` at a time.

    ``repair_share`` of the limit is kept for the border repair and the merge (as
    :func:`solve_in_windows` keeps in one process), and ``task_s`` for each task's fixed
    cost (once a wave, once for the repair parts, once for the merge); the rest is shared
    by the waves of windows, so :attr:`TimeSplit.expected_s` equals ``limit_s`` unless a
    window's floor ``least_s`` is reached.  More workers, fewer waves: longer windows.

    Parameters
    ----------
    limit_s
        The run's time limit (seconds, > 0).
    n_windows
        Windows of the run (>= 1).
    workers
        Windows solved at once (>= 1): Celery workers, or 1 in one process.
    repair_share
        Share of the limit kept for the repair and the merge, in [0, 1).
    task_s
        Fixed cost of one task beyond its search (loading the run's inputs), >= 0.
    least_s
        Shortest time limit a window gets.

    Returns
    -------
    TimeSplit
        Each window's limit, the number of waves and the repair and merge's share.

    Raises
    ------
    ValueError
        If an argument is out of range.
    """
    if limit_s <= 0 or n_windows < 1 or workers < 1 or not 0 <= repair_share < 1 or task_s < 0:
        raise ValueError(
            "limit_s > 0, n_windows >= 1, workers >= 1, 0 <= repair_share < 1, task_s >= 0"
        )
    waves = math.ceil(n_windows / workers)
    repair_s = limit_s * repair_share + 2 * task_s
    window_s = max((limit_s - repair_s) / waves - task_s, least_s)
    return TimeSplit(window_s, waves, repair_s, task_s)


PARALLEL_WINDOWED_FROM = 3_000
"""With parallel workers (the Celery executor) runs of at least this many firms are cut into
windows, one task each; smaller runs are one ``whole`` task (a single process)."""


def windowed(instance: Instance, *, parallel: bool = False, n_windows: int | None = None) -> bool:
    """Whether an instance can (and at its size should) be solved in regional windows.

    The one whole-vs-windowed decision: :func:`matching.sme.pipeline.solve_firms` (one
    process) and the app's Celery executor (parallel workers) both ask it.

    Parameters
    ----------
    instance
        The instance.
    parallel
        The windows run on parallel workers: worth it from ``PARALLEL_WINDOWED_FROM``
        firms; in one process only above ``WINDOWED_ABOVE`` (to bound memory).
    n_windows
        Windows the caller asks for (``1``: never windowed; ``None``: automatic).

    Returns
    -------
    bool
        Enough firms, with coordinates, and no rule that needs the whole instance at once
        (every firm placed, a fixed number of groups, pinned firms).
    """
    if n_windows == 1:
        return False
    big = (
        instance.n_firms >= PARALLEL_WINDOWED_FROM
        if parallel
        else instance.n_firms > WINDOWED_ABOVE
    )
    return (
        big
        and instance.lats is not None
        and not instance.require_all
        and instance.n_groups is None
        and not instance.pinned_groups
    )


def solve_in_windows(
    instance: Instance, params: SolveParams, *, n_windows: int | None = None
) -> Result:
    """Solve a large instance window by window in this process, then merge and verify.

    The single-machine counterpart of the Celery executor (same windows, same repair): the
    whole instance's pair graph is never built, so memory and time grow with the windows'
    size, not with the square of the reach.  Each window gets the share of its core among
    the placeable firms of ``max_iterations``, and of ``time_limit_s`` less
    ``REPAIR_TIME_SHARE``.

    Parameters
    ----------
    instance
        The whole instance (see :func:`windowed`).
    params
        Budget, seed and callbacks of the whole run (progress: share of windows solved).
    n_windows
        Windows wanted; default :func:`auto_windows`.

    Returns
    -------
    Result
        As :func:`merge` (``bound_placed`` from the star test); a run
        cancelled through ``should_stop`` merges what its windows found so far.
    """
    started = time.monotonic()
    n_placeable = max(int(instance.is_placeable.sum()), 1)
    plans = plan_windows(instance, n_windows or auto_windows(n_placeable))
    results: list[WindowResult] = []
    done = 0
    for plan in plans:
        share = len(plan.core) / n_placeable
        iterations = None
        if params.max_iterations is not None:
            iterations = max(1, round(params.max_iterations * share))
        seconds = None
        if params.time_limit_s is not None:
            left = params.time_limit_s * (1 - REPAIR_TIME_SHARE) - (time.monotonic() - started)
            seconds = max(left * len(plan.core) / max(n_placeable - done, 1), 0.5)

        def report(fraction: float, base: int = done, size: int = len(plan.core)) -> None:
            if params.progress is not None:  # placed: what the finished windows grouped
                placed = sum(len(g) for r in results for g in r.groups)
                params.progress(Progress((base + fraction * size) / n_placeable, placed))

        stopped = params.should_stop is not None and params.should_stop()
        results.append(
            WindowResult(plan.number, (), 0)
            if stopped
            else solve_window(
                instance,
                plan,
                seed=params.seed,
                max_iterations=iterations,
                time_limit_s=seconds,
                should_stop=params.should_stop,
                progress=report,
            )
        )
        done += len(plan.core)
    result = merge(instance, plans, results, params)
    return replace(result, runtime_s=time.monotonic() - started)
