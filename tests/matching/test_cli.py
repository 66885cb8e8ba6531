"""Tests for the matching commands of the ``kring`` CLI (typer's CliRunner)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from matching.sme.firms import read_firms_csv, read_pairs_csv

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


DATA = Path(__file__).resolve().parent.parent / "data"


def test_solve_malformed_smes_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    """A bad SMES.csv: exit 2, every error named by file, row and column (Dutch by default,
    English with --lang en), no OUT.json."""
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["solve", str(DATA / "smes_bad.csv"), "--out", str(out)])
    assert result.exit_code == 2
    assert "smes_bad.csv: rij 2, kolom needs: onbekende behoefte: hr.wellbeing" in result.output
    assert "rij 12, kolom lon" in result.output
    args = ["solve", str(DATA / "smes_bad.csv"), "--out", str(out), "--lang", "en"]
    result = runner.invoke(app, args)
    assert "smes_bad.csv: row 2, column needs: unknown need: hr.wellbeing" in result.output
    assert "row 12, column lon" in result.output
    assert not out.exists()


def test_solve_bad_competitors_exits_2(tmp_path: Path) -> None:
    """A competitors file naming an unknown firm is reported with its row; nothing written."""
    bad = tmp_path / "c.csv"
    bad.write_text("sme_a,sme_b\ng01,g02\ng01,nobody\n", encoding="utf-8")
    out = tmp_path / "out.json"
    args = ["solve", str(DATA / "smes_small.csv"), "--competitors", str(bad), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "c.csv: rij 2, kolom sme_b: onbekend bedrijfsnummer 'nobody'" in result.output
    assert not out.exists()


def test_solve_impossible_settings_and_missing_file_exit_2(tmp_path: Path) -> None:
    """min-size above max-size, or a missing input file, exit 2 without output."""
    out = tmp_path / "out.json"
    smes = str(DATA / "smes_small.csv")
    result = runner.invoke(
        app, ["solve", smes, "--min-size", "9", "--max-size", "5", "--out", str(out)]
    )
    assert result.exit_code == 2 and "max_size" in result.output
    result = runner.invoke(app, ["solve", str(tmp_path / "none.csv"), "--out", str(out)])
    assert result.exit_code == 2 and "none.csv" in result.output
    assert not out.exists()


def test_solve_writes_out_json(tmp_path: Path) -> None:
    """`kring solve` on the fixture writes OUT.json with groups, unassigned and stats."""
    import json

    out = tmp_path / "out.json"
    args = ["solve", str(DATA / "smes_small.csv"), "--competitors",
            str(DATA / "competitors_small.csv"), "--min-size", "4", "--max-size", "6",
            "--time-limit", "1", "--out", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {"groups", "unassigned", "stats"}
    assert data["stats"]["verified"] is True
    assert {u["id"] for u in data["unassigned"]} >= {"f01", "e01"}


def test_solve_group_score_is_recorded_and_checked(tmp_path: Path) -> None:
    """--purpose peer scores member_mean unless --group-score says otherwise; a bad one exits 2."""
    import json

    out = tmp_path / "out.json"
    base = ["solve", str(DATA / "smes_small.csv"), "--purpose", "peer", "--min-size", "4",
            "--max-size", "6", "--time-limit", "1", "--out", str(out)]  # fmt: skip
    assert runner.invoke(app, base).exit_code == 0
    stats = json.loads(out.read_text(encoding="utf-8"))["stats"]
    assert stats["settings"]["group_score"] == "member_mean"
    assert runner.invoke(app, [*base, "--group-score", "pair_sum"]).exit_code == 0
    stats = json.loads(out.read_text(encoding="utf-8"))["stats"]
    assert stats["settings"]["group_score"] == "pair_sum"
    out.unlink()
    result = runner.invoke(app, [*base, "--group-score", "biggest"])
    assert result.exit_code == 2 and "group_score" in result.output
    assert not out.exists()


def test_solve_speaks_dutch_by_default_and_english_with_lang_en(tmp_path: Path) -> None:
    """`kring solve` messages and OUT.json texts are Dutch by default, English with --lang en."""
    import json

    out = tmp_path / "out.json"
    base = ["solve", str(DATA / "smes_small.csv"), "--min-size", "4", "--max-size", "6",
            "--time-limit", "1", "--out", str(out)]  # fmt: skip
    result = runner.invoke(app, base)
    assert (
        result.exit_code == 0
        and " van de " in result.output
        and "gecontroleerd: ja" in result.output
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    assert " bedrijven, " in data["groups"][0]["explanation"]
    assert data["unassigned"][0]["reason_label"]
    result = runner.invoke(app, [*base, "--lang", "en"])
    assert result.exit_code == 0 and "verified: yes" in result.output
    assert " firms, " in json.loads(out.read_text(encoding="utf-8"))["groups"][0]["explanation"]
    bad = runner.invoke(app, ["solve", str(tmp_path / "none.csv"), "--out", str(out)])
    assert (
        bad.exit_code == 2 and "fout: " in bad.output and "kan het bestand niet lezen" in bad.output
    )


@pytest.mark.slow
def test_solve_skips_columns_it_does_not_use_and_says_so(tmp_path: Path) -> None:
    """A member list with plaats and adres solves; the two columns are named as skipped."""
    lines = (DATA / "smes_small.csv").read_text(encoding="utf-8").splitlines()
    smes = tmp_path / "leden.csv"
    rows = [f"{lines[0]},plaats,adres"] + [f"{line},Groningen,Markt 1" for line in lines[1:]]
    smes.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    args = ["solve", str(smes), "--min-size", "4", "--max-size", "6", "--time-limit", "1",
            "--out", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "leden.csv: 2 kolommen overgeslagen die kring niet gebruikt: plaats, adres" in (
        result.output
    )
    english = runner.invoke(app, [*args, "--lang", "en"])
    assert "2 columns skipped that kring does not use: plaats, adres" in english.output
