"""kring's optimisation core: forms groups (kringen) of firms under hard constraints.

Public API: :class:`Instance`, :class:`AffinityWeights`, :class:`SolveParams`,
:class:`Solution`, :class:`Result`, :class:`SolveStatus`, :func:`solve`, :func:`verify`,
:class:`Violation`, :func:`evaluate`.
"""

import matching.rules  # noqa: F401 - registers every rule before anything runs
from matching.core.errors import MatchingError, UnverifiedSolutionError
from matching.core.objective import Objective, evaluate
from matching.core.params import SolveParams
from matching.core.problem import GROUP_SCORES, AffinityWeights, Instance
from matching.core.progress import Progress
from matching.core.registry import Field
from matching.core.result import Result, SolveStatus
from matching.core.solution import Solution
from matching.core.verify import Violation, verify
from matching.engines import distributed
from matching.engines.distributed import (
    REPAIR_BASE,
    RepairPlan,
    WindowPlan,
    WindowResult,
    auto_windows,
    finish_merge,
    plan_repair,
    plan_windows,
    solve_repair_part,
    solve_window,
    windowed,
)
from matching.engines.solve import solve
from matching.engines.warmup import warm_kernels
from matching.rules.unassigned import REASONS, unassigned_reasons
from matching.sme.build import build_instance
from matching.sme.columns import FIRM_ALIASES, ignored_columns
from matching.sme.eligibility import failed_rules, settings_rule
from matching.sme.explanation import (
    need_label,
    parts_from_details,
    reason_explanation,
    reason_label,
    render_explanation,
    rule_text,
)
from matching.sme.fields import AFFINITY_FIELDS, check_value, setting_field, setting_fields
from matching.sme.firms import MAX_COUNT as MAX_FIRM_COUNT
from matching.sme.firms import (
    MAX_LENGTHS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    Firm,
    InputFileError,
    RowError,
    firms_to_csv,
    pairs_to_csv,
    read_firms_csv,
    read_firms_rows,
    read_pairs_csv,
    read_pairs_rows,
)
from matching.sme.generate import GenerateError, generate_cohort
from matching.sme.needs import NEEDS, is_need_code
from matching.sme.pipeline import solve_firms
from matching.sme.relax import relax_firm
from matching.sme.report import build_report, group_report
from matching.sme.schemes import Scheme, catalogue, scheme_by_id
from matching.sme.settings import RunSettings, SettingsError, effective_settings
from matching.sme.tabular import read_table
from matching.sme.template import template_csv, template_xlsx

__all__ = [
    "AFFINITY_FIELDS",
    "FIRM_ALIASES",
    "GROUP_SCORES",
    "MAX_FIRM_COUNT",
    "MAX_LENGTHS",
    "NEEDS",
    "OPTIONAL_COLUMNS",
    "REASONS",
    "REPAIR_BASE",
    "REQUIRED_COLUMNS",
    "AffinityWeights",
    "Field",
    "Firm",
    "GenerateError",
    "InputFileError",
    "Instance",
    "MatchingError",
    "Objective",
    "Progress",
    "RepairPlan",
    "Result",
    "RowError",
    "RunSettings",
    "Scheme",
    "SettingsError",
    "Solution",
    "SolveParams",
    "SolveStatus",
    "UnverifiedSolutionError",
    "Violation",
    "WindowPlan",
    "WindowResult",
    "auto_windows",
    "build_instance",
    "build_report",
    "catalogue",
    "check_value",
    "distributed",
    "effective_settings",
    "evaluate",
    "failed_rules",
    "finish_merge",
    "firms_to_csv",
    "generate_cohort",
    "group_report",
    "ignored_columns",
    "is_need_code",
    "need_label",
    "pairs_to_csv",
    "parts_from_details",
    "plan_repair",
    "plan_windows",
    "read_firms_csv",
    "read_firms_rows",
    "read_pairs_csv",
    "read_pairs_rows",
    "read_table",
    "reason_explanation",
    "reason_label",
    "relax_firm",
    "render_explanation",
    "rule_text",
    "scheme_by_id",
    "setting_field",
    "setting_fields",
    "settings_rule",
    "solve",
    "solve_firms",
    "solve_repair_part",
    "solve_window",
    "template_csv",
    "template_xlsx",
    "unassigned_reasons",
    "verify",
    "warm_kernels",
    "windowed",
]
