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

from matching.heuristics import construct, moves, tabu
from matching.heuristics.window import Window

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


def _settings(window: Window, n_slots: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    P = np.array(
        [
            window.min_size,
            window.max_size,
            window.min_weight,
            window.max_weight,
            window.max_div,
            int(window.themed),
            int(window.require_all),
            n_slots,
        ],
        np.int64,
    )
    m = window.m
    big = 1.0 + float(np.abs(window.nbr_aff).sum()) / 2.0
    avg_deg = len(window.nbr) / max(m, 1)
    F = np.array(
        [
            big,
            max(200.0, 4.0 * m),
            5.0,
            max(5.0, m / 12.0),
            max(2.0, m / 40.0),
            max(4.0, m / 8.0),
            1.0 if n_slots + 1 <= avg_deg else 0.0,
        ],
        np.float64,
    )
    return P, F


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
        dcnt=np.zeros((n_slots + 1, window.n_divisions), np.int64),
    )


def data_of(window: Window, P: NDArray[np.int64]) -> moves.Data:
    """The kernels' constant view of a window."""
    return moves.Data(
        w=window.weights,
        has=window.has_need,
        div=window.division,
        indptr=window.indptr,
        nbr=window.nbr,
        nbr_aff=window.nbr_aff,
        aff=window.aff,
        compat=window.compat,
        fixed=window.fixed,
        theme_ok=window.theme_ok,
        req=window.req,
        P=P,
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
    on_chunk: Callable[[int, float], None] | None = None,
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
        Called after each chunk with ``(iterations_done, best_score)``.

    Returns
    -------
    SearchOutcome
        The best assignment found.
    """
    P, F = _settings(window, n_slots)
    D = data_of(window, P)
    S = new_state(window, n_slots, initial)
    moves.rebuild(D, S)
    rng = np.random.default_rng(seed)
    degree = np.diff(window.indptr)
    order = np.lexsort((rng.random(window.m), degree)).astype(np.int64)
    if window.require_all:
        np.random.seed(seed)
        construct.assign_all(D, S)
    else:
        construct.fill_groups(D, S)
        construct.open_groups(D, S, order)
    best_a = S.a.copy()
    tabu_list = np.zeros((window.m, n_slots + 1), np.int64)
    score = tabu.placed_score(D, S, F[0])
    ctl = np.array([score, score, score, 0.0, 0.0, 0.0])
    done, chunk = 0, 0
    while max_iterations is None or done < max_iterations:
        if deadline is not None and time.monotonic() >= deadline:
            break
        if should_stop is not None and should_stop():
            break
        n = CHUNK if max_iterations is None else min(CHUNK, max_iterations - done)
        tabu.search(D, S, best_a, tabu_list, order, F, ctl, n, seed * 7919 + chunk)
        done += n
        chunk += 1
        if on_chunk is not None:
            on_chunk(done, float(ctl[1]))
    return SearchOutcome(best_a, n_slots, done, float(ctl[1]), float(F[0]))
