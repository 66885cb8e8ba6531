"""The outcome of :func:`matching.engines.solve`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from matching.core.solution import Solution


class SolveStatus(enum.StrEnum):
    """How a solve ended.

    ``OPTIMAL``: the solution is proven best; only the exact CP-SAT model of one window
    (:class:`matching.engines.cpsat.model.ClusteringModel`) proves that, for its window, so
    :func:`matching.engines.solve.solve` never returns it (a whole instance is only ever
    ``FEASIBLE`` at best).  ``FEASIBLE``: a verified solution, optimality not proven.
    ``INFEASIBLE``: proven that no solution satisfies the hard constraints (e.g.
    ``require_all`` with total weight outside ``[p * min_weight, p * max_weight]``).
    ``UNKNOWN``: no verified feasible solution found within the budget.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Result:
    """Best solution found, with its verified objective and search statistics.

    Parameters
    ----------
    solution
        The best verified solution; ``None`` when ``status`` is ``INFEASIBLE`` or ``UNKNOWN``.
    status
        See :class:`SolveStatus`.
    placed
        Objective part 1: number of firms placed in groups.
    affinity
        Objective part 2: sum over groups of pairwise affinity (see :mod:`matching.core.objective`).
    bound_placed
        A valid upper bound on ``placed`` where cheap (firms that can never be placed removed),
        else ``None``.
    bound
        A proven upper bound on the affinity of every feasible solution (the Lagrangian bound
        of :mod:`matching.core.bound`), or ``None`` (no largest group size, a windowed
        solve, or ``compute_bound`` off).  ``affinity <= bound``.
    runtime_s
        Wall-clock seconds spent in :func:`matching.engines.solve`.
    iterations
        Local-search iterations performed.
    seed
        The seed used.
    violations
        Verifier findings for ``solution``; always empty (a violation raises instead).
    """

    solution: Solution | None
    status: SolveStatus
    placed: int
    affinity: float
    bound_placed: int | None
    bound: float | None
    runtime_s: float
    iterations: int
    seed: int
    violations: tuple[object, ...] = ()

    @property
    def objective(self) -> tuple[int, float]:
        """The lexicographic objective ``(placed, affinity)``."""
        return (self.placed, self.affinity)
