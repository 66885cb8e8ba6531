"""Reader for CCPLIB capacitated-clustering instances (RanReal, Sparse, ...).

Format: line 1 ``n p ds L_1 U_1 ... L_p U_p W w_1 ... w_n``; then ``i j c_ij`` lines
(0-based, ``i < j``); unlisted pairs have weight 0.  An instance becomes an
:class:`~matching.core.problem.Instance` with node weights, ``p`` groups with weight bounds
``[L, U]``, ``require_all`` and the dense matrix ``c`` as affinity (all pairs compatible).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.core.errors import InstanceFormatError
from matching.core.problem import Instance


@dataclass(frozen=True)
class CcpFile:
    """Where one CCPLIB instance lives: a plain file, or a member of a zip archive."""

    name: str
    path: Path
    member: str | None = None

    def read_text(self) -> str:
        """The instance text."""
        if self.member is None:
            return self.path.read_text(encoding="ascii")
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(self.member).decode("ascii")


def find_instances(directory: Path) -> list[CcpFile]:
    """All ``.txt`` instances in ``directory`` and in its ``.zip`` archives, sorted by name.

    Parameters
    ----------
    directory
        Folder with CCPLIB ``.zip`` archives and/or extracted ``.txt`` files.

    Returns
    -------
    list of CcpFile
        One entry per instance; a name found twice is kept once (the zip member).
    """
    found: dict[str, CcpFile] = {}
    for txt in sorted(directory.glob("*.txt")):
        found[txt.stem] = CcpFile(txt.stem, txt)
    for archive in sorted(directory.glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if member.endswith(".txt"):
                    stem = Path(member).stem
                    found[stem] = CcpFile(stem, archive, member)
    return [found[k] for k in sorted(found)]


def parse_ccp(text: str, source: str = "<text>") -> Instance:
    """Parse CCPLIB text into an instance.

    Parameters
    ----------
    text
        The file content.
    source
        Name used in error messages.

    Returns
    -------
    Instance
        Weighted-capacity instance with ``n_groups = p`` and ``require_all``.

    Raises
    ------
    InstanceFormatError
        If the header or a pair line is malformed, or cluster bounds differ (unsupported).
    """
    lines = text.strip().splitlines()
    if not lines:
        raise InstanceFormatError(source, "empty file")
    head = lines[0].split()
    try:
        n, p = int(head[0]), int(head[1])
        bounds = [int(float(x)) for x in head[3 : 3 + 2 * p]]
        if head[2] != "ds" or head[3 + 2 * p] != "W":
            raise ValueError("expected 'ds' and 'W' markers")
        weights = np.array([int(float(x)) for x in head[4 + 2 * p : 4 + 2 * p + n]], np.int64)
        if len(weights) != n:
            raise ValueError(f"expected {n} node weights, got {len(weights)}")
    except (ValueError, IndexError) as exc:
        raise InstanceFormatError(source, f"line 1: {exc}") from exc
    lows, highs = set(bounds[0::2]), set(bounds[1::2])
    if len(lows) != 1 or len(highs) != 1:
        raise InstanceFormatError(source, "cluster-specific bounds are not supported")
    try:
        pairs = np.loadtxt(lines[1:], dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise InstanceFormatError(source, f"pair lines: {exc}") from exc
    mat = np.zeros((n, n), np.float64)
    if pairs.size:
        if pairs.shape[1] != 3:
            raise InstanceFormatError(source, "pair lines must be 'i j c_ij'")
        i, j = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
        if i.min() < 0 or max(i.max(), j.max()) >= n or np.any(i == j):
            raise InstanceFormatError(source, "pair index out of range")
        mat[i, j] = pairs[:, 2]
        mat[j, i] = pairs[:, 2]
    return Instance(
        n_firms=n,
        weights=weights,
        min_weight=lows.pop(),
        max_weight=highs.pop(),
        n_groups=p,
        require_all=True,
        affinity_matrix=mat,
    )


def read_ccp(source: CcpFile | Path | str) -> Instance:
    """Read one CCPLIB instance from a ``.txt`` file or a :class:`CcpFile` zip member.

    Parameters
    ----------
    source
        An extracted file path or a :class:`CcpFile`.

    Returns
    -------
    Instance
        See :func:`parse_ccp`.
    """
    ref = source if isinstance(source, CcpFile) else CcpFile(Path(source).stem, Path(source))
    return parse_ccp(ref.read_text(), str(ref.path) + (f":{ref.member}" if ref.member else ""))
