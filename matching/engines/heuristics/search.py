"""Drive the numba kernels on one window: construct, then iterated tabu search in chunks.

Chunks of a fixed number of iterations keep the run deterministic for a seed (each chunk
reseeds the kernel's generator with ``seed + chunk``) while letting Python check the time
limit, cancellation and report progress between chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.engines.heuristics import construct, moves, tabu
from matching.engines.heuristics.window import UNBOUNDED, Window

CHUNK = 128
"""Tabu iterations per kernel call."""


@dataclass
class SearchOutcome:
    """Best assignment of a window: ``slot[i]`` in ``0..G-1`` or ``G`` (unassigned)."""

    slot: NDArray[np.int64]
    n_slots: int
    iterations: int
    score: float
    big: float


@dataclass(frozen=True)
class Tuning:
    """Search settings, relative to the window size ``m`` where that makes sense.

    ``depth``: iterations without a new best before a restart (``m**2 / depth_scale``,
    within ``[depth_min, depth_max]``: a full scan costs ~m**2, so small windows restart
    often, which measured best on CCPLIB Sparse82 (n=82) while RanReal240 (n=240) is
    insensitive between ~1 and 4 m); tabu tenure ``tenure_min + U(0, m * tenure_per_firm)``;
    perturbation strength ``m * perturb_per_firm`` (at least 2) growing by one per failed
    restart up to ``m * perturb_max_per_firm``; penalty growth rate ``rate`` per iteration;
    after ``fresh_after`` restarts without a better solution a new run starts from a fresh
    construction (only when every firm must be placed, i.e. CCP).
    """

    depth_min: float = 30.0
    depth_scale: float = 160.0
    depth_max: float = 1000.0
    tenure_min: float = 5.0
    tenure_per_firm: float = 1 / 12
    perturb_per_firm: float = 0.05
    perturb_max_per_firm: float = 0.3
    rate: float = 0.02
    restart_from_best: bool = True
    fresh_after: float = 15.0


def _settings(
    window: Window, n_slots: int, tuning: Tuning, fixed_groups: bool = False
) -> tuple[moves.Config, tabu.Tune]:
    relax = window.min_weight > 0 or window.max_weight < UNBOUNDED
    cfg = moves.Config(
        min_size=window.min_size,
        max_size=window.max_size,
        min_weight=window.min_weight,
        max_weight=window.max_weight,
        themed=int(window.themed),
        require_all=int(window.require_all),
        n_slots=n_slots,
        relax=int(relax),
        fixed_groups=int(fixed_groups),
        mean=int(window.member_mean),
    )
    m = window.m
    # big exceeds any affinity total: member_mean weighs a pair by 2 / (size - 1) <= 2
    big = 1.0 + float(np.abs(window.nbr_aff).sum()) / (1.0 if window.member_mean else 2.0)
    avg_deg = len(window.nbr) / max(m, 1)
    mean_aff = float(np.abs(window.nbr_aff).mean()) if len(window.nbr) else 1.0
    lam0 = mean_aff * max(m / max(n_slots, 1), 1.0) / max(float(window.weights.mean()), 1.0)
    tune = tabu.Tune(
        big=big,
        depth=float(min(max(tuning.depth_min, m * m / tuning.depth_scale), tuning.depth_max)),
        tenure_min=float(tuning.tenure_min),
        tenure_rand=float(max(1.0, m * tuning.tenure_per_firm)),
        perturb=float(max(2.0, m * tuning.perturb_per_firm)),
        perturb_max=float(max(4.0, m * tuning.perturb_max_per_firm)),
        dense=1.0 if n_slots + 1 <= avg_deg else 0.0,
        lambda0=float(lam0),
        rate=float(tuning.rate),
        from_best=1.0 if tuning.restart_from_best else 0.0,
        fresh=float(tuning.fresh_after) if window.require_all else float(np.inf),
    )
    return cfg, tune


def new_state(window: Window, n_slots: int, a: NDArray[np.int64]) -> moves.State:
    """Allocate a state for ``window`` with ``n_slots`` group slots and assignment ``a``."""
    m, t = window.m, window.has_need.shape[1]
    return moves.State(
        a=a.astype(np.int64),
        size=np.zeros(n_slots + 1, np.int64),
        wsum=np.zeros(n_slots + 1, np.int64),
        gain=np.zeros((m, n_slots + 1), np.float64),
        good=np.zeros((m, n_slots + 1), np.int64),
        cnt=np.zeros((n_slots + 1, t), np.int64),
        ccnt=np.zeros((n_slots + 1, window.n_cap_labels), np.int64),
        pair=np.zeros(n_slots + 1, np.float64),
    )


def data_of(window: Window, cfg: moves.Config) -> moves.Data:
    """The kernels' constant view of a window."""
    return moves.Data(
        w=window.weights,
        has=window.has_need,
        lab=window.cap_labels,
        lim=window.cap_limit,
        indptr=window.indptr,
        nbr=window.nbr,
        nbr_aff=window.nbr_aff,
        aff=window.aff,
        compat=window.compat,
        fixed=window.fixed,
        theme_ok=window.theme_ok,
        req=window.req,
        cfg=cfg,
    )


def run_window(
    window: Window,
    *,
    n_slots: int,
    initial: NDArray[np.int64],
    seed: int,
    max_iterations: int | None,
    deadline: float | None,
    should_stop: Callable[[], bool] | None = None,
    on_chunk: Callable[[int, NDArray[np.int64] | None], None] | None = None,
    tuning: Tuning | None = None,
    fixed_groups: bool = False,
) -> SearchOutcome:
    """Construct a solution of the window and improve it by iterated tabu search.

    Parameters
    ----------
    window
        The firms to group.
    n_slots
        Number of group slots ``G``.
    initial
        Initial slot per firm (pinned firms in their slots, everyone else ``G``).
    seed
        Seed of the kernels' random generator.
    max_iterations
        Tabu iteration budget, or ``None`` for time-limited only.
    deadline
        ``time.monotonic()`` value at which to stop, or ``None``.
    should_stop
        Cancellation poll, checked between chunks.
    on_chunk
        Called after each chunk with ``(iterations_done, best_slot)``: the best assignment
        so far (``None`` while none is feasible; read it, do not keep or change it).
    tuning
        Search settings (defaults: :class:`Tuning`).
    fixed_groups
        The number of groups is fixed: never dissolve a group.

    Returns
    -------
    SearchOutcome
        The best assignment found.
    """
    cfg, F = _settings(window, n_slots, tuning or Tuning(), fixed_groups)
    D = data_of(window, cfg)
    S = new_state(window, n_slots, initial)
    moves.rebuild(D, S)
    rng = np.random.default_rng(seed)
    degree = np.diff(window.indptr)
    order = np.lexsort((rng.random(window.m), degree)).astype(np.int64)
    if window.require_all:
        construct.assign_all(D, S, seed)
    else:
        construct.fill_groups(D, S)
        construct.open_groups(D, S, order)
        tabu.merge_groups(D, S)
    keep = np.stack([S.a.copy(), S.a.copy()])
    tabu_list = np.zeros((window.m, n_slots + 1), np.int64)
    score = tabu.placed_score(D, S, F.big)
    viol = float(moves.total_excess(D, S))
    best = score if viol == 0 else -np.inf
    ctl = np.array([score, best, 0.0, 0.0, 0.0, viol, F.lambda0, best])
    done, chunk = 0, 0
    if on_chunk is not None:  # construction done: the service's progress moves at once
        on_chunk(0, keep[0] if np.isfinite(ctl[tabu.C_BEST]) else None)
    while max_iterations is None or done < max_iterations:
        if deadline is not None and time.monotonic() >= deadline:
            break
        if should_stop is not None and should_stop():
            break
        n = CHUNK if max_iterations is None else min(CHUNK, max_iterations - done)
        tabu.search(D, S, keep, tabu_list, order, F, ctl, n, seed * 7919 + chunk)
        done += n
        chunk += 1
        if on_chunk is not None:
            on_chunk(done, keep[0] if np.isfinite(ctl[tabu.C_BEST]) else None)
    return SearchOutcome(keep[0].copy(), n_slots, done, float(ctl[tabu.C_BEST]), float(F.big))
