"""Compile (or load from numba's disk cache) the search kernels before a user's clock starts.

The kernels are ``@njit(cache=True)``: the first call in a fresh installation compiles them
(40-60 s on this 2-core machine, ~22 s when idle) and writes the machine code next to the
modules (``__pycache__``), or, when the package directory is not writable, to numba's
user-wide cache directory.  Later processes only load the cache (well under a second).
:func:`warm_kernels` runs three tiny budget-mode solves on hand-built instances (a peer-like
instance with the top-k pair cap, the same with every pair in the radius and a pair sum, and
a CCP-like
all-placed instance) so that every kernel signature exists;
:func:`matching.sme.pipeline.solve_firms` calls it before starting the run's clock, and the
service's executor calls it once when it starts, so compile time never counts against a
run's ``time_limit_s``.  No cohort generator and nothing of :mod:`matching.sme` is needed.

``python -c 'import matching; matching.warm_kernels()'`` compiles them at install time:
``make`` runs it right after ``pip install`` and the Dockerfile at image build, so the first
run after an install only loads the cache.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

from matching.core.params import SolveParams
from matching.core.problem import Instance
from matching.engines.solve import solve

_lock = threading.Lock()
_warm = False

TINY_FIRMS = 24
"""Firms of the hand-built warm-up instances (two towns 20 km apart)."""


def tiny_instance() -> Instance:
    """A hand-built SME-like instance: two towns, needs, sizes, a radius and a top-k cap."""
    n = TINY_FIRMS
    town = np.arange(n) % 2
    step = np.arange(n) // 2
    lats = (53.0 + 0.18 * town + 0.002 * step).astype(np.float64)
    lons = (6.0 + 0.003 * step).astype(np.float64)
    needs = tuple((int(i % 4), int((i + 1 + town[i]) % 4)) for i in range(n))
    return Instance(
        n_firms=n,
        min_size=3,
        max_size=5,
        lats=lats,
        lons=lons,
        max_pair_km=50.0,
        forbidden=np.array([[0, 2]]),
        needs=needs,
        n_needs=4,
        employees=np.array([3 + 7 * (i % 9) for i in range(n)], np.int64),
        digital_levels=np.array([1 + i % 4 for i in range(n)], np.int64),
        theme_required=True,
        min_theme_share=0.5,
        max_neighbours=8,
        group_score="member_mean",
    )


def tiny_ccp() -> Instance:
    """A hand-built CCP-like instance: 12 nodes into 3 groups of weight 3 to 5."""
    n = 12
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    mat = ((i * 7 + j * 7) % 10) / 10.0
    np.fill_diagonal(mat, 0.0)
    return Instance(
        n_firms=n,
        weights=np.ones(n, np.int64),
        min_weight=3,
        max_weight=5,
        n_groups=3,
        require_all=True,
        affinity_matrix=mat,
    )


def warm_kernels() -> float:
    """Make every search kernel ready in this process; idempotent and thread-safe.

    Returns
    -------
    float
        Seconds spent (0.0 when the kernels were already ready in this process).
    """
    global _warm
    if _warm:
        return 0.0
    with _lock:
        if _warm:
            return 0.0
        started = time.perf_counter()
        params = SolveParams(time_limit_s=None, max_iterations=256, use_cpsat=False)
        peer = tiny_instance()
        solve(peer, params)
        solve(replace(peer, group_score="pair_sum", max_neighbours=None), params)
        solve(tiny_ccp(), params)
        _warm = True
        return time.perf_counter() - started
