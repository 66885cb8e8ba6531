"""`kring bench smes --matrix`: rows per cell, the median/worst summary and violation counts."""

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.matrix import (
    MatrixRow,
    bench_matrix,
    count_violations,
    format_curve,
    format_matrix,
    format_summary,
    region_provinces,
    summarise,
)
from bench.smes import run_settings
from matching.sme.generate import generate_cohort
from matching.sme.pipeline import solve_firms


@pytest.fixture(scope="module")
def rows() -> list[MatrixRow]:
    """A tiny matrix solved in this process: 2 regions x 1 seed x 2 variants, 150 firms, 1 s."""
    return bench_matrix(regions=["north", "zeeland"], seeds=[1], variants=["base", "many"],
                        sizes=[150], purposes=["peer"], time_limit=lambda n: 1.0,
                        spawn=False)  # fmt: skip


def test_tiny_matrix_has_one_verified_row_per_cell(rows: list[MatrixRow]) -> None:
    """Each cell is solved once, places most firms, and both verifiers find 0 violations."""
    cells = [(r.region, r.seed, r.variant, r.n, r.purpose) for r in rows]
    expected = [(region, 1, variant, 150, "peer")
                for region in ("north", "zeeland") for variant in ("base", "many")]  # fmt: skip
    assert cells == expected
    for r in rows:
        assert r.note == "" and r.violations == 0 and r.recheck == 0
        assert r.coverage >= 0.9 and 0 < r.mean_need_jaccard < 1 and r.affinity > 0
        assert r.placed == round(r.coverage * 150)


def test_summary_names_the_median_and_the_worst_cell(rows: list[MatrixRow]) -> None:
    """The summary's worst Jaccard and coverage are the lowest rows; the cell is named."""
    summary = {label: (median, worst, cell) for label, median, worst, cell in summarise(rows)}
    jaccard = sorted(r.mean_need_jaccard for r in rows)
    lowest = min(rows, key=lambda r: r.mean_need_jaccard)
    assert summary["need-Jaccard"] == ((jaccard[1] + jaccard[2]) / 2, jaccard[0], lowest.cell)
    assert summary["coverage"][1] == min(r.coverage for r in rows)
    text = format_summary(rows)
    assert lowest.cell in text and "violations: 0 (verifier), 0 (re-check of 4 of 4 rows)" in text
    table = format_matrix(rows)
    assert len(table.splitlines()) == 1 + len(rows)


def test_missing_report_figures_print_a_dash() -> None:
    """Without bound, gap and meeting km the table and summary print '-'; present, the worst
    gap and meeting distance are the highest."""
    base = MatrixRow("north", 1, "base", 100, "peer", 1.0, 100, 1.0, 0.4, 50.0, 1.0, 0, 0)
    line = format_matrix([base]).splitlines()[1]
    assert line.split()[-3:] == ["-", "-", "-"]
    assert "gap                 -       -" in format_summary([base])
    rows = [replace(base, seed=s, gap=g, meeting_km_mean=km, bound_affinity=60.0)
            for s, g, km in ((1, 0.05, 20.0), (2, 0.12, 18.0), (3, 0.08, 25.0))]  # fmt: skip
    summary = {label: (median, worst, cell) for label, median, worst, cell in summarise(rows)}
    assert summary["gap"] == (0.08, 0.12, "north seed 2 base n=100 peer")
    assert summary["meeting km"] == (20.0, 25.0, "north seed 3 base n=100 peer")
    assert "12.0%" in format_matrix(rows) and "12.0%" in format_curve(rows)


def test_recheck_counts_violations_of_broken_groups() -> None:
    """count_violations is 0 on the pipeline's groups and counts an oversized merged group."""
    cohort = generate_cohort(150, ("Zeeland",), seed=1)
    settings = run_settings("peer", 1.0, 1)
    report = solve_firms(cohort.firms, cohort.competitors, cohort.partners, settings)
    assert count_violations(cohort, report, settings) == 0
    first, second, *rest = report.groups
    merged = replace(first, members=first.members + second.members)
    assert count_violations(cohort, replace(report, groups=(merged, *rest)), settings) > 0


def test_national_is_all_twelve_provinces() -> None:
    """The national region spans the twelve provinces."""
    assert len(region_provinces("national")) == 12
    assert region_provinces("zeeland") == ("Zeeland",)


def test_cli_describes_the_matrix_and_refuses_unknown_cells() -> None:
    """`bench smes --help` lists the matrix options; an unknown region is a usage error."""
    runner = CliRunner()
    help_text = runner.invoke(app, ["smes", "--help"], terminal_width=200).output
    for option in ("--matrix", "--seeds", "--regions", "--variants", "--time-limits"):
        assert option in help_text
    result = runner.invoke(app, ["smes", "--matrix", "--regions", "atlantis"])
    assert result.exit_code == 2 and "unknown region: atlantis" in result.output
