"""Tests for the matching commands of the ``kring`` CLI (typer's CliRunner)."""

from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from matching.firms import read_firms_csv, read_pairs_csv

runner = CliRunner()


def test_generate_writes_a_valid_cohort(tmp_path: Path) -> None:
    """`kring generate` writes smes/competitors/partners CSVs that the strict readers accept."""
    out = tmp_path / "cohort"
    result = runner.invoke(
        app, ["generate", "--n", "150", "--provinces", "Groningen,Drenthe", "--seed", "4", str(out)]
    )
    assert result.exit_code == 0, result.output
    firms = read_firms_csv((out / "smes.csv").read_text(encoding="utf-8"))
    assert len(firms) == 150
    assert {f.province for f in firms} <= {"Groningen", "Drenthe"}
    ids = {f.external_id for f in firms}
    for name in ("competitors.csv", "partners.csv"):
        read_pairs_csv((out / name).read_text(encoding="utf-8"), source=name, known_ids=ids)


def test_generate_unknown_province_exits_2(tmp_path: Path) -> None:
    """An unknown province is a usage error: exit code 2, nothing written."""
    result = runner.invoke(
        app, ["generate", "--n", "5", "--provinces", "Atlantis", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "Atlantis" in result.output
    assert not (tmp_path / "x").exists()
