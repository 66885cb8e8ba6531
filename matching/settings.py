"""``RunSettings``: the full, self-validating parameter snapshot of one matching run.

The service stores ``RunSettings.to_dict()`` with every run, so a run can be repeated
exactly; ``RunSettings.from_dict`` reads it back strictly (unknown keys are errors).

Purposes
--------
``training``
    Joint training purchase: every group has a theme, a need that at least
    ``min_theme_share`` of its members have.  By default themes are the needs that suit joint
    training (``Need.joint_training``).
``subsidy``
    Joint subsidy application: as ``training``, but themes default to the needs that suit a
    joint subsidy (``Need.joint_subsidy``), and only eligible firms are placed (firms in
    ``eligible_provinces`` with at most ``eligible_max_employees``).  With a ``scheme_id``
    the scheme's rules apply too (:mod:`matching.schemes`): only firms that pass
    :func:`matching.schemes.check_firm` are placed, themes are the scheme's funded needs
    and group sizes stay within its partner bounds.
``peer``
    Peer-learning circle: no theme; groups maximise similarity only, scored
    ``member_mean`` by default (each member's mean affinity to the others counts, so a
    group of 10 with one shared question beats a group of 15 with mixed ones).

``group_score`` (``pair_sum`` or ``member_mean``, see :mod:`matching.objective`) defaults
to ``member_mean`` for ``peer`` and ``pair_sum`` otherwise; the stored snapshot holds the
resolved value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, cast

from geodata.boundaries import normalise_province
from geodata.errors import GeodataError
from matching.errors import InvalidInstanceError
from matching.errors import SettingsError as SettingsError  # re-exported: its old home
from matching.needs import is_need_code, need_by_code
from matching.problem import GROUP_SCORES, AffinityWeights, GroupScore
from matching.schemes import effective_settings

Purpose = Literal["training", "subsidy", "peer"]
PURPOSES: tuple[str, ...] = ("training", "subsidy", "peer")
MAX_COUNT = 1_000_000_000
"""Largest weight bound, employee bound or iteration budget (beyond it: a typing mistake)."""
MAX_TIME_LIMIT_S = 86_400.0
"""Longest time limit of one run (a day); the service may set a lower maximum."""
MAX_AFFINITY_WEIGHT = 1_000.0
"""Largest weight of one affinity term."""
MAX_SEED = 2**31
"""Seeds lie in ``[0, MAX_SEED)``."""


def _positive(value: float | None) -> bool:
    return value is None or (math.isfinite(value) and value > 0)


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides the outcome of one run (see the module docstring).

    Parameters
    ----------
    purpose
        ``"training"``, ``"subsidy"`` or ``"peer"``.
    min_size, max_size
        Group size bounds (default 10-15).
    max_pair_km
        Maximum distance between any two members of a group (default 50 km).
    min_weight, max_weight
        Optional bounds on the sum of member weights (a firm's ``weight``, else 1).
    infer_competitors_km
        When set, firms with the same 4-digit SBI class within this distance also count as
        competitors (besides declared pairs).  Off by default.
    min_theme_share
        Share of members that must have the group theme (``training``/``subsidy``).
    max_same_division
        At most this many members from one SBI division (2 digits); ``None``: no limit.
    affinity
        Weights of the affinity terms (see :mod:`matching.objective`).
    allowed_themes
        Need codes allowed as a group theme; ``None`` means the default of the purpose.
    eligible_provinces, eligible_max_employees
        Subsidy eligibility: firms outside these provinces or above this size are never
        placed.  ``None``: no restriction.
    scheme_id
        A scheme of :mod:`matching.schemes` (purpose ``subsidy`` only); ``None``: no scheme.
    time_limit_s, max_iterations, seed
        Search budget and seed; with ``time_limit_s=None`` the result depends only on the
        input, the seed and ``max_iterations``.
    max_neighbours
        Cap on compatible partners per firm considered by the search (nearest first);
        ``None`` lets :func:`matching.build.build_instance` choose for large cohorts.
    group_score
        ``"pair_sum"`` or ``"member_mean"`` (see :mod:`matching.objective`); ``None``
        resolves to the purpose's default (``member_mean`` for ``peer``).
    """

    purpose: Purpose = "training"
    min_size: int = 10
    max_size: int = 15
    max_pair_km: float = 50.0
    min_weight: int | None = None
    max_weight: int | None = None
    infer_competitors_km: float | None = None
    min_theme_share: float = 1.0
    max_same_division: int | None = None
    affinity: AffinityWeights = field(default_factory=AffinityWeights)
    allowed_themes: tuple[str, ...] | None = None
    eligible_provinces: tuple[str, ...] | None = None
    eligible_max_employees: int | None = None
    scheme_id: str | None = None
    time_limit_s: float | None = 20.0
    max_iterations: int | None = None
    seed: int = 0
    max_neighbours: int | None = None
    group_score: GroupScore | None = None

    def __post_init__(self) -> None:
        self._check_sizes()
        self._check_bounds()
        if self.group_score is None:
            default = "member_mean" if self.purpose == "peer" else "pair_sum"
            object.__setattr__(self, "group_score", default)
        elif self.group_score not in GROUP_SCORES:
            raise SettingsError.of(
                "group_score", "settings.one_of", choices=", ".join(GROUP_SCORES)
            )
        self._check_themes()
        if not (_positive(self.max_pair_km) and self.max_pair_km is not None):
            raise SettingsError.of("max_pair_km", "settings.positive_km")
        if not _positive(self.infer_competitors_km):
            raise SettingsError.of("infer_competitors_km", "settings.positive_or_null")
        if self.max_same_division is not None and self.max_same_division < 1:
            raise SettingsError.of("max_same_division", "settings.at_least_or_null", low=1)
        if self.eligible_max_employees is not None and self.eligible_max_employees < 0:
            raise SettingsError.of("eligible_max_employees", "settings.at_least_or_null", low=0)
        if self.eligible_provinces is not None:
            object.__setattr__(self, "eligible_provinces", tuple(self.eligible_provinces))
            if not self.eligible_provinces:
                raise SettingsError.of("eligible_provinces", "settings.province_or_null")
        if not _positive(self.time_limit_s):
            raise SettingsError.of("time_limit_s", "settings.positive_or_null")
        if self.time_limit_s is None and self.max_iterations is None:
            raise SettingsError.of("time_limit_s", "settings.time_or_iterations")
        if self.max_iterations is not None and self.max_iterations < 0:
            raise SettingsError.of("max_iterations", "settings.at_least_or_null", low=0)
        if not 0 <= self.seed < MAX_SEED:
            raise SettingsError.of("seed", "settings.seed", high=MAX_SEED)
        if self.max_neighbours is not None and self.max_neighbours < self.max_size - 1:
            low = self.max_size - 1
            raise SettingsError.of("max_neighbours", "settings.max_neighbours", low=low)
        self._check_scheme()

    def _check_scheme(self) -> None:
        if self.scheme_id is None:
            return
        if self.purpose != "subsidy":
            raise SettingsError.of("scheme_id", "settings.scheme_purpose")
        effective_settings(self)

    def _check_sizes(self) -> None:
        if self.purpose not in PURPOSES:
            raise SettingsError.of("purpose", "settings.one_of", choices=", ".join(PURPOSES))
        if self.min_size < 2:
            raise SettingsError.of("min_size", "settings.min_size")
        if self.max_size < self.min_size:
            raise SettingsError.of("max_size", "settings.max_size", min_size=self.min_size)
        for name in ("min_weight", "max_weight"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise SettingsError.of(name, "settings.at_least_or_null", low=0)
        if (
            self.min_weight is not None
            and self.max_weight is not None
            and self.min_weight > self.max_weight
        ):
            raise SettingsError.of("max_weight", "settings.max_weight", min_weight=self.min_weight)
        if not (math.isfinite(self.min_theme_share) and 0 < self.min_theme_share <= 1):
            raise SettingsError.of("min_theme_share", "settings.theme_share")

    def _check_bounds(self) -> None:
        """Upper bounds (a number the engines cannot hold is the user's mistake, not a crash)."""
        for name in ("min_weight", "max_weight", "eligible_max_employees", "max_iterations",
                     "max_same_division", "max_neighbours"):  # fmt: skip
            value = getattr(self, name)
            if value is not None and value > MAX_COUNT:
                raise SettingsError.of(name, "settings.at_most_or_null", high=f"{MAX_COUNT:,}")
        if self.time_limit_s is not None and not self.time_limit_s <= MAX_TIME_LIMIT_S:
            raise SettingsError.of(
                "time_limit_s", "settings.time_limit_max", high=f"{MAX_TIME_LIMIT_S:.0f}"
            )
        for weight in fields(self.affinity):
            value = getattr(self.affinity, weight.name)
            if not value <= MAX_AFFINITY_WEIGHT:
                limit = f"{MAX_AFFINITY_WEIGHT:.0f}"
                raise SettingsError.of(f"affinity.{weight.name}", "settings.at_most", high=limit)
        if self.eligible_provinces is not None:
            for name in self.eligible_provinces:
                try:
                    normalise_province(name)
                except GeodataError:
                    raise SettingsError.of("eligible_provinces", "settings.unknown_province",
                                           name=repr(name)) from None  # fmt: skip

    def _check_themes(self) -> None:
        if self.allowed_themes is None:
            return
        object.__setattr__(self, "allowed_themes", tuple(self.allowed_themes))
        assert self.allowed_themes is not None
        if self.purpose == "peer":
            raise SettingsError.of("allowed_themes", "settings.peer_no_theme")
        if not self.allowed_themes:
            raise SettingsError.of("allowed_themes", "settings.themes_empty")
        for code in self.allowed_themes:
            if not is_need_code(code):
                raise SettingsError.of("allowed_themes", "settings.unknown_need", code=repr(code))
            if self.purpose == "subsidy" and not need_by_code(code).joint_subsidy:
                raise SettingsError.of("allowed_themes", "settings.not_joint", code=code)

    @property
    def theme_required(self) -> bool:
        """Whether groups need a theme (``training`` and ``subsidy``)."""
        return self.purpose != "peer"

    def to_dict(self) -> dict[str, Any]:
        """Return every setting as JSON-ready data (tuples become lists).

        Returns
        -------
        dict
            One key per field; ``affinity`` is a nested dict of weights.
        """
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        """Build settings from :meth:`to_dict` output (missing keys take their defaults).

        Parameters
        ----------
        data
            Mapping of setting names to values.

        Returns
        -------
        RunSettings
            The validated settings.

        Raises
        ------
        SettingsError
            For an unknown key, a wrongly typed value or an impossible combination.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError.of(unknown[0], "settings.unknown")
        values = dict(data)
        for key in ("allowed_themes", "eligible_provinces"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        if "affinity" in values and not isinstance(values["affinity"], AffinityWeights):
            values["affinity"] = _affinity(values["affinity"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise SettingsError("settings", str(exc)) from None


def _affinity(data: object) -> AffinityWeights:
    if not isinstance(data, dict):
        raise SettingsError.of("affinity", "settings.affinity_mapping")
    allowed = {f.name for f in fields(AffinityWeights)}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SettingsError.of(f"affinity.{unknown[0]}", "settings.unknown_weight")
    try:
        return AffinityWeights(**cast(dict[str, float], data))
    except InvalidInstanceError as exc:
        raise SettingsError(exc.field or "affinity", exc.reason) from None
