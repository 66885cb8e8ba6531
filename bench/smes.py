"""``kring bench smes``: kring vs k-means-constrained on generated cohorts.

Each (size, purpose, method) case runs in a fresh child process, so ``peak_mb`` is that
process's peak resident memory (including Python and library imports, ~200 MB) and the
cases do not disturb each other.  Both methods are judged by the same verifier
(:func:`matching.core.verify.verify`) on the same instance.

k-means-constrained (Levy-Kassab et al.) clusters points made of coordinates in km plus
the need vector scaled by ``NEED_SCALE_KM`` (sharing a need "costs" like being that much
closer), with ``size_min``/``size_max`` = the run's group sizes and ``n_clusters =
round(n / mean size)``; it places every firm, so its groups may break the distance,
competitor and theme rules: each broken group is counted.  Its theme per group is the
most common allowed need (``matching.core.constraints.best_theme``).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any, cast

import numpy as np

from matching.core.errors import UnverifiedSolutionError
from matching.core.problem import GroupScore
from matching.sme.build import build_instance
from matching.sme.fields import SME_AFFINITY
from matching.sme.generate import generate_cohort
from matching.sme.report import mean_need_jaccard
from matching.sme.settings import Purpose, RunSettings

NEED_SCALE_KM = 25.0
KMEANS_MAX_ARCS = 30_000_000  # n_firms * n_clusters above this: the min-cost flow is too big


@dataclass
class BenchRow:
    """One measured case."""

    method: str
    purpose: str
    n: int
    group_score: str = ""
    groups: int = 0
    placed: int = 0
    coverage: float = 0.0
    bound: int | None = None
    valid_coverage: float = 0.0  # share of firms in groups without any violation
    violation_groups: dict[str, int] = field(default_factory=dict)
    mean_need_jaccard: float = 0.0
    seconds: float = 0.0
    peak_mb: float = 0.0
    note: str = ""


def default_time_limit(n: int) -> float:
    """Seconds per cohort size (the whole call): 15 s up to 2,000, 45 s up to 10,000, else
    240 s (windowed above 20,000 firms: 4 min placed 49,824 of 50,000 peer firms, 1 min
    49,780)."""
    return 15.0 if n <= 2000 else 45.0 if n <= 10_000 else 240.0


def run_settings(
    purpose: str, time_limit: float, seed: int, group_score: str | None = None,
    reach: str | None = None, distance: float | None = None,
) -> RunSettings:  # fmt: skip
    """kring's settings of a bench case (``None``: that setting's default; ``distance`` is
    the compactness weight ``affinity.distance``)."""
    p: Purpose = "peer" if purpose == "peer" else "training"
    score = cast(GroupScore | None, group_score)
    options = {} if reach is None else {"reach": reach}
    weights = SME_AFFINITY if distance is None else replace(SME_AFFINITY, distance=distance)
    return RunSettings(purpose=p, time_limit_s=time_limit, seed=seed, group_score=score,
                       options=options, affinity=weights)  # fmt: skip


def _kring(row: BenchRow, seed: int, time_limit: float, reach: str | None = None) -> None:
    from matching.sme.pipeline import solve_firms

    cohort = generate_cohort(row.n, seed=seed)
    settings = run_settings(row.purpose, time_limit, seed, row.group_score or None, reach)
    row.group_score = str(settings.group_score)
    started = time.perf_counter()
    try:
        report = solve_firms(cohort.firms, cohort.competitors, cohort.partners, settings)
    except UnverifiedSolutionError as exc:
        row.violation_groups = dict(Counter(v.kind for v in exc.violations))
        row.note = "solver returned violations"
        row.seconds = time.perf_counter() - started
        return
    row.seconds = time.perf_counter() - started
    s = report.stats
    row.groups, row.placed, row.coverage = s["groups"], s["placed"], s["coverage"]
    row.bound, row.valid_coverage = s["upper_bound_placed"], s["coverage"]
    row.mean_need_jaccard = s["mean_need_jaccard"]


def _kmeans(row: BenchRow, seed: int) -> None:
    from k_means_constrained import KMeansConstrained

    from matching.core.constraints import best_theme
    from matching.core.solution import Solution
    from matching.core.verify import verify

    cohort = generate_cohort(row.n, seed=seed)
    settings = run_settings(row.purpose, 1.0, seed)
    row.group_score = "-"  # k-means minimises within-cluster squared distance
    instance, _ = build_instance(cohort.firms, cohort.competitors, cohort.partners, settings)
    k = max(1, round(row.n / ((settings.min_size + settings.max_size) / 2)))
    if row.n * k > KMEANS_MAX_ARCS:
        row.note = f"skipped: {row.n} x {k} clusters exceeds the min-cost-flow size limit"
        return
    started = time.perf_counter()
    lat = np.array([f.lat for f in cohort.firms])
    lon = np.array([f.lon for f in cohort.firms])
    codes = sorted({c for f in cohort.firms for c in f.needs})
    needs = np.array([[c in f.needs for c in codes] for f in cohort.firms], np.float64)
    x = np.column_stack([lat * 111.2, lon * 111.2 * np.cos(np.radians(lat.mean())),
                         needs * NEED_SCALE_KM])  # fmt: skip
    model = KMeansConstrained(n_clusters=k, size_min=settings.min_size,
                              size_max=settings.max_size, random_state=seed, n_init=1)  # fmt: skip
    labels = model.fit_predict(x)
    groups = [np.flatnonzero(labels == c).tolist() for c in range(k)]
    themes = [best_theme(instance, g) for g in groups]
    solution = Solution.from_groups(row.n, groups, themes)
    row.seconds = time.perf_counter() - started
    violations = verify(instance, solution)
    bad = {v.group for v in violations if v.group is not None}
    kinds: dict[str, set[int]] = {}
    for v in violations:
        kinds.setdefault(v.kind, set()).add(-1 if v.group is None else v.group)
    row.violation_groups = {kind: len(g) for kind, g in kinds.items()}
    row.groups, row.placed, row.coverage = len(solution.groups), solution.placed, 1.0
    good = sum(len(g) for i, g in enumerate(solution.groups) if i not in bad)
    row.valid_coverage = round(good / row.n, 4)
    firms = cohort.firms
    row.mean_need_jaccard = round(
        float(np.mean([mean_need_jaccard([firms[i] for i in g]) for g in solution.groups])), 4
    )


def run_case(
    method: str, purpose: str, n: int, seed: int, time_limit: float,
    group_score: str | None = None, reach: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run one case in the current process and return its :class:`BenchRow` as a dict.

    Parameters
    ----------
    method
        ``"kring"`` or ``"kmeans"``.
    purpose
        ``"training"`` or ``"peer"``.
    n
        Cohort size (generated with :func:`matching.sme.generate.generate_cohort`).
    seed
        Seed of the cohort and the solver.
    time_limit
        kring's solver time limit in seconds.
    group_score
        kring's ``group_score`` (``None``: the purpose's default).
    reach
        kring's ``reach`` setting (``None``: its default, ``"islands"``; ``"none"`` compares
        with code from before the rule).

    Returns
    -------
    dict
        The row's fields.
    """
    row = BenchRow(method, purpose, n, group_score or "")
    if method == "kring":
        _kring(row, seed, time_limit, reach)
    else:
        _kmeans(row, seed)
    row.seconds = round(row.seconds, 2)
    row.peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return asdict(row)


def bench_smes(
    sizes: list[int], *, seed: int, time_limit: float | None, purposes: list[str],
    methods: list[str], group_score: str | None = None, reach: str | None = None,
) -> list[BenchRow]:  # fmt: skip
    """Run every case, each in a fresh spawned process.

    Parameters
    ----------
    sizes
        Cohort sizes.
    seed
        Seed of cohorts and solver.
    time_limit
        kring's time limit; ``None`` uses :func:`default_time_limit`.
    purposes, methods
        Which purposes and methods to run.
    group_score
        kring's ``group_score`` for every case (``None``: each purpose's default).
    reach
        kring's ``reach`` for every case (``None``: the default).

    Returns
    -------
    list of BenchRow
        One per (size, purpose, method).
    """
    ctx = mp.get_context("spawn")
    rows = []
    for n in sizes:
        limit = default_time_limit(n) if time_limit is None else time_limit
        for purpose in purposes:
            for method in methods:
                with ctx.Pool(1) as pool:
                    args = (method, purpose, n, seed, limit, group_score, reach)
                    data = pool.apply(run_case, args)
                rows.append(BenchRow(**data))
    return rows


def format_rows(rows: list[BenchRow]) -> str:
    """A fixed-width table of the rows (what the CLI prints and BENCHMARKS.md quotes)."""
    head = (f"{'method':<7} {'purpose':<8} {'score':<11} {'firms':>6} {'groups':>6} {'placed':>6} "
            f"{'bound':>6} {'cover':>6} {'valid':>6} {'jacc':>5} {'secs':>7} {'peakMB':>7}  "
            "violating groups / note")  # fmt: skip
    lines = [head]
    for r in rows:
        viol = ", ".join(f"{k}={v}" for k, v in sorted(r.violation_groups.items())) or "0"
        lines.append(
            f"{r.method:<7} {r.purpose:<8} {r.group_score:<11} {r.n:>6} {r.groups:>6} "
            f"{r.placed:>6} "
            f"{'-' if r.bound is None else r.bound:>6} {r.coverage:>6.1%} "
            f"{r.valid_coverage:>6.1%} {r.mean_need_jaccard:>5.2f} {r.seconds:>7.1f} "
            f"{r.peak_mb:>7.0f}  {viol}{'; ' + r.note if r.note else ''}"
        )
    return "\n".join(lines)
