"""Solver parameters: a frozen, self-validating dataclass."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matching.core.errors import InvalidParamsError
from matching.core.progress import Progress

ProgressCallback = Callable[[Progress], None]
StopCallback = Callable[[], bool]


@dataclass(frozen=True)
class SolveParams:
    """How long and how :func:`matching.engines.solve` searches.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit in seconds, or ``None`` to stop on ``max_iterations`` only.
    max_iterations
        Iteration budget of the local search (tabu iterations, summed over all windows).
        With ``time_limit_s=None`` the result depends only on the instance and the seed,
        never on machine speed (budget mode, used by tests).
    seed
        Seed of every random choice; the same seed and budget give the same result.
    workers
        Worker threads for CP-SAT sub-problems (1 keeps everything deterministic), and
        processes (populations) of the CCP memetic search (deterministic in budget mode).
    use_cpsat
        Run the CP-SAT large-neighbourhood phase after the local search (it gets a quarter
        of the time limit, or ``max_iterations // 200`` rounds in budget mode).
    compute_bound
        Compute the bounds: the cheap placement bound (``Result.bound_placed``) and the
        Lagrangian bound on affinity (``Result.bound``, :mod:`matching.core.bound`, which
        keeps 10 % of the time limit); a caller that solves a part of a larger instance
        (a window, the border repair) has no use for them.
    progress
        Called now and then with a :class:`~matching.core.progress.Progress` (fraction of the
        budget used, firms placed, bound on placed firms, mean affinity, phase).  Must be
        cheap and must not raise.
    should_stop
        Polled between search chunks; returning ``True`` ends the search early with the
        best verified solution so far (cancellation).
    """

    time_limit_s: float | None = 10.0
    max_iterations: int | None = None
    seed: int = 0
    workers: int = 1
    use_cpsat: bool = True
    compute_bound: bool = True
    progress: ProgressCallback | None = None
    should_stop: StopCallback | None = None

    def __post_init__(self) -> None:
        if self.time_limit_s is None and self.max_iterations is None:
            raise InvalidParamsError("time_limit_s", "set a time limit or max_iterations")
        if self.time_limit_s is not None and not (
            math.isfinite(self.time_limit_s) and self.time_limit_s > 0
        ):
            raise InvalidParamsError("time_limit_s", "must be a positive finite number")
        if self.max_iterations is not None and self.max_iterations < 0:
            raise InvalidParamsError("max_iterations", "must be >= 0")
        if not 0 <= self.seed < 2**31:
            raise InvalidParamsError("seed", "must be in [0, 2**31)")
        if self.workers < 1:
            raise InvalidParamsError("workers", "must be >= 1")

    @property
    def deterministic(self) -> bool:
        """Whether the result depends only on instance, seed and iteration budget."""
        return self.time_limit_s is None

    @classmethod
    def from_toml(cls, path: str | Path) -> SolveParams:
        """Read parameters from the ``[solve]`` table of a TOML file.

        Parameters
        ----------
        path
            TOML file with a ``[solve]`` table holding any of the scalar fields.

        Returns
        -------
        SolveParams
            The validated parameters.

        Raises
        ------
        InvalidParamsError
            If a key is unknown or a value is out of range.
        """
        with Path(path).open("rb") as fh:
            table: dict[str, Any] = tomllib.load(fh).get("solve", {})
        allowed = {"time_limit_s", "max_iterations", "seed", "workers", "use_cpsat"}
        unknown = set(table) - allowed
        if unknown:
            raise InvalidParamsError(sorted(unknown)[0], "unknown parameter")
        return cls(**table)
