"""Firms + declared pairs + :class:`RunSettings` -> an :class:`Instance` and an id index.

This is the one place where external ids meet dense indices inside the library.

* Needs map to indices into :data:`matching.sme.needs.NEED_CODES` (``n_needs = 25``).
* Competitors: declared pairs, plus (when ``settings.infer_competitors_km`` is set) every
  pair of firms with the same 4-digit SBI class within that distance (exact geodesic).
* Themes: ``training`` and ``subsidy`` require one; allowed themes default to the needs
  that suit the purpose (``Need.joint_training`` / ``Need.joint_subsidy``).
* Eligibility: firms outside ``eligible_provinces`` or above ``eligible_max_employees`` are
  never placed; with a ``scheme_id`` neither are firms failing the scheme's rules, and the
  scheme's funded needs and partner bounds apply (:mod:`matching.sme.schemes`).
* Rules: the firms' raw data that rules read (``attributes``: gemeente, SBI division) and
  the value of every registered rule's setting (``options``).
* Large cohorts: the search considers at most ``max_neighbours`` nearest compatible firms
  per firm (:func:`auto_max_neighbours`); the verifier stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geodata.boundaries import normalise_province
from geodata.errors import GeodataError
from geodata.neighbours import build_neighbourhoods
from matching.core import registry
from matching.core.errors import MatchingError
from matching.core.objective import neighbour_cap
from matching.core.problem import Instance
from matching.sme.firms import Firm
from matching.sme.needs import NEED_CODES, NEEDS
from matching.sme.schemes import check_firm, scheme_by_id
from matching.sme.settings import RunSettings, SettingsError, effective_settings

_NEED_INDEX = {code: t for t, code in enumerate(NEED_CODES)}


class UnknownFirmIdError(MatchingError, ValueError):
    """A pair or group names an external id that is not among the firms.

    Parameters
    ----------
    field
        Where the id was used (``"competitors"``, ``"partners"``, ``"locked"``, ``"pinned"``).
    external_id
        The unknown id.
    """

    def __init__(self, field: str, external_id: str) -> None:
        self.field = field
        self.external_id = external_id
        super().__init__(f"{field}: unknown firm id {external_id!r}")


@dataclass(frozen=True)
class FirmIndex:
    """External ids <-> dense indices, plus what the build derived.

    Attributes
    ----------
    ids
        External id of firm ``i`` at position ``i``.
    inferred_competitors
        Pairs (dense indices) added by the same-SBI-class rule, beyond the declared ones.
    """

    ids: tuple[str, ...]
    inferred_competitors: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pos", {e: i for i, e in enumerate(self.ids)})

    def index_of(self, external_id: str) -> int:
        """Dense index of an external id (``KeyError`` when unknown)."""
        pos: dict[str, int] = object.__getattribute__(self, "_pos")
        return pos[external_id]

    def __contains__(self, external_id: object) -> bool:
        pos: dict[str, int] = object.__getattribute__(self, "_pos")
        return external_id in pos

    def __len__(self) -> int:
        return len(self.ids)


def auto_max_neighbours(n_firms: int, settings: RunSettings) -> int | None:
    """The neighbour cap used when ``settings.max_neighbours`` is ``None``.

    Parameters
    ----------
    n_firms
        Cohort size.
    settings
        Run settings (an explicit ``max_neighbours`` wins).

    Returns
    -------
    int or None
        ``None`` (no cap) up to 3,000 firms, 600 up to 20,000, else 300; at least
        ``4 * max_size``.  Keeps the pair graph of 50,000 firms in a few hundred MB.
    """
    if settings.max_neighbours is not None:
        return settings.max_neighbours
    return neighbour_cap(n_firms, settings.max_size)


def default_themes(settings: RunSettings) -> tuple[str, ...] | None:
    """Need codes allowed as a group theme under ``settings``.

    Parameters
    ----------
    settings
        Run settings.

    Returns
    -------
    tuple of str or None
        ``settings.allowed_themes`` when given; else the needs suiting joint training
        (``training``) or a joint subsidy (``subsidy``); ``None`` for ``peer``.
    """
    if settings.purpose == "peer":
        return None
    if settings.allowed_themes is not None:
        return settings.allowed_themes
    if settings.purpose == "subsidy":
        return tuple(n.code for n in NEEDS if n.joint_subsidy)
    return tuple(n.code for n in NEEDS if n.joint_training)


def eligibility(firms: Sequence[Firm], settings: RunSettings) -> NDArray[np.bool_] | None:
    """Per-firm eligibility flags, or ``None`` when settings restrict nothing.

    Parameters
    ----------
    firms
        The cohort.
    settings
        Run settings (``eligible_provinces``, ``eligible_max_employees``, ``scheme_id``).

    Returns
    -------
    numpy.ndarray of bool or None
        True where the firm may be placed.

    Raises
    ------
    SettingsError
        When a province name is unknown.
    """
    if (
        settings.eligible_provinces is None
        and settings.eligible_max_employees is None
        and settings.scheme_id is None
    ):
        return None
    ok = np.ones(len(firms), bool)
    if settings.scheme_id is not None:
        scheme = scheme_by_id(settings.scheme_id)
        ok &= np.array([check_firm(scheme, f) is None for f in firms], bool)
    if settings.eligible_provinces is not None:
        try:
            wanted = {normalise_province(p) for p in settings.eligible_provinces}
        except GeodataError:
            names = ", ".join(map(repr, settings.eligible_provinces))
            raise SettingsError.of("eligible_provinces", "settings.unknown_province",
                                   name=names) from None  # fmt: skip
        ok &= np.array([f.province in wanted for f in firms], bool)
    if settings.eligible_max_employees is not None:
        ok &= np.array([f.employees <= settings.eligible_max_employees for f in firms], bool)
    return ok


def infer_competitors(firms: Sequence[Firm], radius_km: float) -> list[tuple[int, int]]:
    """Pairs of firms with the same 4-digit SBI class within ``radius_km`` (exact geodesic).

    Parameters
    ----------
    firms
        The cohort.
    radius_km
        Distance within which same-class firms count as competitors.

    Returns
    -------
    list of (int, int)
        Sorted pairs ``(i, j)`` with ``i < j``.
    """
    classes: dict[str, list[int]] = {}
    for i, f in enumerate(firms):
        classes.setdefault(f.sbi_class, []).append(i)
    pairs: list[tuple[int, int]] = []
    for members in classes.values():
        if len(members) < 2:
            continue
        idx = np.array(members, np.int64)
        lat = np.array([firms[i].lat for i in members])
        lon = np.array([firms[i].lon for i in members])
        nb = build_neighbourhoods(lat, lon, radius_km, exact=True)
        src = np.repeat(np.arange(len(members)), np.diff(nb.indptr))
        keep = src < nb.indices
        pairs += zip(idx[src[keep]].tolist(), idx[nb.indices[keep]].tolist(), strict=True)
    return sorted(pairs)


def gemeente_number(code: str | None) -> int:
    """The CBS number of a gemeente code (``"GM0014"`` -> 14), ``-1`` when unknown."""
    digits = (code or "").upper().removeprefix("GM")
    return int(digits) if digits.isdigit() else -1


def attributes(firms: Sequence[Firm]) -> dict[str, NDArray[np.int64]]:
    """The raw per-firm data rules read: ``gemeente`` (CBS number) and ``division`` (SBI)."""
    return {
        "gemeente": np.array([gemeente_number(f.gemeente_code) for f in firms], np.int64),
        "division": np.array([int(f.division) for f in firms], np.int64),
    }


def rule_options(settings: RunSettings) -> dict[str, object]:
    """The value of every registered rule's setting in ``settings`` (by field name)."""
    value = getattr(settings, "value", None)
    if callable(value):  # RunSettings knows every rule field
        return {f.name: value(f.name) for f in registry.rule_fields()}
    return {f.name: getattr(settings, f.name, f.default) for f in registry.rule_fields()}


def _pairs(index: FirmIndex, pairs: Sequence[tuple[str, str]], field: str) -> list[tuple[int, int]]:
    out = []
    for a, b in pairs:
        for e in (a, b):
            if e not in index:
                raise UnknownFirmIdError(field, e)
        out.append((index.index_of(a), index.index_of(b)))
    return out


def _groups(
    index: FirmIndex, groups: Sequence[Sequence[str]], field: str
) -> tuple[tuple[int, ...], ...]:
    for g in groups:
        for e in g:
            if e not in index:
                raise UnknownFirmIdError(field, e)
    return tuple(tuple(index.index_of(e) for e in g) for g in groups)


def build_instance(
    firms: Sequence[Firm],
    competitors: Sequence[tuple[str, str]],
    partners: Sequence[tuple[str, str]],
    settings: RunSettings,
    *,
    locked: Sequence[Sequence[str]] = (),
    pinned: Sequence[Sequence[str]] = (),
) -> tuple[Instance, FirmIndex]:
    """Build the solver instance for a cohort.

    Parameters
    ----------
    firms
        The cohort; firm ``i`` becomes dense index ``i``.  External ids must be unique.
    competitors, partners
        Declared pairs of external ids.
    settings
        Run settings.
    locked
        Groups (external ids) already accepted: kept exactly.
    pinned
        Sets of firms that must end up in one group together.

    Returns
    -------
    (Instance, FirmIndex)
        The validated instance and the id mapping.

    Raises
    ------
    UnknownFirmIdError
        When a pair or group names an unknown firm.
    SettingsError
        When an eligibility province is unknown.
    matching.core.errors.InvalidInstanceError
        When ids repeat or the instance is inconsistent (e.g. locked groups overlap).
    """
    index = FirmIndex(tuple(f.external_id for f in firms))
    if len(set(index.ids)) != len(index.ids):
        from matching.core.errors import InvalidInstanceError

        raise InvalidInstanceError("firms", "external ids must be unique")
    forbidden = _pairs(index, competitors, "competitors")
    inferred: list[tuple[int, int]] = []
    if settings.infer_competitors_km is not None:
        declared = {(min(a, b), max(a, b)) for a, b in forbidden}
        inferred = [p for p in infer_competitors(firms, settings.infer_competitors_km)
                    if p not in declared]  # fmt: skip
    index = FirmIndex(index.ids, tuple(inferred))
    eligible = eligibility(firms, settings)
    settings = effective_settings(settings)
    themes = default_themes(settings)
    weights = None
    if settings.min_weight is not None or settings.max_weight is not None:
        weights = np.array([1 if f.weight is None else f.weight for f in firms], np.int64)
    instance = Instance(
        n_firms=len(firms),
        min_size=settings.min_size,
        max_size=settings.max_size,
        weights=weights,
        min_weight=settings.min_weight,
        max_weight=settings.max_weight,
        lats=np.array([f.lat for f in firms], np.float64),
        lons=np.array([f.lon for f in firms], np.float64),
        max_pair_km=settings.max_pair_km,
        forbidden=np.array(forbidden + inferred, np.int64).reshape(-1, 2),
        partners=np.array(_pairs(index, partners, "partners"), np.int64).reshape(-1, 2),
        needs=tuple(tuple(_NEED_INDEX[c] for c in f.needs) for f in firms),
        n_needs=len(NEED_CODES),
        employees=np.array([f.employees for f in firms], np.int64),
        digital_levels=np.array([f.digital_level for f in firms], np.int64),
        affinity_weights=settings.affinity,
        theme_required=settings.theme_required,
        min_theme_share=settings.min_theme_share,
        allowed_themes=None if themes is None else frozenset(_NEED_INDEX[c] for c in themes),
        eligible=eligible,
        group_score=settings.group_score or "pair_sum",
        locked_groups=_groups(index, locked, "locked"),
        pinned_groups=_groups(index, pinned, "pinned"),
        max_neighbours=auto_max_neighbours(len(firms), settings),
        attributes=attributes(firms),
        options=rule_options(settings),
    )
    return instance, index
