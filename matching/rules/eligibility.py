"""Eligibility: firms outside a run's (or scheme's) eligibility rules are never placed.

Per-firm flags (:attr:`Instance.eligible`) that :mod:`matching.sme.build` derives from the
province, size and scheme rules; engines place only eligible firms.  Such a firm gets the
reason ``ineligible`` (the failed rule is named beside it by :mod:`matching.sme.report`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.core.problem import Instance
from matching.core.registry import MAX_COUNT, Field, Rule, register
from matching.core.violation import Violation


class Eligibility(Rule):
    """Only eligible firms are placed."""

    name = "eligibility"
    kinds = ("ineligible",)
    reason = "ineligible"
    explains = "firms"
    explain_order = 0
    fields = (
        Field("eligible_provinces", "list[str]", None, nullable=True,
              nl="Alleen bedrijven in deze provincies doen mee (subsidie); leeg: alle "
                 "provincies.",
              en="Only firms in these provinces take part (subsidy); empty: every province."),
        Field("eligible_max_employees", "int", None, nullable=True, ge=0, le=MAX_COUNT,
              nl="Alleen bedrijven met hooguit zoveel medewerkers doen mee (subsidie).",
              en="Only firms with at most this many employees take part (subsidy)."),
    )  # fmt: skip

    def check(
        self, instance: Instance, group: int | None, members: tuple[int, ...], theme: int | None
    ) -> list[Violation]:
        """One ``ineligible`` violation naming the ineligible members, if any."""
        if instance.eligible is None:
            return []
        bad = tuple(i for i in members if not instance.eligible[i])
        return [Violation("ineligible", group, bad, "ineligible firms placed")] if bad else []

    def excluded(self, instance: Instance) -> NDArray[np.bool_] | None:
        """The ineligible firms."""
        return None if instance.eligible is None else ~np.asarray(instance.eligible, bool)


register(Eligibility())
