"""Assignment variables of a window model, and extraction of groups from a solved model."""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from matching.engines.heuristics.window import Window

AFFINITY_SCALE = 1000
"""CP-SAT needs integers: affinities are scaled by this factor and rounded."""


@dataclass
class Variables:
    """Variables of one window model.

    ``x[i, g]``: local firm ``i`` is in slot ``g``; ``open[g]``: slot ``g`` holds a group;
    ``pair[i, j, g]``: both ``i < j`` are in ``g`` (only for pairs with nonzero affinity);
    ``theme[g, t]``: slot ``g`` has theme ``t`` (only when themes are required).
    """

    window: Window
    n_slots: int
    x: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    open: list[cp_model.IntVar] = field(default_factory=list)
    pair: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    theme: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)

    @classmethod
    def create(cls, model: cp_model.CpModel, window: Window, n_slots: int) -> Variables:
        """Create ``x`` and ``open`` for every firm and slot.

        Parameters
        ----------
        model
            The model to add variables to.
        window
            The firms of the sub-problem.
        n_slots
            Number of group slots.

        Returns
        -------
        Variables
            The container (pair and theme variables are added by their modules).
        """
        out = cls(window, n_slots)
        out.open = [model.new_bool_var(f"open[{g}]") for g in range(n_slots)]
        for i in range(window.m):
            for g in range(n_slots):
                out.x[i, g] = model.new_bool_var(f"x[{i},{g}]")
        return out

    def groups(self, solver: cp_model.CpSolver) -> list[list[int]]:
        """Local member lists of the non-empty slots in the solver's solution."""
        out: list[list[int]] = [[] for _ in range(self.n_slots)]
        for (i, g), var in self.x.items():
            if solver.boolean_value(var):
                out[g].append(i)
        return [sorted(g) for g in out if g]

    def hint(self, model: cp_model.CpModel, groups: list[list[int]]) -> None:
        """Hint a known assignment (local indices, one list per slot) to the solver."""
        slot_of = {i: g for g, members in enumerate(groups) for i in members}
        for (i, g), var in self.x.items():
            model.add_hint(var, slot_of.get(i) == g)
        for g, var in enumerate(self.open):
            model.add_hint(var, g < len(groups) and bool(groups[g]))
