"""One class per constraint or objective term of the window model.

Each module has ``build(model, vars)``; :class:`~matching.engines.cpsat.model.ClusteringModel`
assembles them.  The rules are the same as in :mod:`matching.core.constraints` and the search
kernels; the verifier checks every accepted result independently.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from matching.engines.cpsat.variables import AFFINITY_SCALE, Variables
from matching.engines.heuristics.window import UNBOUNDED, Window


class Module(Protocol):
    """A constraint or objective term: adds itself to a model."""

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add this module's variables and constraints."""


class AssignOnce:
    """Each firm in at most one group (exactly one when every firm must be placed)."""

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add the constraints."""
        for i in range(v.window.m):
            row = [v.x[i, g] for g in range(v.n_slots)]
            if v.window.require_all:
                model.add_exactly_one(row)
            else:
                model.add_at_most_one(row)
            for g in range(v.n_slots):
                model.add_implication(v.x[i, g], v.open[g])


class SizeBounds:
    """An open group has ``min_size..max_size`` members; a closed one none."""

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add the constraints."""
        w = v.window
        for g in range(v.n_slots):
            size = sum(v.x[i, g] for i in range(w.m))
            model.add(size >= w.min_size * v.open[g])
            model.add(size <= min(w.max_size, w.m) * v.open[g])


class WeightBounds:
    """An open group's member weight lies in ``[min_weight, max_weight]``."""

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add the constraints (nothing when the weights are unbounded)."""
        w = v.window
        if w.min_weight <= 0 and w.max_weight >= UNBOUNDED:
            return
        for g in range(v.n_slots):
            total = sum(int(w.weights[i]) * v.x[i, g] for i in range(w.m))
            model.add(total >= w.min_weight * v.open[g])
            if w.max_weight < UNBOUNDED:
                model.add(total <= w.max_weight * v.open[g])


class Compatibility:
    """Incompatible firms (too far apart, competitors) never share a group."""

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add one at-most-one per incompatible pair and slot."""
        w = v.window
        ii, jj = np.nonzero(np.triu(w.compat == 0, k=1))
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            for g in range(v.n_slots):
                model.add_bool_or([v.x[i, g].Not(), v.x[j, g].Not()])


class CountCaps:
    """At most ``limit`` members of a group share one label, for every count cap.

    Generic over the caps the rules compile into (SBI division, gemeente, ...): the window
    keeps only caps that can bind among its firms.
    """

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add one linear cap per binding label and slot."""
        w = v.window
        for k in range(w.cap_labels.shape[1]):
            col, limit = w.cap_labels[:, k], int(w.cap_limit[k])
            for label in np.unique(col[col >= 0]).tolist():
                firms = np.nonzero(col == label)[0].tolist()
                if len(firms) <= limit:
                    continue
                for g in range(v.n_slots):
                    model.add(sum(v.x[i, g] for i in firms) <= limit)


class Themes:
    """An open group picks one allowed theme that enough members have.

    With ``min_theme_share = 1`` every member must have the theme; otherwise
    ``count_with_theme >= share * size`` (exact, with the share as a fraction).
    """

    def __init__(self, min_theme_share: float) -> None:
        self.share = Fraction(min_theme_share).limit_denominator(1000)

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add theme choice variables and the coverage constraints."""
        w = v.window
        if not w.themed:
            return
        themes = [t for t in range(w.has_need.shape[1]) if w.theme_ok[t]]
        for g in range(v.n_slots):
            for t in themes:
                v.theme[g, t] = model.new_bool_var(f"theme[{g},{t}]")
            model.add(sum(v.theme[g, t] for t in themes) == v.open[g])
            for t in themes:
                num, den = self.share.numerator, self.share.denominator
                terms = [(den * int(w.has_need[i, t]) - num) * v.x[i, g] for i in range(w.m)]
                big = num * w.m
                model.add(sum(terms) >= -big * (1 - v.theme[g, t]))


def pair_coefficients(window: Window) -> NDArray[np.int64]:
    """The model's integer pair weights: the window's affinities (from
    :func:`matching.core.objective.pair_graph`) times ``AFFINITY_SCALE``, rounded."""
    return np.rint(window.aff * AFFINITY_SCALE).astype(np.int64)


class Objective:
    """Maximise ``big * placed + sum of pair affinities`` (scaled to integers).

    The pair sum of the objective's own affinities; with the ``member_mean`` group score
    the LNS keeps a result only when :mod:`matching.core.objective` scores it better.
    """

    def build(self, model: cp_model.CpModel, v: Variables) -> None:
        """Add pair variables and the objective."""
        w = v.window
        coef = pair_coefficients(w)
        big = int(np.abs(np.triu(coef, k=1)).sum()) + 1
        terms = []
        ii, jj = np.nonzero(np.triu(coef, k=1) * np.triu(w.compat, k=1))
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            c = int(coef[i, j])
            for g in range(v.n_slots):
                z = model.new_bool_var(f"pair[{i},{j},{g}]")
                v.pair[i, j, g] = z
                if c > 0:
                    model.add_implication(z, v.x[i, g])
                    model.add_implication(z, v.x[j, g])
                else:
                    model.add_bool_or([v.x[i, g].Not(), v.x[j, g].Not(), z])
                terms.append(c * z)
        placed = sum(v.x.values())
        model.maximize(big * placed + sum(terms))
