"""The CCPLIB benchmark behind ``kring bench ccp``: solve, verify, compare to best-known."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bench.ccplib import CcpFile, find_instances, read_ccp
from matching.core.params import SolveParams
from matching.core.verify import verify
from matching.engines.heuristics import ccp_search
from matching.engines.solve import solve


def best_known() -> dict[str, float]:
    """Best-known objective values shipped in ``bench/data/ccp_best_known.json``."""
    text = resources.files("bench").joinpath("data/ccp_best_known.json").read_text("utf-8")
    raw = json.loads(text)
    return {k: float(v) for k, v in raw.items() if not k.startswith("_")}


@dataclass(frozen=True)
class BenchRow:
    """One benchmark line."""

    name: str
    objective: float | None
    best_known: float | None
    seconds: float
    verified: bool

    @property
    def gap_pct(self) -> float | None:
        """Signed gap to best-known in percent (negative = below best-known)."""
        if self.objective is None or self.best_known is None:
            return None
        return 100.0 * (self.objective - self.best_known) / abs(self.best_known)

    def line(self) -> str:
        """``name objective best_known gap_pct% seconds``."""
        obj = "-" if self.objective is None else f"{self.objective:.2f}"
        best = "-" if self.best_known is None else f"{self.best_known:.2f}"
        gap = "-" if self.gap_pct is None else f"{self.gap_pct:+.3f}%"
        return f"{self.name} {obj} {best} {gap} {self.seconds:.1f}"


def select(directory: Path, names: list[str]) -> list[CcpFile]:
    """Instances in ``directory`` matching ``names`` (all when empty).

    Parameters
    ----------
    directory
        Folder with CCPLIB zips or text files.
    names
        Instance names (``RanReal240_01``) or prefixes (``Sparse82``).

    Returns
    -------
    list of CcpFile
        The selected instances, sorted by name.

    Raises
    ------
    FileNotFoundError
        If a name matches no instance.
    """
    files = find_instances(directory)
    if not names:
        return files
    chosen: list[CcpFile] = []
    for name in names:
        hits = [f for f in files if f.name == name or f.name.startswith(name)]
        if not hits:
            raise FileNotFoundError(f"no CCPLIB instance named {name!r} in {directory}")
        chosen += [f for f in hits if f not in chosen]
    return chosen


def run(
    files: list[CcpFile], time_limit_s: float, seed: int, workers: int = 1
) -> Iterator[BenchRow]:
    """Solve each instance and yield its row (verified independently).

    Parameters
    ----------
    files
        Instances to run.
    time_limit_s
        Time limit per instance.
    seed
        Solver seed.
    workers
        Processes per instance (``SolveParams.workers``: populations of the CCP search).

    Yields
    ------
    BenchRow
        One row per instance, in order.
    """
    known = best_known()
    ccp_search.warm_up()  # numba kernels loaded before the first instance's clock starts
    for f in files:
        instance = read_ccp(f)
        result = solve(instance, SolveParams(time_limit_s=time_limit_s, seed=seed, workers=workers))
        ok = result.solution is not None and verify(instance, result.solution) == []
        yield BenchRow(
            f.name, result.affinity if ok else None, known.get(f.name), result.runtime_s, ok
        )


def summary(rows: list[BenchRow]) -> str:
    """Averages and the unverified count."""
    gaps = [r.gap_pct for r in rows if r.gap_pct is not None]
    mean_gap = f"{sum(gaps) / len(gaps):+.3f}%" if gaps else "-"
    mean_s = sum(r.seconds for r in rows) / max(len(rows), 1)
    unverified = sum(not r.verified for r in rows)
    return (
        f"summary instances={len(rows)} mean_gap={mean_gap} (over {len(gaps)} with best-known) "
        f"mean_seconds={mean_s:.1f} unverified={unverified}"
    )
