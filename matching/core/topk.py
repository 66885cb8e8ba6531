"""Per firm, the ``k`` compatible partners of highest affinity within the radius (numba).

Used by :func:`matching.core.objective.compatible_pairs` when ``max_neighbours`` caps the pair
graph of a large cohort.  Rows of the radius lists arrive block by block from
:func:`geodata.neighbours.iter_neighbourhood_blocks`; :func:`top_k_block` scores each row's
candidates with the affinity's feature terms (need weighted Jaccard, size, digital ladder,
distance penalty: the functions of :mod:`matching.core.terms`, compiled here) and keeps
the best ``k`` among the partners in the firm's own ``zone``: pairs that a
:class:`~matching.core.primitives.PairSplit` forbids are dropped *before* ranking, so a
firm on an island keeps its ``k`` best partners on that island.  The partner bonus and
forbidden pairs are applied afterwards by the caller on the kept pairs (few), and the kept
pairs' affinity is recomputed there with :func:`matching.core.objective.affinity_of_pairs`.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from matching.core import terms

_inline = njit(inline="always")
_need = _inline(terms.need_similarity)
_size = _inline(terms.size_similarity)
_digital = _inline(terms.digital_similarity)
_distance = _inline(terms.distance_penalty)


@njit(cache=True)
def top_k_block(
    start: int,
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    km: NDArray[np.float32],
    need_ptr: NDArray[np.int64],
    need_idx: NDArray[np.int64],
    need_w: NDArray[np.float64],
    log_emp: NDArray[np.float64],
    level: NDArray[np.float64],
    weights: NDArray[np.float64],
    zone: NDArray[np.int64],
    n_needs: int,
    k: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # pragma: no cover - numba
    """Kept directed pairs ``(src, dst)`` of one block: each row's ``k`` best by affinity.

    ``weights`` = (need, size, digital, distance, size_scale, max_pair_km); ``zone``: per firm
    a label, pairs of different labels are never kept (all zeros: no split).
    """
    rows = len(indptr) - 1
    total = 0
    for r in range(rows):
        total += min(k, indptr[r + 1] - indptr[r])
    src = np.empty(total, np.int64)
    dst = np.empty(total, np.int64)
    vec = np.zeros(max(n_needs, 1), np.float64)
    out = 0
    for r in range(rows):
        i = start + r
        lo, hi = indptr[r], indptr[r + 1]
        s_i = 0.0
        for q in range(need_ptr[i], need_ptr[i + 1]):
            vec[need_idx[q]] = need_w[q]
            s_i += need_w[q]
        score = np.empty(hi - lo, np.float64)
        for e in range(lo, hi):
            j = indices[e]
            if j == i or zone[i] != zone[j]:
                score[e - lo] = -np.inf
                continue
            num, s_j = 0.0, 0.0
            for q in range(need_ptr[j], need_ptr[j + 1]):
                s_j += need_w[q]
                num += min(vec[need_idx[q]], need_w[q])
            val = weights[0] * _need(num, s_i + s_j - num)
            val += weights[1] * _size(log_emp[i], log_emp[j])
            val += weights[2] * _digital(level[i], level[j])
            val -= weights[3] * _distance(km[e], weights[5])
            score[e - lo] = val
        for q in range(need_ptr[i], need_ptr[i + 1]):
            vec[need_idx[q]] = 0.0
        length = hi - lo
        cut = -np.inf
        if length > k:  # k-th best score in linear time; ties at the cut fill the rest
            cut = np.partition(score, length - k)[length - k]
        kept = 0
        for strict in (True, False):
            for e in range(lo, hi):
                if kept == k:
                    break
                v = score[e - lo]
                if v == -np.inf or (v <= cut if strict else v != cut):
                    continue
                src[out] = i
                dst[out] = indices[e]
                out += 1
                kept += 1
    return src[:out], dst[:out]
