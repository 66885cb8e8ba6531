"""CCPLIB reader, benchmark rows and the `kring bench ccp` line format."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bench.ccp import BenchRow, best_known, select
from bench.ccplib import parse_ccp, read_ccp
from bench.cli import app
from matching import SolveParams, solve, verify
from matching.core.errors import InstanceFormatError

CCP_DIR = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "ccp"
TINY = "4 2 ds 2 5 2 5 W 1 2 3 1\n0 1 5.0\n2 3 4.0\n0 2 1.5\n"


def test_parse_small_text() -> None:
    """Header, weights, bounds and the symmetric matrix are read; unlisted pairs are 0."""
    inst = parse_ccp(TINY)
    assert (inst.n_firms, inst.n_groups, inst.min_weight, inst.max_weight) == (4, 2, 2, 5)
    assert inst.require_all and list(inst.weights) == [1, 2, 3, 1]  # type: ignore[arg-type]
    assert inst.affinity_matrix is not None
    assert inst.affinity_matrix[1, 0] == 5.0 and inst.affinity_matrix[1, 2] == 0.0


def test_tiny_instance_is_solved_to_the_paper_optimum() -> None:
    """Groups {0,1} (weight 3) and {2,3} (weight 4) score 5 + 4 = 9."""
    result = solve(parse_ccp(TINY), SolveParams(time_limit_s=None, max_iterations=200))
    assert result.solution is not None
    assert result.solution.groups == ((0, 1), (2, 3))
    assert result.affinity == pytest.approx(9.0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "4 2 xx 2 5 2 5 W 1 2 3 1\n",
        "4 2 ds 2 5 2 5 W 1 2\n",
        "2 1 ds 0 3 W 1 1\n0 5 1.0\n",
        "4 2 ds 2 5 1 5 W 1 2 3 1\n",
    ],
)
def test_malformed_text_is_rejected(text: str) -> None:
    """Bad markers, missing weights, bad indices and unequal bounds raise a format error."""
    with pytest.raises(InstanceFormatError):
        parse_ccp(text, "bad.txt")


def test_bench_row_line_format() -> None:
    """`name objective best_known gap_pct% seconds`, gap signed, '-' when unknown."""
    row = BenchRow("X", 99.0, 100.0, 1.234, True)
    assert row.line() == "X 99.00 100.00 -1.000% 1.2"
    assert BenchRow("Y", 5.0, None, 0.5, True).line() == "Y 5.00 - - 0.5"
    assert set(best_known()) == {"RanReal240_01", "RanReal240_04", "RanReal240_07", "Sparse82_02"}


@pytest.mark.skipif(not CCP_DIR.is_dir(), reason="CCPLIB instances not next to the checkout")
def test_sparse82_from_zip_verifies_and_prints_one_line() -> None:
    """Sparse82_02 read from the zip solves (tiny budget) to a verified solution."""
    (ref,) = select(CCP_DIR, ["Sparse82_02"])
    inst = read_ccp(ref)
    assert inst.n_firms == 82 and inst.n_groups == 8
    result = solve(inst, SolveParams(time_limit_s=None, max_iterations=300))
    assert result.solution is not None and verify(inst, result.solution) == []
    assert np.isclose(result.affinity, result.affinity)  # finite
    out = CliRunner().invoke(
        app, ["ccp", "Sparse82_02", "--time-limit", "0.5", "--dir", str(CCP_DIR)]
    )
    assert out.exit_code == 0, out.output
    first, summary = out.output.strip().splitlines()
    assert re.fullmatch(r"Sparse82_02 \d+\.\d\d 1306\.64 [+-]\d+\.\d{3}% \d+\.\d", first)
    assert summary.startswith("summary instances=1") and "unverified=0" in summary


def test_unknown_instance_name_exits_2(tmp_path: Path) -> None:
    """Asking for an instance that is not there is a usage error."""
    out = CliRunner().invoke(app, ["ccp", "Nope_01", "--dir", str(tmp_path)])
    assert out.exit_code == 2
