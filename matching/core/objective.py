"""The single definition of affinity and score, shared by heuristics, CP-SAT and verifier.

Objective (lexicographic): first the number of firms placed, then the sum over groups of
the pairwise affinity of their members, added up by the instance's ``group_score``:

``pair_sum`` (purposes ``training`` and ``subsidy``)
    ``sum over member pairs of affinity(i, j)``: every pair counts once, so a group of 15
    has 105 pairs against 45 for a group of 10 and fuller groups score higher: the
    critical mass that makes a joint course or application cheaper per firm.
``member_mean`` (purpose ``peer``)
    ``2 / (size - 1) * sum over member pairs`` = the sum over the members of each member's
    mean affinity to the others.  Every placed firm counts once, whatever its group's
    size, so a group only grows when the newcomer fits as well as the members fit each
    other: peer-learning circles are about one shared question, and practice keeps them
    at about 10 (DOMAIN.md: MKB Businessversneller, Move2Social 9-12).

Affinity of two firms (unless the instance gives an explicit ``affinity_matrix``)::

    need    * weighted Jaccard of need sets (rank weights 1.0, 0.8, 0.6, 0.5, 0.5, ...)
  + size    * (1 - |log1p(emp_i) - log1p(emp_j)| / log1p(250)), clipped to [0, 1]
  + digital * (1 - |level_i - level_j| / 3)
  + partner * [i and j are declared supplier/customer partners]
  - distance * haversine_km(i, j) / max_pair_km

Rank weights: a firm's first-listed need counts fully, later ones a bit less (1, 0.8, 0.6,
then 0.5), so two firms whose *main* needs coincide score higher than two that share only
a side need.  Weighted Jaccard is ``sum_t min(v_it, v_jt) / sum_t max(v_it, v_jt)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from geodata.distance import haversine_km
from geodata.neighbours import iter_neighbourhood_blocks
from matching.core import registry, terms
from matching.core.errors import InvalidInstanceError
from matching.core.problem import Instance
from matching.core.solution import Solution
from matching.core.topk import top_k_block

RANK_WEIGHTS: tuple[float, ...] = (1.0, 0.8, 0.6, 0.5)
"""Weight of a firm's k-th listed need in the weighted Jaccard (later needs: last value)."""

SIZE_SCALE = terms.SIZE_SCALE
"""Employee-count scale of the size similarity (:data:`matching.core.terms.SIZE_SCALE`)."""

MAX_DENSE_FIRMS = 5000
"""Largest instance for which all pairs may be compatible (no coordinates or radius)."""


@dataclass(frozen=True)
class PairGraph:
    """Compatible pairs as a symmetric CSR graph with the affinity of each pair.

    ``indices[indptr[i]:indptr[i+1]]`` are the firms that may share a group with ``i``
    (sorted ascending, within ``max_pair_km`` and not forbidden); ``affinity`` aligns with
    ``indices``.
    """

    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    affinity: NDArray[np.float64]

    def of(self, i: int) -> NDArray[np.int64]:
        """Compatible partners of firm ``i``."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    @property
    def degree(self) -> NDArray[np.int64]:
        """Number of compatible partners per firm."""
        return np.diff(self.indptr)


@dataclass(frozen=True)
class Objective:
    """An objective value: firms placed, then total within-group affinity."""

    placed: int
    affinity: float


_NEEDS: WeakKeyDictionary[Instance, NDArray[np.float64]] = WeakKeyDictionary()
_PAIRS: WeakKeyDictionary[Instance, PairGraph] = WeakKeyDictionary()


def need_matrix(instance: Instance) -> NDArray[np.float64]:
    """Rank-weighted need vectors, shape ``(n_firms, n_needs)`` (zeros without needs).

    Computed once per instance and read-only: scoring one group's pairs must not cost a
    pass over the whole cohort.
    """
    mat = _NEEDS.get(instance)
    if mat is None:
        mat = _NEEDS[instance] = build_need_matrix(instance)
    return mat


def pair_graph(instance: Instance) -> PairGraph:
    """The compatible-pair graph of ``instance`` (:func:`compatible_pairs`), built once."""
    graph = _PAIRS.get(instance)
    if graph is None:
        graph = _PAIRS[instance] = compatible_pairs(instance)
    return graph


def build_need_matrix(instance: Instance) -> NDArray[np.float64]:
    """Compute :func:`need_matrix` (uncached)."""
    mat = np.zeros((instance.n_firms, max(instance.n_needs, 1)), np.float64)
    for i, row in enumerate(instance.needs or ()):
        for rank, t in enumerate(row):
            mat[i, t] = RANK_WEIGHTS[min(rank, len(RANK_WEIGHTS) - 1)]
    mat.flags.writeable = False
    return mat


def _pair_keys(pairs: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    return np.sort(np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1]))


def _in_pairs(
    pairs: NDArray[np.int64], n: int, i: NDArray[np.int64], j: NDArray[np.int64]
) -> NDArray[np.bool_]:
    if len(pairs) == 0:
        return np.zeros(len(i), bool)
    keys = _pair_keys(pairs, n)
    q = np.minimum(i, j) * n + np.maximum(i, j)
    pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
    return np.asarray(keys[pos] == q)


def affinity_of_pairs(
    instance: Instance,
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    needs: NDArray[np.float64] | None = None,
    chunk: int = 200_000,
) -> NDArray[np.float64]:
    """Affinity of each pair ``(i[k], j[k])`` (see the module docstring).

    Parameters
    ----------
    instance
        The instance.
    i, j
        Firm indices of equal length.
    needs
        Precomputed :func:`need_matrix` (computed when omitted).
    chunk
        Pairs scored per vectorised block (bounds memory).

    Returns
    -------
    numpy.ndarray
        One float per pair.
    """
    i = np.asarray(i, np.int64)
    j = np.asarray(j, np.int64)
    if instance.affinity_matrix is not None:
        return np.asarray(instance.affinity_matrix[i, j], np.float64)
    w = instance.affinity_weights
    out = np.zeros(len(i), np.float64)
    if instance.needs is not None and w.need > 0:
        vec = need_matrix(instance) if needs is None else needs
        for s in range(0, len(i), chunk):
            a, b = vec[i[s : s + chunk]], vec[j[s : s + chunk]]
            den = np.maximum(a, b).sum(axis=1)
            num = np.minimum(a, b).sum(axis=1)
            out[s : s + chunk] += w.need * terms.need_similarity(num, den)
    if instance.employees is not None and w.size > 0:
        emp = instance.employees
        log_emp = np.log1p(emp.astype(np.float64))
        out += w.size * terms.size_similarity(log_emp[i], log_emp[j])
    if instance.digital_levels is not None and w.digital > 0:
        lv = instance.digital_levels
        out += w.digital * terms.digital_similarity(lv[i], lv[j])
    if w.partner > 0 and len(instance.partners):
        out += w.partner * _in_pairs(instance.partners, instance.n_firms, i, j)
    if w.distance > 0 and instance.max_pair_km is not None:
        assert instance.lats is not None and instance.lons is not None
        lat, lon = instance.lats, instance.lons
        km = np.asarray(haversine_km(lat[i], lon[i], lat[j], lon[j]), np.float64)
        out -= w.distance * terms.distance_penalty(km, instance.max_pair_km)
    return out


def _dense_pairs(instance: Instance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """All directed pairs of a small instance without a radius (CCP, tests)."""
    n = instance.n_firms
    if n > MAX_DENSE_FIRMS:
        raise InvalidInstanceError(
            "max_pair_km", f"needed (with coordinates) for more than {MAX_DENSE_FIRMS} firms"
        )
    src, dst = np.nonzero(~np.eye(n, dtype=bool))
    return src.astype(np.int64), dst.astype(np.int64)


def _all_block_pairs(
    instance: Instance,
    start: int,
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    needs: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Scored unordered pairs ``src < dst`` of one block of rows (no cap), forbidden removed.

    Each pair is taken from the lower index's row, measured as the verifier does.
    """
    src = np.repeat(np.arange(start, start + len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    keep = src < indices
    if len(instance.forbidden):
        keep &= ~_in_pairs(instance.forbidden, instance.n_firms, src, indices)
    src, dst = src[keep], indices[keep]
    return src, dst, affinity_of_pairs(instance, src, dst, needs)


def _feature_arrays(
    instance: Instance,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64],
           NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """Sparse rank-weighted needs and the other affinity features for the top-k kernel."""
    n, w = instance.n_firms, instance.affinity_weights
    rows = instance.needs or tuple(() for _ in range(n))
    need_ptr = np.zeros(n + 1, np.int64)
    np.cumsum([len(r) for r in rows], out=need_ptr[1:])
    need_idx = np.array([t for r in rows for t in r], np.int64)
    last = len(RANK_WEIGHTS) - 1
    need_w = np.array([RANK_WEIGHTS[min(q, last)] for r in rows for q in range(len(r))])
    emp = instance.employees
    log_emp = np.zeros(n) if emp is None else np.log1p(emp.astype(np.float64))
    lv = instance.digital_levels
    level = np.zeros(n) if lv is None else lv.astype(np.float64)
    weights = np.array(
        [
            w.need if instance.needs is not None else 0.0,
            w.size if emp is not None else 0.0,
            w.digital if lv is not None else 0.0,
            w.distance,
            SIZE_SCALE,
            instance.max_pair_km or 1.0,
        ]
    )
    return need_ptr, need_idx, need_w.astype(np.float64), log_emp, level, weights


def split_zones(instance: Instance) -> NDArray[np.int64]:
    """Per firm one label combining every :class:`~matching.core.primitives.PairSplit`.

    Two firms have equal labels exactly when every split lets them share a group (all
    zeros when no rule splits the instance).
    """
    splits = registry.primitives(instance).splits
    if not splits:
        return np.zeros(instance.n_firms, np.int64)
    stacked = np.stack([s.labels for s in splits], axis=1)
    _, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return np.ascontiguousarray(inverse.reshape(-1), np.int64)


def _top_k_pairs(
    instance: Instance, k: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Unordered pairs kept by either firm's top-``k`` by affinity, forbidden removed.

    Partners that a pair split forbids are dropped before ranking (:func:`split_zones`).
    """

    assert instance.lats is not None and instance.lons is not None
    assert instance.max_pair_km is not None
    n = instance.n_firms
    features = _feature_arrays(instance)
    zone = split_zones(instance)
    keys = []
    for start, block in iter_neighbourhood_blocks(
        instance.lats, instance.lons, instance.max_pair_km, exact=True
    ):
        src, dst = top_k_block(
            start, block.indptr, block.indices, block.distances_km, *features, zone,
            max(instance.n_needs, 1), k,
        )  # fmt: skip
        keys.append(np.minimum(src, dst) * n + np.maximum(src, dst))
    key = np.sort(np.concatenate(keys))  # sort + compare: numpy's hash unique was slow
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    lo, hi = key // n, key % n
    if len(instance.forbidden):
        keep = ~_in_pairs(instance.forbidden, n, lo, hi)
        lo, hi = lo[keep], hi[keep]
    return lo, hi, affinity_of_pairs(instance, lo, hi)


def _radius_pairs(
    instance: Instance,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Unordered compatible pairs ``lo < hi`` within the radius, each once, with affinity.

    The radius lists come block by block from geodata, so memory stays proportional to the
    pairs kept, not to all pairs within the radius (49.8 M entries at 10,000 firms).
    """

    assert instance.lats is not None and instance.lons is not None
    assert instance.max_pair_km is not None
    if instance.max_neighbours is not None:
        return _top_k_pairs(instance, instance.max_neighbours)
    needs = need_matrix(instance)
    parts = [
        _all_block_pairs(instance, start, block.indptr, block.indices.astype(np.int64), needs)
        for start, block in iter_neighbourhood_blocks(
            instance.lats, instance.lons, instance.max_pair_km, exact=True
        )
    ]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def neighbour_cap(n_firms: int, max_size: int) -> int | None:
    """The automatic neighbour cap for a cohort (or a regional window) of ``n_firms``.

    Parameters
    ----------
    n_firms
        Firms solved together.
    max_size
        Largest group size.

    Returns
    -------
    int or None
        ``None`` (no cap) up to 3,000 firms, 600 up to 20,000, else 300; at least
        ``4 * max_size``.  Keeps the pair graph of 50,000 firms in a few hundred MB
        (:func:`matching.sme.build.auto_max_neighbours`, the regional windows).
    """
    if n_firms <= 3000:
        return None
    cap = 600 if n_firms <= 20000 else 300
    return max(cap, 4 * max_size)


def compatible_pairs(instance: Instance) -> PairGraph:
    """Build the CSR graph of pairs that may share a group, with their affinity.

    With ``max_neighbours`` set, each firm keeps its ``max_neighbours`` compatible partners
    of highest affinity within the radius (not the nearest: at 10,000 firms the 300
    nearest halved the mean need-Jaccard of the groups), and a pair is kept when either
    firm keeps it, so the graph stays symmetric.

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    PairGraph
        Pairs within ``max_pair_km`` (exact geodesic) and not forbidden, both directions.
    """
    n = instance.n_firms
    if instance.max_pair_km is not None and n:
        lo, hi, aff = _radius_pairs(instance)
        src, dst = np.concatenate([lo, hi]), np.concatenate([hi, lo])
        aff = np.concatenate([aff, aff])
    else:
        src, dst = _dense_pairs(instance)
        if len(instance.forbidden):
            keep = ~_in_pairs(instance.forbidden, n, src, dst)
            src, dst = src[keep], dst[keep]
        aff = affinity_of_pairs(instance, src, dst)
    prims = registry.primitives(instance)
    if prims.splits and len(src):
        keep = prims.allows(src, dst)
        src, dst, aff = src[keep], dst[keep], aff[keep]
    order = np.argsort(src * max(n, 1) + dst)  # keys are unique: one int sort beats lexsort
    src, dst, aff = src[order], dst[order], aff[order]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return PairGraph(indptr, dst, aff)


def evaluate(instance: Instance, solution: Solution) -> Objective:
    """Recompute the objective of a solution from scratch.

    Parameters
    ----------
    instance
        The instance.
    solution
        Any solution (feasibility is not checked here; see :func:`matching.core.verify`).

    Returns
    -------
    Objective
        Distinct firms placed and the within-group affinity (summed by the instance's
        ``group_score``, see the module docstring).
    """
    placed = len({i for g in solution.groups for i in g})
    if instance.group_score == "member_mean":
        return Objective(placed, float(group_values(instance, solution.groups).sum()))
    values, _ = _member_pairs(instance, solution.groups)
    return Objective(placed, float(values.sum()))


def group_values(instance: Instance, groups: Sequence[Sequence[int]]) -> NDArray[np.float64]:
    """Each group's share of the objective: its pair sum, scaled by ``group_score``.

    Parameters
    ----------
    instance
        The instance (its ``group_score`` decides the scaling).
    groups
        Member firm indices per group.

    Returns
    -------
    numpy.ndarray
        One float per group: the pair sum (``pair_sum``) or ``2 / (size - 1)`` times it
        (``member_mean``; 0 for groups of fewer than two).
    """
    sums = group_pair_sums(instance, groups)
    if instance.group_score != "member_mean":
        return sums
    sizes = np.array([len(g) for g in groups], np.int64)
    return np.asarray(terms.group_value(sums, sizes, True), np.float64)


def group_pair_sums(instance: Instance, groups: Sequence[Sequence[int]]) -> NDArray[np.float64]:
    """Sum of pairwise affinity within each group, all groups in one vectorised call.

    Parameters
    ----------
    instance
        The instance.
    groups
        Member firm indices per group.

    Returns
    -------
    numpy.ndarray
        One float per group (0 for groups of fewer than two).
    """
    out = np.zeros(len(groups), np.float64)
    values, owner = _member_pairs(instance, groups)
    np.add.at(out, owner, values)
    return out


def _member_pairs(
    instance: Instance, groups: Sequence[Sequence[int]]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Affinity of every member pair of every group (one call), and each pair's group."""
    lo: list[NDArray[np.int64]] = []
    hi: list[NDArray[np.int64]] = []
    owner: list[NDArray[np.int64]] = []
    for k, g in enumerate(groups):
        if len(g) < 2:
            continue
        a, b = np.triu_indices(len(g), k=1)
        members = np.asarray(g, np.int64)
        lo.append(members[a])
        hi.append(members[b])
        owner.append(np.full(len(a), k, np.int64))
    if not lo:
        return np.zeros(0, np.float64), np.zeros(0, np.int64)
    needs = need_matrix(instance) if instance.affinity_matrix is None else None
    values = affinity_of_pairs(instance, np.concatenate(lo), np.concatenate(hi), needs)
    return values, np.concatenate(owner)
