"""Compile (or load from numba's disk cache) the search kernels before a user's clock starts.

The kernels are ``@njit(cache=True)``: the first call in a fresh installation compiles them
(40-60 s on this 2-core machine, ~22 s when idle) and writes the machine code next to the
modules (``__pycache__``), or, when the package directory is not writable, to numba's
user-wide cache directory.  Later processes only load the cache (well under a second).
:func:`warm_kernels` runs two tiny budget-mode solves (a peer cohort and a CCP-like
all-placed instance) so that every kernel signature exists; :func:`matching.sme.pipeline.
solve_firms` calls it before starting the run's clock, and the service's executor calls it
once when it starts, so compile time never counts against a run's ``time_limit_s``.
"""

from __future__ import annotations

import threading
import time

import numpy as np

_lock = threading.Lock()
_warm = False


def _tiny_ccp() -> object:
    from matching.core.problem import Instance

    rng = np.random.default_rng(0)
    n = 12
    mat = rng.random((n, n))
    mat = (mat + mat.T) / 2
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
        from matching.core.params import SolveParams
        from matching.core.problem import Instance
        from matching.engines.solve import solve
        from matching.sme.build import build_instance
        from matching.sme.generate import generate_cohort
        from matching.sme.settings import Purpose, RunSettings

        started = time.perf_counter()
        params = SolveParams(time_limit_s=None, max_iterations=256, use_cpsat=False)
        cohort = generate_cohort(40, seed=0)
        cases: tuple[tuple[Purpose, int | None], ...] = (("peer", None), ("training", 12))
        for purpose, cap in cases:  # the cap exercises the top-k kernel
            settings = RunSettings(purpose=purpose, min_size=3, max_size=5, max_neighbours=cap)
            instance, _ = build_instance(cohort.firms, cohort.competitors, (), settings)
            solve(instance, params)
        ccp = _tiny_ccp()
        assert isinstance(ccp, Instance)
        solve(ccp, params)
        _warm = True
        return time.perf_counter() - started
