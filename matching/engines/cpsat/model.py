"""``ClusteringModel``: the exact CP-SAT model of a window, used as an LNS sub-solver."""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from matching.core import registry
from matching.core.result import SolveStatus
from matching.engines.cpsat import modules
from matching.engines.cpsat.variables import Variables
from matching.engines.heuristics.window import Window

STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
}


@dataclass(frozen=True)
class WindowSolution:
    """Outcome of a window model: status and local member lists of the groups."""

    status: SolveStatus
    groups: list[list[int]]


class ClusteringModel:
    """Assemble the modules for a window with ``n_slots`` group slots and solve it.

    After the generic modules (which encode every rule's primitives), each registered rule's
    optional :meth:`~matching.core.registry.Rule.encode_cpsat` adds its own constraints.

    Parameters
    ----------
    window
        The firms of the sub-problem (dense arrays).
    n_slots
        Number of group slots (groups may stay empty unless ``window.require_all`` forces
        the slots to be used by the size bounds).
    min_theme_share
        The instance's theme share (for the themes module).
    hint
        Known assignment (local member lists per slot) to start from.
    """

    def __init__(
        self,
        window: Window,
        n_slots: int,
        min_theme_share: float = 1.0,
        hint: list[list[int]] | None = None,
        all_open: bool = False,
    ) -> None:
        self.model = cp_model.CpModel()
        self.vars = Variables.create(self.model, window, n_slots)
        self.modules: list[modules.Module] = [
            modules.AssignOnce(),
            modules.SizeBounds(),
            modules.WeightBounds(),
            modules.Compatibility(),
            modules.CountCaps(),
            modules.Themes(min_theme_share),
            modules.Objective(),
        ]
        for module in self.modules:
            module.build(self.model, self.vars)
        if window.instance is not None:  # a rule's own encoding, beyond its primitives
            view = registry.CpsatWindow(
                self.model, self.vars.x, window.firms, n_slots, window.instance
            )
            for rule in registry.rules():
                rule.encode_cpsat(view)
        if all_open:
            for var in self.vars.open:
                self.model.add(var == 1)
        else:
            for g in range(n_slots - 1):  # symmetry: open slots first
                self.model.add_implication(self.vars.open[g + 1], self.vars.open[g])
        if hint is not None:
            self.vars.hint(self.model, hint)

    def solve(
        self,
        *,
        seed: int,
        workers: int = 1,
        time_limit_s: float | None = None,
        deterministic_limit: float | None = None,
    ) -> WindowSolution:
        """Solve the model.

        Parameters
        ----------
        seed
            CP-SAT random seed.
        workers
            Search workers (1: deterministic for a deterministic limit).
        time_limit_s
            Wall-clock limit.
        deterministic_limit
            CP-SAT deterministic time limit (machine independent).

        Returns
        -------
        WindowSolution
            Status and groups (empty list unless a solution was found).

        Raises
        ------
        RuntimeError
            If CP-SAT reports the model invalid (a bug in a module).
        """
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        if time_limit_s is not None:
            solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
        if deterministic_limit is not None:
            solver.parameters.max_deterministic_time = deterministic_limit
        code = solver.solve(self.model)
        if code == cp_model.MODEL_INVALID:
            raise RuntimeError(f"invalid CP-SAT model: {self.model.validate()}")
        status = STATUS[code]
        if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            return WindowSolution(status, self.vars.groups(solver))
        return WindowSolution(status, [])
