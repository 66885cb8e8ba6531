"""Sparse neighbourhoods: for each firm, the others within R km (optionally the K nearest).

Built with a scikit-learn ``KDTree``; never a dense nxn matrix.  The tree holds the points as
3-D unit vectors with the Euclidean (chord) metric instead of a ``BallTree`` with
``metric="haversine"``: the chord is monotone in the great-circle angle, so every radius or
K-nearest query returns the same points, but a chord costs no trigonometry.  Measured on
this 2-core machine (K = 201 nearest, 10,000 queries among 50,000 PC4-centroid points):
BallTree/haversine 1.60 s, BallTree/chord 0.73 s, KDTree/chord 0.28 s.  The candidates'
distances are the great-circle km derived from the chord, 2R·asin(chord/2), which equals
:func:`geodata.distance.haversine_km` up to float rounding (~1e-12 relative); "within R km"
means that distance <= R (or, with ``exact=True``, the WGS84 geodesic <= R).
Queries run in chunks, so peak memory grows with the pairs kept plus one chunk's worth.
The Netherlands is small: a 50 km disc holds ~16 % of firms placed like the population
(measured: 16.5 million directed entries for 10,000 firms), so the full 50 km list of
50,000 firms would hold ~400 million entries: cap it with ``k``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.neighbors import KDTree

from geodata.distance import (
    EARTH_RADIUS_KM,
    LAMBERT_RELATIVE_TOLERANCE,
    MAX_RELATIVE_GAP,
    geodesic_km_fast,
    lambert_km,
)

IntArray = npt.NDArray[np.int32]
IntpArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
_CHUNK_ENTRIES = 1_000_000  # aim for at most this many candidate entries per query chunk
_CHORD_SLACK = 1e-9  # relative: the chord query must not lose pairs to float rounding


def _unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    phi, lam = np.radians(lat), np.radians(lon)
    vectors: FloatArray = np.column_stack(
        [np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)]
    )
    return vectors


def _chord(km: float) -> float:
    """Straight-line distance through a unit sphere for a great-circle distance of ``km``."""
    return float(2.0 * np.sin(km / EARTH_RADIUS_KM / 2.0)) * (1.0 + _CHORD_SLACK)


@dataclass(frozen=True, eq=False)
class Neighbourhoods:
    """CSR adjacency: the neighbours of firm ``i`` are ``indices[indptr[i]:indptr[i+1]]``.

    Rows are sorted nearest first (ties in the tree's deterministic order) and never
    contain ``i`` itself.  ``distances_km`` holds the spherical great-circle km (as
    ``haversine_km``) of each entry, as float32 (a few mm resolution at 50 km), also when
    the set was decided by the exact geodesic.
    Without a ``k`` cap the relation is symmetric (each unordered pair appears twice);
    with a cap it need not be.  The arrays are read-only.
    """

    indptr: npt.NDArray[np.int64]
    indices: IntArray
    distances_km: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        for array in (self.indptr, self.indices, self.distances_km):
            array.setflags(write=False)

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.indptr.size - 1)

    @property
    def n_pairs(self) -> int:
        """Number of stored (directed) entries ``i → j``."""
        return int(self.indices.size)

    def of(self, i: int) -> tuple[IntArray, npt.NDArray[np.float32]]:
        """Neighbours of point ``i``, nearest first, itself excluded.

        Parameters
        ----------
        i
            Point index in ``0 … n-1``.

        Returns
        -------
        tuple[numpy.ndarray, numpy.ndarray]
            Neighbour indices (int32) and their haversine distances in km (float32).
        """
        start, stop = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[start:stop], self.distances_km[start:stop]


@dataclass(frozen=True)
class _Points:
    """The points' coordinates in degrees (the exact mode measures pairs on them)."""

    lat: FloatArray
    lon: FloatArray


def _exact_keep(
    rows: IntpArray, ids: IntpArray, km: FloatArray, points: _Points, r: float
) -> npt.NDArray[np.bool_]:
    """Keep-mask deciding "geodesic <= r" exactly.

    Haversine settles every pair more than 0.5 % from ``r``; Lambert's ellipsoidal formula
    (vectorised, ~0.1 m error) settles the band except within 1 m per 50 km of ``r``; only
    those few pairs are measured with geopy's geodesic.
    """
    keep = km <= r * (1.0 - MAX_RELATIVE_GAP)
    band = np.flatnonzero(~keep & (km <= r * (1.0 + MAX_RELATIVE_GAP)))
    if band.size == 0:
        return keep
    i, j = rows[band], ids[band]
    lat, lon = points.lat, points.lon
    approx = lambert_km(lat[i], lon[i], lat[j], lon[j])
    tolerance = r * LAMBERT_RELATIVE_TOLERANCE
    keep[band] = approx <= r - tolerance
    close = np.abs(approx - r) <= tolerance
    for position, a, b in zip(band[close], i[close], j[close], strict=True):
        keep[position] = geodesic_km_fast(lat[a], lon[a], lat[b], lon[b]) <= r
    return keep


@dataclass(frozen=True)
class _Chunk:
    counts: npt.NDArray[np.int64]
    indices: IntArray
    distances_km: npt.NDArray[np.float32]


def _sort_rows(start: int, rows: IntpArray, km: FloatArray) -> IntpArray | None:
    """Permutation sorting each row by km, or ``None`` if already sorted.

    The tree returns rows sorted by chord length and km is monotone in the chord, so this
    is a cheap check; the re-sort is a safety net.
    """
    same_row = rows[1:] == rows[:-1]
    if not np.any(same_row & (km[1:] < km[:-1])):
        return None
    scale = float(km.max()) + 1.0
    order: IntpArray = np.argsort(km + (rows - start) * scale, kind="stable")
    return order


def _finish_chunk(
    start: int,
    rows: IntpArray,
    counts: npt.NDArray[np.int64],
    ids: IntpArray,
    chords: FloatArray,
    points: _Points,
    radius_km: float,
    k: int | None,
    exact: bool,
) -> _Chunk:
    """Measure, filter, order (row, km) and cap one chunk of candidate pairs, vectorised."""
    km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chords / 2.0, 1.0))
    keep = ids != rows
    keep &= _exact_keep(rows, ids, km, points, radius_km) if exact else km <= radius_km
    rows, ids, km = rows[keep], ids[keep], km[keep]
    order = _sort_rows(start, rows, km)
    if order is not None:
        rows, ids, km = rows[order], ids[order], km[order]
    local = rows - start
    row_counts = np.bincount(local, minlength=counts.size).astype(np.int64)
    if k is not None:
        first = np.zeros(counts.size, dtype=np.int64)
        np.cumsum(row_counts[:-1], out=first[1:])
        capped = np.arange(rows.size) - first[local] < k
        ids, km = ids[capped], km[capped]
        row_counts = np.minimum(row_counts, k)
    return _Chunk(row_counts, ids.astype(np.int32), km.astype(np.float32))


def build_neighbourhoods(
    lats: npt.ArrayLike,
    lons: npt.ArrayLike,
    radius_km: float,
    *,
    k: int | None = None,
    exact: bool = False,
) -> Neighbourhoods:
    """For every point, the other points within ``radius_km``, optionally only the K nearest.

    Parameters
    ----------
    lats, lons
        Degrees, one entry per point (firm).
    radius_km
        Keep pairs at most this far apart.
    k
        If given, keep at most the ``k`` nearest within the radius for each point.
    exact
        If ``False``, "within" means haversine ≤ ``radius_km``.  If ``True``, the kept set
        is exactly "WGS84 geodesic ≤ ``radius_km``" (what the verifier checks): the tree is
        queried with a radius 0.5 % larger; pairs whose haversine lies within ±0.5 % of
        the radius are re-measured with Lambert's ellipsoidal formula, and those within
        1 m (per 50 km of radius) of the radius with the exact geodesic.

    Returns
    -------
    Neighbourhoods
        CSR structure; memory ~ 8 bytes per kept entry.

    Raises
    ------
    ValueError
        If inputs are not 1-D of equal length, ``radius_km`` is not positive or ``k < 1``.
    """
    lat = np.ascontiguousarray(lats, dtype=np.float64)
    lon = np.ascontiguousarray(lons, dtype=np.float64)
    if lat.ndim != 1 or lat.shape != lon.shape:
        raise ValueError("lats and lons must be 1-D arrays of the same length")
    if not radius_km > 0:
        raise ValueError(f"radius_km must be positive, got {radius_km}")
    if k is not None and k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    n = lat.size
    if n == 0:
        return Neighbourhoods(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))
    vectors = _unit_vectors(lat, lon)
    tree = KDTree(vectors)
    query_km = radius_km * (1.0 + MAX_RELATIVE_GAP) if exact else radius_km
    chunks = list(_query_chunks(tree, vectors, _Points(lat, lon), query_km, radius_km, k, exact))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.concatenate([c.counts for c in chunks]), out=indptr[1:])
    indices = np.concatenate([c.indices for c in chunks])
    distances = np.concatenate([c.distances_km for c in chunks])
    return Neighbourhoods(indptr, indices, distances)


def iter_neighbourhood_blocks(
    lats: npt.ArrayLike, lons: npt.ArrayLike, radius_km: float, *, exact: bool = False
) -> Iterator[tuple[int, Neighbourhoods]]:
    """Radius neighbourhoods of consecutive blocks of points, one block at a time.

    Memory stays bounded by one block (about a million entries) however dense the points
    are; callers that keep only some neighbours per point never hold the full list.

    Parameters
    ----------
    lats, lons
        Degrees, one entry per point.
    radius_km
        Keep pairs at most this far apart (see :func:`build_neighbourhoods` for ``exact``).
    exact
        Decide "geodesic <= radius_km" exactly, as :func:`build_neighbourhoods` does.

    Yields
    ------
    tuple
        ``(start, block)``: ``block.of(r)`` are the neighbours of point ``start + r``
        (global indices, nearest first).
    """
    lat = np.ascontiguousarray(lats, dtype=np.float64)
    lon = np.ascontiguousarray(lons, dtype=np.float64)
    if lat.ndim != 1 or lat.shape != lon.shape or lat.size == 0 or not radius_km > 0:
        raise ValueError("need non-empty 1-D lats/lons of equal length and radius_km > 0")
    vectors = _unit_vectors(lat, lon)
    query_km = radius_km * (1.0 + MAX_RELATIVE_GAP) if exact else radius_km
    start = 0
    points = _Points(lat, lon)
    for c in _query_chunks(KDTree(vectors), vectors, points, query_km, radius_km, None, exact):
        indptr = np.zeros(c.counts.size + 1, dtype=np.int64)
        np.cumsum(c.counts, out=indptr[1:])
        yield start, Neighbourhoods(indptr, c.indices, c.distances_km)
        start += c.counts.size


def _query_chunks(
    tree: KDTree,
    vectors: FloatArray,
    points: _Points,
    query_km: float,
    radius_km: float,
    k: int | None,
    exact: bool,
) -> Iterator[_Chunk]:
    """Query the tree in chunks; each chunk is compacted before the next one is queried."""
    n = vectors.shape[0]
    width = k + 1 if k is not None and k + 1 < n else n
    chunk = max(1, min(n, _CHUNK_ENTRIES // width))
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk]
        if width < n:
            chords, ids = tree.query(block, k=width, return_distance=True, sort_results=True)
            counts = np.full(block.shape[0], width, dtype=np.int64)
            flat_ids, flat_chords = ids.ravel(), chords.ravel()
        else:
            ids_obj, chords_obj = tree.query_radius(
                block, r=_chord(query_km), return_distance=True, sort_results=True
            )
            counts = np.fromiter((a.size for a in ids_obj), dtype=np.int64, count=len(ids_obj))
            flat_ids, flat_chords = np.concatenate(ids_obj), np.concatenate(chords_obj)
            del ids_obj, chords_obj
        rows = np.repeat(np.arange(start, start + counts.size, dtype=np.intp), counts)
        yield _finish_chunk(start, rows, counts, flat_ids, flat_chords, points, radius_km, k, exact)


def nearest_within(
    lat: FloatArray,
    lon: FloatArray,
    query_lat: FloatArray,
    query_lon: FloatArray,
    radius_km: float,
    k: int,
) -> IntpArray:
    """The up to ``k`` nearest points within ``radius_km`` of each query point.

    Great-circle radius (chord on the unit sphere, as in :func:`build_neighbourhoods`).

    Parameters
    ----------
    lat, lon
        The points, degrees (WGS84).
    query_lat, query_lon
        The query points, degrees.
    radius_km
        Largest great-circle distance.
    k
        Most neighbours per query point.

    Returns
    -------
    ndarray of intp, shape ``(len(query_lat), min(k, len(lat)))``
        Row ``q``: indices into ``lat`` nearest first; ``-1`` where fewer lie within reach.
    """
    width = min(k, len(lat))
    if width < 1 or not len(query_lat):
        return np.full((len(query_lat), max(width, 0)), -1, np.intp)
    tree = KDTree(_unit_vectors(lat, lon))
    chord, index = tree.query(_unit_vectors(query_lat, query_lon), k=width)
    out: IntpArray = np.asarray(index, np.intp).reshape(len(query_lat), width)
    out[np.asarray(chord).reshape(out.shape) > _chord(radius_km)] = -1
    return out


def count_within(
    lat: FloatArray,
    lon: FloatArray,
    query_lat: FloatArray,
    query_lon: FloatArray,
    radius_km: float,
) -> npt.NDArray[np.int64]:
    """How many points lie within ``radius_km`` of each query point (a query point counts
    itself when it is among the points).

    Great-circle radius via the chord on the unit sphere (as :func:`nearest_within`, with
    the same tiny outward slack, so a point at exactly ``radius_km`` is never missed).
    Counts only: no neighbour lists are built, so dense areas cost no memory.

    Parameters
    ----------
    lat, lon
        The points, degrees (WGS84).
    query_lat, query_lon
        The query points, degrees.
    radius_km
        Largest great-circle distance.

    Returns
    -------
    ndarray of int64, shape ``(len(query_lat),)``
    """
    if not len(lat) or not len(query_lat):
        return np.zeros(len(query_lat), np.int64)
    tree = KDTree(_unit_vectors(lat, lon))
    counts = tree.query_radius(
        _unit_vectors(query_lat, query_lon), r=_chord(radius_km), count_only=True
    )
    return np.asarray(counts, np.int64)
