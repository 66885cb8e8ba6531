"""A window: a subset of firms as dense arrays, the common input of the search engines.

The local search (numba) and the CP-SAT sub-solver work on windows of at most a few
thousand firms, where dense ``m x m`` matrices are cheap; a whole SME instance is never
made dense (large instances are cut into regional windows by :mod:`matching.engines.solve`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.core import constraints as c
from matching.core import registry
from matching.core.objective import need_matrix, pair_graph
from matching.core.primitives import CountCap
from matching.core.problem import Instance

UNBOUNDED = 1 << 40


@dataclass(frozen=True)
class Window:
    """Dense view of the firms ``firms`` (global indices) of an instance.

    Attributes
    ----------
    firms
        Global index of each local firm.
    aff
        Affinity between local firms, ``0`` where incompatible, shape ``(m, m)``.
    compat
        1 where two local firms may share a group, shape ``(m, m)``.
    indptr, nbr, nbr_aff
        The same compatible pairs as CSR (local indices), for sparse loops.
    weights, has_need
        Per local firm: weight, need membership ``(m, n_needs)``.
    cap_labels, cap_limit, n_cap_labels
        The count caps (:func:`count_caps`) that can bind in this window: ``cap_labels[i, k]``
        is local firm ``i``'s label column for cap ``k`` (columns ``0..n_cap_labels-1`` are
        shared by all caps; -1: not counted), ``cap_limit[k]`` the cap.  Shape ``(m, K)``.
    fixed
        1 for firms that may not move (pinned).
    theme_ok
        1 for need indices allowed as a theme (all 1 when themes are not required).
    req
        ``req[s]``: members that must have the theme in a group of ``s`` (0 without themes).
    member_mean
        Groups are scored ``member_mean`` (see :mod:`matching.core.objective`).
    instance
        The instance the window was cut from (rules' own CP-SAT encodings read its raw data).
    """

    firms: NDArray[np.int64]
    aff: NDArray[np.float64]
    compat: NDArray[np.uint8]
    indptr: NDArray[np.int64]
    nbr: NDArray[np.int64]
    nbr_aff: NDArray[np.float64]
    weights: NDArray[np.int64]
    has_need: NDArray[np.uint8]
    cap_labels: NDArray[np.int64]
    cap_limit: NDArray[np.int64]
    n_cap_labels: int
    fixed: NDArray[np.uint8]
    theme_ok: NDArray[np.uint8]
    req: NDArray[np.int64]
    min_size: int
    max_size: int
    min_weight: int
    max_weight: int
    themed: bool
    require_all: bool
    member_mean: bool = False
    instance: Instance | None = None

    @property
    def m(self) -> int:
        """Number of firms in the window."""
        return len(self.firms)


def count_caps(instance: Instance) -> tuple[CountCap, ...]:
    """Every count cap of ``instance``: those its registered rules compile into."""
    return registry.primitives(instance).caps


def _window_caps(
    caps: tuple[CountCap, ...], firms: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """Label columns of the caps that can bind among ``firms`` (see :class:`Window`).

    A cap none of whose labels occurs more than ``limit`` times among the window's firms can
    never be broken there, so it is left out (the kernels then skip it).
    """
    columns: list[NDArray[np.int64]] = []
    limits: list[int] = []
    offset = 0
    for cap in caps:
        sub = cap.labels[firms]
        counted = sub >= 0
        values, inverse, counts = np.unique(sub[counted], return_inverse=True, return_counts=True)
        if not len(counts) or counts.max() <= cap.limit:
            continue
        col = np.full(len(firms), -1, np.int64)
        col[counted] = offset + inverse.reshape(-1)
        columns.append(col)
        limits.append(cap.limit)
        offset += len(values)
    labels = np.stack(columns, axis=1) if columns else np.zeros((len(firms), 0), np.int64)
    return np.ascontiguousarray(labels), np.array(limits, np.int64), max(offset, 1)


def make_window(instance: Instance, firms: NDArray[np.int64], pinned: NDArray[np.bool_]) -> Window:
    """Extract the dense window of ``firms`` from ``instance``.

    Parameters
    ----------
    instance
        The instance.
    firms
        Global indices (ascending) of the firms the search may place.
    pinned
        Global per-firm flag of firms that may not move.

    Returns
    -------
    Window
        Dense arrays for the engines.
    """
    firms = np.asarray(firms, np.int64)
    m = len(firms)
    local = np.full(instance.n_firms, -1, np.int64)
    local[firms] = np.arange(m)
    pg = pair_graph(instance)
    rows = np.repeat(np.arange(instance.n_firms, dtype=np.int64), pg.degree)
    keep = (local[rows] >= 0) & (local[pg.indices] >= 0)
    src, dst, val = local[rows[keep]], local[pg.indices[keep]], pg.affinity[keep]
    aff = np.zeros((m, m), np.float64)
    compat = np.zeros((m, m), np.uint8)
    aff[src, dst] = val
    compat[src, dst] = 1
    indptr = np.zeros(m + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=m), out=indptr[1:])
    order = np.lexsort((dst, src))
    has_need = (need_matrix(instance)[firms] > 0).astype(np.uint8)
    theme_ok = np.ones(has_need.shape[1], np.uint8)
    if instance.allowed_themes is not None:
        theme_ok[:] = 0
        theme_ok[list(instance.allowed_themes)] = 1
    max_size = instance.max_size if instance.max_size is not None else m
    req = np.array(
        [
            c.required_theme_count(instance.min_theme_share, s) if instance.theme_required else 0
            for s in range(max_size + 2)
        ],
        np.int64,
    )
    cap_labels, cap_limit, n_cap_labels = _window_caps(count_caps(instance), firms)
    assert instance.weights is not None
    return Window(
        firms=firms,
        aff=aff,
        compat=compat,
        indptr=indptr,
        nbr=dst[order],
        nbr_aff=val[order],
        weights=instance.weights[firms].astype(np.int64),
        has_need=np.ascontiguousarray(has_need),
        cap_labels=cap_labels,
        cap_limit=cap_limit,
        n_cap_labels=n_cap_labels,
        fixed=pinned[firms].astype(np.uint8),
        theme_ok=theme_ok,
        req=req,
        min_size=instance.min_size or 1,
        max_size=max_size,
        min_weight=instance.min_weight if instance.min_weight is not None else 0,
        max_weight=instance.max_weight if instance.max_weight is not None else UNBOUNDED,
        themed=instance.theme_required,
        require_all=instance.require_all,
        member_mean=instance.group_score == "member_mean",
        instance=instance,
    )
