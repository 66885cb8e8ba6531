"""Stopping criteria as small callables, combined by :func:`matching.engines.solve`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from matching.core.params import SolveParams


@dataclass
class MaxRuntime:
    """True once ``seconds`` have passed since construction (``None``: never)."""

    seconds: float | None
    start: float = field(default_factory=time.monotonic)

    def __call__(self) -> bool:
        """Whether the time is up."""
        return self.seconds is not None and time.monotonic() - self.start >= self.seconds

    def deadline(self, share: float = 1.0) -> float | None:
        """``time.monotonic()`` value after ``share`` of the remaining time, or ``None``."""
        if self.seconds is None:
            return None
        now = time.monotonic()
        left = max(0.0, self.start + self.seconds - now)
        return now + share * left

    def remaining_s(self) -> float:
        """Seconds left (infinite without a limit)."""
        if self.seconds is None:
            return float("inf")
        return max(0.0, self.start + self.seconds - time.monotonic())

    @property
    def elapsed_s(self) -> float:
        """Seconds since construction."""
        return time.monotonic() - self.start


@dataclass
class MaxIterations:
    """True once ``used`` reaches ``limit`` (``None``: never)."""

    limit: int | None
    used: int = 0

    def __call__(self) -> bool:
        """Whether the iteration budget is spent."""
        return self.limit is not None and self.used >= self.limit

    def share(self, fraction: float) -> int | None:
        """Iterations granted to a part of the work of relative size ``fraction``."""
        if self.limit is None:
            return None
        return max(0, round((self.limit - self.used) * min(1.0, fraction)))


@dataclass
class Budget:
    """The combined stopping rule of one solve: time, iterations and cancellation."""

    params: SolveParams
    clock: MaxRuntime = field(init=False)
    iterations: MaxIterations = field(init=False)

    def __post_init__(self) -> None:
        self.clock = MaxRuntime(self.params.time_limit_s)
        self.iterations = MaxIterations(self.params.max_iterations)

    def __call__(self) -> bool:
        """Whether to stop now."""
        stop = self.params.should_stop
        return self.clock() or self.iterations() or (stop is not None and stop())

    def fraction_done(self) -> float:
        """Progress in ``[0, 1]`` by whichever limit is closer."""
        parts = []
        if self.params.time_limit_s is not None:
            parts.append(self.clock.elapsed_s / self.params.time_limit_s)
        if self.iterations.limit:
            parts.append(self.iterations.used / self.iterations.limit)
        return min(1.0, max(parts, default=0.0))
