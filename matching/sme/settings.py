"""``RunSettings``: the full, self-validating parameter snapshot of one matching run.

The service stores ``RunSettings.to_dict()`` with every run, so a run can be repeated
exactly; ``RunSettings.from_dict`` reads it back strictly (unknown keys are errors).

Every setting is defined once, as a :class:`~matching.core.registry.Field`: the run-level
ones in :mod:`matching.sme.fields`, each rule's in its module of :mod:`matching.rules`.
``RunSettings`` checks every value against its field (the bounds the API schema, the
``kring solve`` options and profile validation are generated from), then the combinations
(``max_size >= min_size``, the scheme's partner bounds...).  Settings of a rule that have
no attribute here (``max_per_gemeente``, ``reach``) are carried in ``options``;
:meth:`RunSettings.value` reads any setting by name.

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
    the scheme's rules apply too (:mod:`matching.sme.schemes`): only firms that pass
    :func:`matching.sme.schemes.check_firm` are placed, themes are the scheme's funded needs
    and group sizes stay within its partner bounds.
``peer``
    Peer-learning circle: no theme; groups maximise similarity only, scored
    ``member_mean`` by default (each member's mean affinity to the others counts, so a
    group of 10 with one shared question beats a group of 15 with mixed ones).

``group_score`` (``pair_sum`` or ``member_mean``, see :mod:`matching.core.objective`) defaults
to ``member_mean`` for ``peer`` and ``pair_sum`` otherwise; the stored snapshot holds the
resolved value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from geodata.boundaries import normalise_province
from geodata.errors import GeodataError
from matching.core.errors import InvalidInstanceError
from matching.core.errors import SettingsError as SettingsError  # re-exported: its old home
from matching.core.problem import AffinityWeights, GroupScore
from matching.sme.fields import (
    AFFINITY_FIELDS,
    PURPOSES,
    RUN_FIELDS,
    SME_AFFINITY,
    check_value,
    setting_fields,
)
from matching.sme.needs import is_need_code, need_by_code
from matching.sme.schemes import Scheme, UnknownSchemeError, scheme_by_id

__all__ = ["PURPOSES", "RUN_FIELDS", "Purpose", "RunSettings", "SettingsError",
           "effective_settings"]  # fmt: skip

Purpose = Literal["training", "subsidy", "peer"]


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
        Weights of the affinity terms (see :mod:`matching.core.objective`); default
        :data:`matching.sme.fields.SME_AFFINITY` (the core's weights with compactness
        ``distance`` 0.1).
    allowed_themes
        Need codes allowed as a group theme; ``None`` means the default of the purpose.
    eligible_provinces, eligible_max_employees
        Subsidy eligibility: firms outside these provinces or above this size are never
        placed.  ``None``: no restriction.
    scheme_id
        A scheme of :mod:`matching.sme.schemes` (purpose ``subsidy`` only); ``None``: no scheme.
    time_limit_s, max_iterations, seed
        Search budget and seed; with ``time_limit_s=None`` the result depends only on the
        input, the seed and ``max_iterations``.
    max_neighbours
        Cap on compatible partners per firm considered by the search (nearest first);
        ``None`` lets :func:`matching.sme.build.build_instance` choose for large cohorts.
    group_score
        ``"pair_sum"`` or ``"member_mean"`` (see :mod:`matching.core.objective`); ``None``
        resolves to the purpose's default (``member_mean`` for ``peer``).
    options
        Values of the rule settings without an attribute here (``max_per_gemeente``,
        ``reach``), by name; every registered rule's setting is filled in (its default
        when not given).  Read any setting with :meth:`value`.

    Every value is checked against its :class:`~matching.core.registry.Field`
    (:func:`matching.sme.fields.check_value`), then the combinations are checked.
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
    affinity: AffinityWeights = field(default_factory=lambda: SME_AFFINITY)
    allowed_themes: tuple[str, ...] | None = None
    eligible_provinces: tuple[str, ...] | None = None
    eligible_max_employees: int | None = None
    scheme_id: str | None = None
    time_limit_s: float | None = 20.0
    max_iterations: int | None = None
    seed: int = 0
    max_neighbours: int | None = None
    group_score: GroupScore | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._check_fields()
        if self.group_score is None:
            default = "member_mean" if self.purpose == "peer" else "pair_sum"
            object.__setattr__(self, "group_score", default)
        if self.max_size < self.min_size:
            raise SettingsError.of("max_size", "settings.max_size", min_size=self.min_size)
        if (
            self.min_weight is not None
            and self.max_weight is not None
            and self.min_weight > self.max_weight
        ):
            raise SettingsError.of("max_weight", "settings.max_weight", min_weight=self.min_weight)
        self._check_themes()
        self._check_provinces()
        if self.time_limit_s is None and self.max_iterations is None:
            raise SettingsError.of("time_limit_s", "settings.time_or_iterations")
        if self.max_neighbours is not None and self.max_neighbours < self.max_size - 1:
            raise SettingsError.of(
                "max_neighbours", "settings.max_neighbours", low=self.max_size - 1
            )
        if self.scheme_id is not None:
            if self.purpose != "subsidy":
                raise SettingsError.of("scheme_id", "settings.scheme_purpose")
            effective_settings(self)

    def _check_fields(self) -> None:
        """Every value against its :class:`~matching.core.registry.Field` (one set of bounds)."""
        options = dict(self.options)
        resolved: dict[str, Any] = {}
        for f in setting_fields():
            if f.name in _TYPED:
                object.__setattr__(self, f.name, check_value(f, getattr(self, f.name)))
            else:
                resolved[f.name] = check_value(f, options.pop(f.name, f.default))
        if options:
            raise SettingsError.of(sorted(options)[0], "settings.unknown")
        object.__setattr__(self, "options", resolved)
        for f in AFFINITY_FIELDS:
            try:
                check_value(f, getattr(self.affinity, f.name))
            except SettingsError as exc:
                raise SettingsError(f"affinity.{f.name}", exc.reason, exc.text) from None

    def _check_provinces(self) -> None:
        if self.eligible_provinces is None:
            return
        if not self.eligible_provinces:
            raise SettingsError.of("eligible_provinces", "settings.province_or_null")
        for name in self.eligible_provinces:
            try:
                normalise_province(name)
            except GeodataError:
                raise SettingsError.of(
                    "eligible_provinces", "settings.unknown_province", name=repr(name)
                ) from None

    def _check_themes(self) -> None:
        if self.allowed_themes is None:
            return
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

    def value(self, name: str) -> Any:
        """The value of the setting ``name``: a typed attribute or a rule's option.

        Parameters
        ----------
        name
            A run-level or rule setting (``max_per_gemeente``).

        Returns
        -------
        Any
            The value; a rule registered after these settings were made gives its default.

        Raises
        ------
        KeyError
            When no run setting or registered rule declares ``name``.
        """
        if name in self.options:
            return self.options[name]
        if name in _TYPED:
            return getattr(self, name)
        for f in setting_fields():
            if f.name == name:
                return f.default
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return every setting as JSON-ready data (tuples become lists).

        Returns
        -------
        dict
            One key per setting, rule options included; ``affinity`` is a dict of weights.
        """
        out = {name: getattr(self, name) for name in _TYPED}
        out["affinity"] = dataclasses.asdict(self.affinity)
        out.update(self.options)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSettings:
        """Build settings from :meth:`to_dict` output (missing keys take their defaults).

        Parameters
        ----------
        data
            Mapping of setting names to values (rule options at the top level too).

        Returns
        -------
        RunSettings
            The validated settings.

        Raises
        ------
        SettingsError
            For an unknown key, a wrongly typed value or an impossible combination.
        """
        options = {f.name for f in setting_fields()} - set(_TYPED)
        unknown = sorted(set(data) - set(_TYPED) - options - {"affinity"})
        if unknown:
            raise SettingsError.of(unknown[0], "settings.unknown")
        values = {k: v for k, v in data.items() if k not in options}
        if "affinity" in values and not isinstance(values["affinity"], AffinityWeights):
            values["affinity"] = _affinity(values["affinity"])
        return cls(**values, options={k: v for k, v in data.items() if k in options})


_TYPED: tuple[str, ...] = tuple(
    f.name for f in fields(RunSettings) if f.name not in ("affinity", "options")
)
"""Settings with an attribute of their own; every other rule setting is in ``options``."""


def _affinity(data: object) -> AffinityWeights:
    if not isinstance(data, dict):
        raise SettingsError.of("affinity", "settings.affinity_mapping")
    by_name = {f.name: f for f in AFFINITY_FIELDS}
    unknown = sorted(set(data) - set(by_name))
    if unknown:
        raise SettingsError.of(f"affinity.{unknown[0]}", "settings.unknown_weight")
    values: dict[str, float] = {}
    for name, value in data.items():
        try:
            values[name] = check_value(by_name[name], value)
        except SettingsError as exc:
            raise SettingsError(f"affinity.{name}", exc.reason, exc.text) from None
    try:
        return dataclasses.replace(SME_AFFINITY, **values)
    except InvalidInstanceError as exc:
        raise SettingsError(exc.field or "affinity", exc.reason) from None


def effective_settings(settings: RunSettings, scheme: Scheme | None = None) -> RunSettings:
    """The settings with the scheme applied (unchanged without a scheme).

    Group sizes become the intersection of ``[min_size, max_size]`` with the scheme's
    partner bounds; allowed themes become the scheme's funded needs (intersected with
    ``allowed_themes`` when given).

    Parameters
    ----------
    settings
        Run settings.
    scheme
        The scheme to apply; by default the bundled scheme ``settings.scheme_id``.

    Returns
    -------
    RunSettings
        Equal settings with ``scheme_id=None`` and the scheme's bounds and themes.

    Raises
    ------
    matching.core.errors.SettingsError
        When the scheme is unknown, the size bounds do not meet the partner bounds, or no
        funded need is an allowed theme.
    """
    if settings.scheme_id is None:
        return settings
    if scheme is None:
        try:
            scheme = scheme_by_id(settings.scheme_id)
        except UnknownSchemeError:
            raise SettingsError.of(
                "scheme_id", "settings.unknown_scheme", scheme=repr(settings.scheme_id)
            ) from None
    bounds = scheme.partners
    low = max(settings.min_size, bounds.min)
    high = settings.max_size if bounds.max is None else min(settings.max_size, bounds.max)
    if low > high:
        raise SettingsError.of("scheme_id", "settings.scheme_sizes", low=settings.min_size,
                               high=settings.max_size, partners_min=bounds.min,
                               partners_max=bounds.max or "∞")  # fmt: skip
    themes = [c for c in scheme.funded_needs if settings.allowed_themes is None
              or c in settings.allowed_themes]  # fmt: skip
    if not themes:
        raise SettingsError.of("allowed_themes", "settings.no_funded_theme", scheme=scheme.id)
    return dataclasses.replace(
        settings, scheme_id=None, min_size=low, max_size=high, allowed_themes=tuple(themes)
    )
