"""The clustering instance: immutable problem data, validated on construction.

One :class:`Instance` serves both kring's SME problem (groups of 10-15 firms, unassigned
firms allowed, affinity from firm features, pairs limited by distance and competitors) and
the CCP benchmark (node weights, a fixed number of groups with weight bounds, every node
placed, an explicit dense affinity matrix).

Firms are identified by dense index ``0..n_firms-1``.  Needs are indices into a taxonomy of
``n_needs`` codes (the caller maps codes to indices).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from matching.core.errors import InvalidInstanceError

GroupScore = Literal["pair_sum", "member_mean"]
GROUP_SCORES: tuple[str, ...] = ("pair_sum", "member_mean")
"""How group affinity adds up (see :mod:`matching.core.objective`)."""


@dataclass(frozen=True)
class AffinityWeights:
    """Weights of the pairwise affinity terms (see :mod:`matching.core.objective`).

    ``affinity = need * weighted_jaccard + size * size_similarity + digital * ladder_similarity
    + partner * [declared partners] - distance * km / max_pair_km``.  Terms whose firm feature
    is missing count zero.  Defaults favour shared needs; the partner bonus nudges
    supplier/customer pairs together; the distance penalty is off.
    """

    need: float = 0.6
    size: float = 0.2
    digital: float = 0.2
    partner: float = 0.25
    distance: float = 0.0

    def __post_init__(self) -> None:
        for name in ("need", "size", "digital", "partner", "distance"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise InvalidInstanceError(f"affinity_weights.{name}", "must be finite and >= 0")


def _int_array(value: object, name: str, n: int | None = None) -> NDArray[np.int64]:
    arr = np.asarray(value)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInstanceError(name, "must be integers")
    arr = arr.astype(np.int64, copy=True)
    if n is not None and arr.shape != (n,):
        raise InvalidInstanceError(name, f"must have shape ({n},), got {arr.shape}")
    arr.setflags(write=False)
    return arr


def _float_array(value: object, name: str, n: int) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64).copy()
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise InvalidInstanceError(name, f"must be {n} finite numbers")
    arr.setflags(write=False)
    return arr


def _pairs(value: object, name: str, n: int) -> NDArray[np.int64]:
    raw = np.asarray(value)
    arr = _int_array(raw.reshape(-1, 2) if raw.size else [], name)
    arr = arr.reshape(-1, 2)
    if arr.size and (arr.min() < 0 or arr.max() >= n or np.any(arr[:, 0] == arr[:, 1])):
        raise InvalidInstanceError(name, "pairs must be two distinct firm indices in range")
    canon = np.unique(np.sort(arr, axis=1), axis=0) if arr.size else arr
    canon.setflags(write=False)
    return canon


@dataclass(frozen=True, eq=False)
class Instance:
    """An immutable, validated clustering instance.

    Parameters
    ----------
    n_firms
        Number of firms; firms are ``0..n_firms-1``.
    min_size, max_size
        Bounds on the number of members of every group (``None``: unbounded).
    weights
        Integer weight per firm (default 1 each), e.g. staff to train or CCP node weights.
    min_weight, max_weight
        Bounds on the sum of member weights of every group (``None``: unbounded).
    n_groups
        Exact number of groups (CCP ``p``), or ``None`` for any number.
    require_all
        Every firm must be placed (CCP).  Default: unassigned firms are allowed and the
        first objective is to place as many as possible.
    lats, lons
        Coordinates in degrees (WGS84), required when ``max_pair_km`` is set.
    max_pair_km
        Maximum great-circle distance (exact geodesic) between any two members of a group.
    forbidden
        Pairs of firms that may never share a group (declared competitors), shape ``(m, 2)``.
    partners
        Declared supplier/customer pairs, shape ``(m, 2)``: an affinity bonus.
    affinity_matrix
        Explicit symmetric affinity ``c_ij`` (CCP), shape ``(n, n)``; then all feature fields
        are ignored for scoring.  Only for small ``n`` (a dense matrix).
    needs
        Per firm, need indices by importance (first = most important).
    n_needs
        Size of the need taxonomy (all need indices are below it).
    employees, digital_levels
        Per firm employee count (>= 0) and digital ladder level (1-4) for the affinity.
    affinity_weights
        Weights of the affinity terms.
    theme_required, min_theme_share, allowed_themes
        When required, each group has a theme (a need index, from ``allowed_themes`` when
        given) that at least ``ceil(min_theme_share * size)`` members have.
    eligible
        Per firm flag; ineligible firms are never placed (subsidy purpose).
    locked_groups
        Groups kept exactly as given (already accepted); their firms join no other group.
    pinned_groups
        Sets of firms that must end up together in one group (it may gain other members).
    max_neighbours
        Cap on compatible partners per firm that the search considers (nearest first);
        ``None`` keeps all.  Only the search is restricted; the verifier is exact.
    attributes
        Raw per-firm integer data that rules read by name (e.g. ``"gemeente"``: the CBS
        gemeente number, ``"division"``: the SBI division), each of shape ``(n,)``.
    options
        Rule settings by field name (e.g. ``{"max_per_gemeente": 3, "reach": "islands"}``);
        a rule whose setting is absent or ``None`` is off.
    group_score
        How a group's pairwise affinity adds up to the objective (see
        :mod:`matching.core.objective`): ``"pair_sum"`` (every pair counts once, so fuller
        groups score higher) or ``"member_mean"`` (each member counts its mean affinity to
        the others, whatever the group's size).
    """

    n_firms: int
    min_size: int | None = None
    max_size: int | None = None
    weights: NDArray[np.int64] | None = None
    min_weight: int | None = None
    max_weight: int | None = None
    n_groups: int | None = None
    require_all: bool = False
    lats: NDArray[np.float64] | None = None
    lons: NDArray[np.float64] | None = None
    max_pair_km: float | None = None
    forbidden: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    partners: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    affinity_matrix: NDArray[np.float64] | None = None
    needs: tuple[tuple[int, ...], ...] | None = None
    n_needs: int = 0
    employees: NDArray[np.int64] | None = None
    digital_levels: NDArray[np.int64] | None = None
    affinity_weights: AffinityWeights = field(default_factory=AffinityWeights)
    theme_required: bool = False
    min_theme_share: float = 1.0
    allowed_themes: frozenset[int] | None = None
    eligible: NDArray[np.bool_] | None = None
    locked_groups: tuple[tuple[int, ...], ...] = ()
    pinned_groups: tuple[tuple[int, ...], ...] = ()
    max_neighbours: int | None = None
    group_score: GroupScore = "pair_sum"
    attributes: Mapping[str, NDArray[np.int64]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.n_firms
        if n < 0:
            raise InvalidInstanceError("n_firms", "must be >= 0")
        setf = object.__setattr__
        setf(
            self,
            "weights",
            _int_array(
                np.ones(n, np.int64) if self.weights is None else self.weights, "weights", n
            ),
        )
        assert self.weights is not None
        if n and self.weights.min() < 0:
            raise InvalidInstanceError("weights", "must be >= 0")
        self._check_bounds()
        if (self.lats is None) != (self.lons is None):
            raise InvalidInstanceError("lats", "give both lats and lons, or neither")
        if self.lats is not None and self.lons is not None:
            setf(self, "lats", _float_array(self.lats, "lats", n))
            setf(self, "lons", _float_array(self.lons, "lons", n))
            if np.any(np.abs(self.lats) > 90) or np.any(np.abs(self.lons) > 180):
                raise InvalidInstanceError("lats", "coordinates out of range")
        if self.max_pair_km is not None:
            if not self.max_pair_km > 0:
                raise InvalidInstanceError("max_pair_km", "must be > 0")
            if self.lats is None:
                raise InvalidInstanceError("max_pair_km", "needs lats and lons")
        setf(self, "forbidden", _pairs(self.forbidden, "forbidden", n))
        setf(self, "partners", _pairs(self.partners, "partners", n))
        self._check_features()
        self._check_rules()
        attrs = {str(k): _int_array(v, f"attributes.{k}", n) for k, v in self.attributes.items()}
        setf(self, "attributes", MappingProxyType(attrs))
        setf(self, "options", MappingProxyType(dict(self.options)))

    def __getstate__(self) -> dict[str, Any]:
        """Pickle state (process pools, windows): the read-only mappings as plain dicts."""
        state = dict(self.__dict__)
        state["attributes"], state["options"] = dict(self.attributes), dict(self.options)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled instance as it was (no re-validation), mappings read-only."""
        state = {**state, "attributes": MappingProxyType(state["attributes"]),
                 "options": MappingProxyType(state["options"])}  # fmt: skip
        self.__dict__.update(state)

    def _check_bounds(self) -> None:
        for lo, hi, name in (
            (self.min_size, self.max_size, "size"),
            (self.min_weight, self.max_weight, "weight"),
        ):
            if lo is not None and lo < 0:
                raise InvalidInstanceError(f"min_{name}", "must be >= 0")
            if hi is not None and hi < 1:
                raise InvalidInstanceError(f"max_{name}", "must be >= 1")
            if lo is not None and hi is not None and lo > hi:
                raise InvalidInstanceError(f"min_{name}", f"exceeds max_{name}")
        if self.n_groups is not None and self.n_groups < 1:
            raise InvalidInstanceError("n_groups", "must be >= 1")

    def _check_features(self) -> None:
        n = self.n_firms
        setf = object.__setattr__
        if self.affinity_matrix is not None:
            mat = np.asarray(self.affinity_matrix, dtype=np.float64).copy()
            if mat.shape != (n, n) or not np.all(np.isfinite(mat)):
                raise InvalidInstanceError("affinity_matrix", f"must be finite, shape ({n}, {n})")
            if not np.allclose(mat, mat.T):
                raise InvalidInstanceError("affinity_matrix", "must be symmetric")
            np.fill_diagonal(mat, 0.0)
            mat.setflags(write=False)
            setf(self, "affinity_matrix", mat)
        if self.needs is not None:
            if len(self.needs) != n:
                raise InvalidInstanceError("needs", f"must have {n} entries")
            needs = tuple(tuple(int(t) for t in row) for row in self.needs)
            for row in needs:
                if len(set(row)) != len(row) or any(not 0 <= t < self.n_needs for t in row):
                    raise InvalidInstanceError("needs", "need indices distinct, in [0, n_needs)")
            setf(self, "needs", needs)
        if self.employees is not None:
            setf(self, "employees", _int_array(self.employees, "employees", n))
            if n and self.employees.min() < 0:
                raise InvalidInstanceError("employees", "must be >= 0")
        if self.digital_levels is not None:
            setf(self, "digital_levels", _int_array(self.digital_levels, "digital_levels", n))
            if n and (self.digital_levels.min() < 1 or self.digital_levels.max() > 4):
                raise InvalidInstanceError("digital_levels", "must be in 1..4")

    def _check_rules(self) -> None:
        n = self.n_firms
        setf = object.__setattr__
        if self.theme_required and self.needs is None:
            raise InvalidInstanceError("theme_required", "needs are required for themes")
        if not 0 < self.min_theme_share <= 1:
            raise InvalidInstanceError("min_theme_share", "must be in (0, 1]")
        if self.allowed_themes is not None:
            themes = frozenset(int(t) for t in self.allowed_themes)
            if any(not 0 <= t < self.n_needs for t in themes):
                raise InvalidInstanceError("allowed_themes", "need indices out of range")
            setf(self, "allowed_themes", themes)
        if self.eligible is not None:
            elig = np.asarray(self.eligible, dtype=bool).copy()
            if elig.shape != (n,):
                raise InvalidInstanceError("eligible", f"must have shape ({n},)")
            elig.setflags(write=False)
            setf(self, "eligible", elig)
        if self.max_neighbours is not None and self.max_neighbours < 1:
            raise InvalidInstanceError("max_neighbours", "must be >= 1")
        if self.group_score not in GROUP_SCORES:
            raise InvalidInstanceError("group_score", f"must be one of {', '.join(GROUP_SCORES)}")
        seen: set[int] = set()
        for name in ("locked_groups", "pinned_groups"):
            groups = tuple(tuple(sorted(int(i) for i in g)) for g in getattr(self, name))
            for g in groups:
                if not g or g[0] < 0 or g[-1] >= n or seen.intersection(g) or len(set(g)) < len(g):
                    raise InvalidInstanceError(name, "groups must be disjoint firm sets in range")
                seen.update(g)
            setf(self, name, groups)
        if self.eligible is not None:
            for g in self.pinned_groups:
                if not self.eligible[list(g)].all():
                    raise InvalidInstanceError("pinned_groups", "pinned firms must be eligible")

    @property
    def is_placeable(self) -> NDArray[np.bool_]:
        """Firms the search may place (eligible and not in a locked group)."""
        mask = np.ones(self.n_firms, bool) if self.eligible is None else self.eligible.copy()
        for g in self.locked_groups:
            mask[list(g)] = False
        return mask

    def subset(self, firms: NDArray[np.int64]) -> Instance:
        """The instance restricted to ``firms`` (row ``k`` of the result is ``firms[k]``).

        Per-firm data, forbidden and partner pairs and the affinity matrix are restricted
        and renumbered; locked and pinned groups lying wholly inside ``firms`` are kept,
        the others dropped (the caller decides what happens to them).  A fixed number of
        groups (``n_groups``) does not carry over to a part of the instance.  The pair
        graph is rebuilt lazily for the subset, so top-``k`` capping ranks partners within
        it.

        Parameters
        ----------
        firms
            Distinct firm indices, in the order the subset numbers them.

        Returns
        -------
        Instance
            A validated instance of ``len(firms)`` firms.
        """
        firms = np.asarray(firms, np.int64)
        new = np.full(self.n_firms, -1, np.int64)
        new[firms] = np.arange(len(firms))
        if len(np.unique(firms)) != len(firms):
            raise InvalidInstanceError("firms", "must be distinct")

        def rows(a: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if a is None else a[firms]

        def pairs(p: NDArray[np.int64]) -> NDArray[np.int64]:
            both = (new[p[:, 0]] >= 0) & (new[p[:, 1]] >= 0) if len(p) else np.zeros(0, bool)
            return new[p[both]].reshape(-1, 2)

        def groups(gs: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
            return tuple(tuple(int(new[i]) for i in g) for g in gs if (new[list(g)] >= 0).all())

        matrix = self.affinity_matrix
        return replace(
            self,
            n_firms=len(firms),
            weights=rows(self.weights),
            n_groups=None,
            lats=rows(self.lats),
            lons=rows(self.lons),
            forbidden=pairs(self.forbidden),
            partners=pairs(self.partners),
            affinity_matrix=None if matrix is None else matrix[np.ix_(firms, firms)],
            needs=None if self.needs is None else tuple(self.needs[i] for i in firms),
            employees=rows(self.employees),
            digital_levels=rows(self.digital_levels),
            eligible=rows(self.eligible),
            attributes={k: v[firms] for k, v in self.attributes.items()},
            locked_groups=groups(self.locked_groups),
            pinned_groups=groups(self.pinned_groups),
        )
