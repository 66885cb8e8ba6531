"""kring's optimisation core: forms groups (kringen) of firms under hard constraints.

Public API: :class:`Instance`, :class:`AffinityWeights`, :class:`SolveParams`,
:class:`Solution`, :class:`Result`, :class:`SolveStatus`, :func:`solve`, :func:`verify`,
:class:`Violation`, :func:`evaluate`.
"""

import matching.rules  # noqa: F401 - registers every rule before anything runs
from matching.core.objective import Objective, evaluate
from matching.core.params import SolveParams
from matching.core.problem import AffinityWeights, Instance
from matching.core.result import Result, SolveStatus
from matching.core.solution import Solution
from matching.core.verify import Violation, verify
from matching.engines.solve import solve

__all__ = [
    "AffinityWeights",
    "Instance",
    "Objective",
    "Result",
    "Solution",
    "SolveParams",
    "SolveStatus",
    "Violation",
    "evaluate",
    "solve",
    "verify",
]
