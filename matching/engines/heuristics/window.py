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
from matching.core.objective import need_matrix, pair_graph
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
    weights, has_need, division
        Per local firm: weight, need membership ``(m, n_needs)``, division code (0-based).
    fixed
        1 for firms that may not move (pinned).
    theme_ok
        1 for need indices allowed as a theme (all 1 when themes are not required).
    req
        ``req[s]``: members that must have the theme in a group of ``s`` (0 without themes).
    member_mean
        Groups are scored ``member_mean`` (see :mod:`matching.core.objective`).
    """

    firms: NDArray[np.int64]
    aff: NDArray[np.float64]
    compat: NDArray[np.uint8]
    indptr: NDArray[np.int64]
    nbr: NDArray[np.int64]
    nbr_aff: NDArray[np.float64]
    weights: NDArray[np.int64]
    has_need: NDArray[np.uint8]
    division: NDArray[np.int64]
    n_divisions: int
    fixed: NDArray[np.uint8]
    theme_ok: NDArray[np.uint8]
    req: NDArray[np.int64]
    min_size: int
    max_size: int
    min_weight: int
    max_weight: int
    max_div: int
    themed: bool
    require_all: bool
    member_mean: bool = False

    @property
    def m(self) -> int:
        """Number of firms in the window."""
        return len(self.firms)


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
    if instance.divisions is not None:
        _, division = np.unique(instance.divisions[firms], return_inverse=True)
    else:
        division = np.zeros(m, np.int64)
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
        division=division.astype(np.int64),
        n_divisions=int(division.max()) + 1 if m else 1,
        fixed=pinned[firms].astype(np.uint8),
        theme_ok=theme_ok,
        req=req,
        min_size=instance.min_size or 1,
        max_size=max_size,
        min_weight=instance.min_weight if instance.min_weight is not None else 0,
        max_weight=instance.max_weight if instance.max_weight is not None else UNBOUNDED,
        max_div=instance.max_same_division or UNBOUNDED,
        themed=instance.theme_required,
        require_all=instance.require_all,
        member_mean=instance.group_score == "member_mean",
    )
