"""Cut a large instance into regional windows small enough for the dense search state."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.core.problem import Instance

WINDOW_MAX = 1500
"""Largest window handed to the dense engines (``m x m`` matrices of this size are cheap)."""


def split_regions(
    instance: Instance, firms: NDArray[np.int64], limit: int = WINDOW_MAX
) -> list[NDArray[np.int64]]:
    """Split ``firms`` into windows of at most ``limit`` firms by recursive median cuts.

    Each cut halves the window along its longer geographic extent (longitude scaled by
    the cosine of the latitude), so windows are compact regions.  Without coordinates the
    firms stay in one window.

    Parameters
    ----------
    instance
        The instance (coordinates are read from it).
    firms
        Global indices to split.
    limit
        Maximum window size.

    Returns
    -------
    list of numpy.ndarray
        Disjoint sorted index arrays covering ``firms``.
    """
    if len(firms) <= limit or instance.lats is None or instance.lons is None:
        return [np.sort(firms)]
    lat, lon = instance.lats[firms], instance.lons[firms]
    x = lon * np.cos(np.radians(float(np.mean(lat))))
    axis = lat if np.ptp(lat) >= np.ptp(x) else x
    order = np.argsort(axis, kind="mergesort")
    half = len(firms) // 2
    return split_regions(instance, firms[order[:half]], limit) + split_regions(
        instance, firms[order[half:]], limit
    )
