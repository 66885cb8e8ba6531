"""``kring bench smes --matrix``: kring's quality over regions x seeds x need variants.

One row per cell (region, seed, need variant, size, purpose), each solved in a fresh
spawned child process like the other ``bench smes`` cases.  A row carries what the
pipeline reports (placed, coverage, mean pair need-Jaccard, the affinity objective) plus
two violation counts: the pipeline's own verifier (``solve_firms`` raises on any) and a
re-check that rebuilds the instance and calls :func:`matching.core.verify.verify` on the
returned groups.  ``bound_affinity``, ``gap`` and ``meeting_km_mean`` are read from the
report's stats when it has them (``-`` otherwise).

The summary gives, per metric, the median over rows and the worst row, naming its cell;
:func:`time_curve` solves one cohort at several time limits (time to quality).
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matching.sme.generate import Cohort
    from matching.sme.report import Report
    from matching.sme.settings import RunSettings

REGIONS: dict[str, tuple[str, ...]] = {
    "north": ("Groningen", "Fryslân", "Drenthe"),
    "randstad": ("Zuid-Holland", "Utrecht"),
    "zeeland": ("Zeeland",),
    "national": (),  # all twelve provinces (geodata.boundaries.province_names)
}
VARIANTS: dict[str, tuple[tuple[int, int], float]] = {
    "base": ((1, 4), 1.0),  # generate_cohort's defaults
    "strong": ((1, 4), 2.0),  # sector-typical needs twice as popular
    "weak": ((1, 4), 0.5),
    "many": ((2, 6), 1.0),
}
"""Need variant -> (``needs_range``, ``sector_bias``) of :func:`generate_cohort`."""


@dataclass
class MatrixRow:
    """One solved cell (``None``: the report has no such figure)."""

    region: str
    seed: int
    variant: str
    n: int
    purpose: str
    time_limit: float
    placed: int = 0
    coverage: float = 0.0
    mean_need_jaccard: float = 0.0
    affinity: float = 0.0
    seconds: float = 0.0
    violations: int = 0  # found by the pipeline's verifier
    recheck: int | None = None  # found by verify() on the returned groups
    bound_affinity: float | None = None
    gap: float | None = None
    meeting_km_mean: float | None = None
    note: str = ""

    @property
    def cell(self) -> str:
        """The cell's name, e.g. ``north seed 2 many n=2000 peer``."""
        return f"{self.region} seed {self.seed} {self.variant} n={self.n} {self.purpose}"


def region_provinces(region: str) -> tuple[str, ...]:
    """The provinces of a matrix region (``national``: all twelve)."""
    if region == "national":
        from geodata.boundaries import province_names

        return tuple(province_names())
    return REGIONS[region]


def count_violations(cohort: Cohort, report: Report, settings: RunSettings) -> int:
    """Count what :func:`verify` finds in a report's groups, on an instance built afresh.

    Parameters
    ----------
    cohort
        The generated cohort that was solved.
    report
        The pipeline's report (groups of external ids, with their themes).
    settings
        The run's settings.

    Returns
    -------
    int
        The number of violations (0: the groups keep every rule).
    """
    from matching.core.solution import Solution
    from matching.core.verify import verify
    from matching.sme.build import build_instance
    from matching.sme.needs import NEED_CODES

    instance, index = build_instance(cohort.firms, cohort.competitors, cohort.partners, settings)
    groups = [[index.index_of(e) for e in g.members] for g in report.groups]
    themes = [None if g.theme is None else NEED_CODES.index(g.theme) for g in report.groups]
    return len(verify(instance, Solution.from_groups(instance.n_firms, groups, themes)))


def run_cell(
    region: str, seed: int, variant: str, n: int, purpose: str, time_limit: float,
    group_score: str | None = None, reach: str | None = None, distance: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Generate one cohort, solve it with kring and return its :class:`MatrixRow` as a dict.

    Parameters
    ----------
    region, seed, variant, n
        The cohort: a key of :data:`REGIONS`, the seed (of cohort and solver), a key of
        :data:`VARIANTS` and the number of firms.
    purpose
        ``"peer"`` or ``"training"``.
    time_limit
        The run's time limit in seconds.
    group_score, reach
        kring's settings of that name (``None``: their defaults).
    distance
        The compactness weight ``affinity.distance`` (``None``: its default).

    Returns
    -------
    dict
        The row's fields.
    """
    from bench.smes import run_settings
    from matching.core.errors import UnverifiedSolutionError
    from matching.sme.generate import generate_cohort
    from matching.sme.pipeline import solve_firms

    needs_range, bias = VARIANTS[variant]
    row = MatrixRow(region, seed, variant, n, purpose, time_limit)
    cohort = generate_cohort(n, region_provinces(region), seed=seed, needs_range=needs_range,
                             sector_bias=bias)  # fmt: skip
    settings = run_settings(purpose, time_limit, seed, group_score, reach, distance)
    started = time.perf_counter()
    try:
        report = solve_firms(cohort.firms, cohort.competitors, cohort.partners, settings)
    except UnverifiedSolutionError as exc:
        row.seconds = round(time.perf_counter() - started, 2)
        row.violations, row.note = len(exc.violations), "solver returned violations"
        return asdict(row)
    row.seconds = round(time.perf_counter() - started, 2)
    s = report.stats
    row.placed, row.coverage = s["placed"], s["coverage"]
    row.mean_need_jaccard = s["mean_need_jaccard"]
    row.affinity = s["objective"]["affinity"]
    row.violations = len(s.get("violations", []))
    row.recheck = count_violations(cohort, report, settings)
    row.bound_affinity, row.gap = s.get("bound_affinity"), s.get("gap")
    row.meeting_km_mean = s.get("meeting_km_mean")
    return asdict(row)


def _run_all(cases: list[tuple[Any, ...]], spawn: bool) -> list[MatrixRow]:
    if not spawn:
        return [MatrixRow(**run_cell(*case)) for case in cases]
    ctx = mp.get_context("spawn")
    rows = []
    for case in cases:
        with ctx.Pool(1) as pool:
            rows.append(MatrixRow(**pool.apply(run_cell, case)))
    return rows


def _check(regions: Sequence[str], variants: Sequence[str]) -> None:
    for name, keys, known in (("region", regions, REGIONS), ("variant", variants, VARIANTS)):
        if unknown := [k for k in keys if k not in known]:
            raise ValueError(f"unknown {name}: {', '.join(unknown)} (known: {', '.join(known)})")


def bench_matrix(
    *, regions: Sequence[str], seeds: Sequence[int], variants: Sequence[str],
    sizes: Sequence[int], purposes: Sequence[str], time_limit: Callable[[int], float],
    group_score: str | None = None, reach: str | None = None, spawn: bool = True,
    distance: float | None = None,
) -> list[MatrixRow]:  # fmt: skip
    """Solve every cell of sizes x purposes x regions x seeds x variants.

    Parameters
    ----------
    regions, seeds, variants, sizes, purposes
        The matrix's axes (regions and variants: keys of :data:`REGIONS`, :data:`VARIANTS`).
    time_limit
        Time limit in seconds for a cohort size.
    group_score, reach, distance
        kring's settings of that name for every cell (``None``: the defaults; ``distance``
        is the compactness weight ``affinity.distance``).
    spawn
        Solve each cell in a fresh spawned process (``False``: in this one, for tests).

    Returns
    -------
    list of MatrixRow
        One per cell, in loop order.
    """
    _check(regions, variants)
    cases = [
        (region, seed, variant, n, purpose, time_limit(n), group_score, reach, distance)
        for n in sizes for purpose in purposes for region in regions
        for seed in seeds for variant in variants
    ]  # fmt: skip
    return _run_all(cases, spawn)


def time_curve(
    *, region: str, seed: int, variant: str, n: int, purpose: str, limits: Sequence[float],
    group_score: str | None = None, reach: str | None = None, spawn: bool = True,
    distance: float | None = None,
) -> list[MatrixRow]:  # fmt: skip
    """Solve one cohort once per time limit (a fresh process each): time to quality.

    Parameters
    ----------
    region, seed, variant, n, purpose
        The cohort and purpose, as in :func:`run_cell`.
    limits
        Time limits in seconds.
    group_score, reach, spawn, distance
        As in :func:`bench_matrix`.

    Returns
    -------
    list of MatrixRow
        One per limit.
    """
    _check([region], [variant])
    cases = [(region, seed, variant, n, purpose, t, group_score, reach, distance)
             for t in limits]  # fmt: skip
    return _run_all(cases, spawn)


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_matrix(rows: Sequence[MatrixRow]) -> str:
    """A fixed-width table, one line per cell."""
    lines = [
        f"{'region':<9} {'seed':>4} {'variant':<7} {'firms':>6} {'purpose':<8} {'placed':>6} "
        f"{'cover':>6} {'jacc':>6} {'secs':>6} {'viol':>4} {'rechk':>5} {'bound':>9} "
        f"{'gap':>6} {'meetkm':>6}  note"
    ]  # fmt: skip
    for r in rows:
        lines.append(
            f"{r.region:<9} {r.seed:>4} {r.variant:<7} {r.n:>6} {r.purpose:<8} {r.placed:>6} "
            f"{r.coverage:>6.1%} {r.mean_need_jaccard:>6.3f} {r.seconds:>6.1f} "
            f"{r.violations:>4} {_num(r.recheck, 'd'):>5} {_num(r.bound_affinity, '.1f'):>9} "
            f"{_num(r.gap, '.1%'):>6} {_num(r.meeting_km_mean, '.1f'):>6}  {r.note}"
        )  # fmt: skip
    return "\n".join(lines)


SUMMARY: tuple[tuple[str, str, bool, str], ...] = (
    # (label, MatrixRow field, higher is worse, format)
    ("need-Jaccard", "mean_need_jaccard", False, ".3f"),
    ("coverage", "coverage", False, ".1%"),
    ("gap", "gap", True, ".1%"),
    ("meeting km", "meeting_km_mean", True, ".1f"),
    ("seconds", "seconds", True, ".1f"),
)


def summarise(rows: Sequence[MatrixRow]) -> list[tuple[str, float | None, float | None, str]]:
    """Per metric: (label, median over rows, worst value, worst row's cell).

    Rows without the metric are left out; a metric no row has gives ``(label, None, None,
    "")``.  Worst is the lowest Jaccard and coverage, the highest gap, meeting distance and
    time.
    """
    out: list[tuple[str, float | None, float | None, str]] = []
    for label, key, higher_worse, _ in SUMMARY:
        have = [r for r in rows if getattr(r, key) is not None and not r.note]
        if not have:
            out.append((label, None, None, ""))
            continue
        values = [float(getattr(r, key)) for r in have]
        pick = max if higher_worse else min
        worst = pick(have, key=lambda r: float(getattr(r, key)))
        out.append((label, statistics.median(values), float(getattr(worst, key)), worst.cell))
    return out


def format_summary(rows: Sequence[MatrixRow]) -> str:
    """The median and the worst row per metric, plus the violation totals."""
    lines = [f"{'metric':<13} {'median':>7} {'worst':>7}  worst cell"]
    specs = {label: spec for label, _, _, spec in SUMMARY}
    for label, median, worst, cell in summarise(rows):
        spec = specs[label]
        lines.append(f"{label:<13} {_num(median, spec):>7} {_num(worst, spec):>7}  {cell}")
    rechecked = [r.recheck for r in rows if r.recheck is not None]
    failed = [r.cell for r in rows if r.note]
    lines.append(
        f"violations: {sum(r.violations for r in rows)} (verifier), {sum(rechecked)} "
        f"(re-check of {len(rechecked)} of {len(rows)} rows)"
        + (f"; failed: {'; '.join(failed)}" if failed else "")
    )
    return "\n".join(lines)


def format_curve(rows: Sequence[MatrixRow]) -> str:
    """One line per time limit: placed, need-Jaccard, affinity objective, bound and gap."""
    lines = [f"{'limit_s':>7} {'placed':>6} {'jacc':>6} {'affinity':>10} {'bound':>9} "
             f"{'gap':>6} {'secs':>6} {'viol':>4}"]  # fmt: skip
    for r in rows:
        lines.append(
            f"{r.time_limit:>7g} {r.placed:>6} {r.mean_need_jaccard:>6.3f} {r.affinity:>10.1f} "
            f"{_num(r.bound_affinity, '.1f'):>9} {_num(r.gap, '.1%'):>6} {r.seconds:>6.1f} "
            f"{r.violations + (r.recheck or 0):>4}"
        )  # fmt: skip
    return "\n".join(lines)
