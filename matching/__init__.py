"""kring's optimisation core: forms groups (kringen) of firms under hard constraints.

Public API: :class:`Instance`, :class:`AffinityWeights`, :class:`SolveParams`,
:class:`Solution`, :class:`Result`, :class:`SolveStatus`, :func:`solve`, :func:`verify`,
:class:`Violation`, :func:`evaluate`.
"""

from matching.objective import Objective, evaluate
from matching.params import SolveParams
from matching.problem import AffinityWeights, Instance
from matching.result import Result, SolveStatus
from matching.solution import Solution
from matching.solve import solve
from matching.verify import Violation, verify

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
