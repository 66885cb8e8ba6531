"""Which firms a run may place: the run's eligibility settings and its subsidy scheme.

:func:`settings_rule` names the first rule a firm fails (``eligible_provinces``,
``eligible_max_employees`` or ``scheme.<rule>`` of :func:`matching.sme.schemes.check_firm`).
"""

from __future__ import annotations

from collections.abc import Sequence

from geodata.boundaries import normalise_province
from matching.sme.firms import Firm
from matching.sme.schemes import FailedRule, check_firm, scheme_by_id
from matching.sme.settings import RunSettings


def settings_rule(firm: Firm, settings: RunSettings) -> FailedRule | None:
    """The first eligibility rule of the run settings (and their scheme) a firm fails.

    Parameters
    ----------
    firm
        The firm.
    settings
        Run settings: ``eligible_provinces``, ``eligible_max_employees``, ``scheme_id``.

    Returns
    -------
    FailedRule or None
        ``eligible_provinces`` / ``eligible_max_employees`` / ``scheme.<rule>``.
    """
    if settings.eligible_provinces is not None:
        wanted = {normalise_province(p) for p in settings.eligible_provinces}
        if firm.province not in wanted:
            return FailedRule("eligible_provinces", f"{firm.province} not in {sorted(wanted)}",
                              (("place", firm.gemeente_name or firm.province),
                               ("provinces", tuple(sorted(wanted)))))  # fmt: skip
    limit = settings.eligible_max_employees
    if limit is not None and firm.employees > limit:
        return FailedRule("eligible_max_employees", f"{firm.employees} employees > {limit}",
                          (("employees", firm.employees), ("limit", limit)))  # fmt: skip
    if settings.scheme_id is not None:
        failed = check_firm(scheme_by_id(settings.scheme_id), firm)
        if failed is not None:
            return FailedRule(f"scheme.{failed.rule}", failed.detail, failed.params)
    return None


def failed_rules(firms: Sequence[Firm], settings: RunSettings) -> dict[str, str]:
    """External id -> failed eligibility rule, for every ineligible firm.

    Parameters
    ----------
    firms
        The cohort.
    settings
        Run settings.

    Returns
    -------
    dict
        Only ineligible firms; values like ``"scheme.regions: Leeuwarden is outside ..."``.
    """
    out: dict[str, str] = {}
    for firm in firms:
        failed = settings_rule(firm, settings)
        if failed is not None:
            out[firm.external_id] = str(failed)
    return out
