"""GET /runs/{id} reports progress a person can read; cancel answers 202 `cancelling`."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings
from app.migrate import upgrade
from app.models import Role
from matching.sme.firms import firms_to_csv
from matching.sme.generate import generate_cohort
from tests.app.conftest import auth, client_for, issue_key, make_settings

PHASES = {"loading", "warming_up", "building", "solving", "reporting", "storing"}
RAW_BOUNDS = {"upper_bound_placed", "solver_bound_placed", "upper_bound_method"}


def _numbers(value: Any) -> list[float]:
    """Every number in a JSON value, at any depth."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


@pytest.mark.slow
def test_a_running_run_reports_phase_placed_bound_and_mean_affinity(tmp_path: Path) -> None:
    """While a real run solves (thread executor), GET shows a known phase, a rising fraction,
    placed <= placed_bound and a mean affinity; done, the counts are the stats' and no number
    in the answer mixes placed and affinity (none above 10**6), the raw bounds under debug."""
    s: Settings = make_settings(tmp_path / "p.db", executor="thread", poll_interval_s=0.1)
    upgrade(s)
    key = issue_key(s, "north", Role.member)
    cohort = generate_cohort(500, seed=5)
    snapshots: list[dict[str, Any]] = []
    with client_for(s) as client:
        files = {"file": ("s.csv", firms_to_csv(cohort.firms), "text/csv")}
        assert (
            client.post("/api/v1/firms/import", files=files, headers=auth(key)).status_code == 200
        )
        r = client.post("/api/v1/runs", json={"time_limit_s": 4, "seed": 1}, headers=auth(key))
        url, deadline = r.headers["location"], time.monotonic() + 60
        while time.monotonic() < deadline:
            run = client.get(url, headers=auth(key)).json()
            if run["status"] not in {"queued", "running"}:
                break
            if run["status"] == "running":
                snapshots.append(run)
            time.sleep(0.1)
    assert run["status"] == "succeeded", run
    assert "best_objective" not in run and snapshots
    phases = [r["phase"] for r in snapshots]
    assert set(phases) <= PHASES and "solving" in phases
    fractions = [r["progress"] for r in snapshots]
    assert fractions == sorted(fractions) and fractions[-1] > 0.3
    solving = [r for r in snapshots if r["phase"] == "solving" and r["placed"] is not None]
    assert solving and all(r["placed"] <= r["placed_bound"] <= 500 for r in solving)
    assert all(r["mean_affinity"] is None or 0 <= r["mean_affinity"] < 10 for r in solving)
    stats = run["stats"]
    assert run["phase"] is None and run["progress"] == 1.0
    assert run["placed"] == stats["placed"] > 0 and run["placed_bound"] == stats["placed_bound"]
    assert run["placed"] <= run["placed_bound"] and run["mean_affinity"] == stats["mean_affinity"]
    assert not RAW_BOUNDS & set(stats) and set(stats["debug"]) >= RAW_BOUNDS
    ids = {"id", "profile_id", "keep_accepted_from", "params"}  # random ids, the request
    assert max(_numbers({k: v for k, v in run.items() if k not in ids})) < 1e6


def test_kring_solve_shows_placed_bound_and_mean_affinity(tmp_path: Path) -> None:
    """`kring solve` (stderr no terminal) prints phase lines with firms placed of at most how
    many and the mean affinity, in Dutch by default; no 'best <objective>' any more."""
    data = Path(__file__).resolve().parent.parent / "data"
    out = tmp_path / "out.json"
    args = ["solve", str(data / "smes_small.csv"), "--min-size", "4", "--max-size", "6",
            "--time-limit", "1", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "opwarmen" in result.output and "groepen zoeken: " in result.output
    assert "van hooguit 12 bedrijven geplaatst, gemiddelde affiniteit" in result.output
    assert not re.search(r"best \d", result.output)  # no combined 'best 1840006854.5'
    assert "onder het best mogelijke (bewezen bovengrens: " in result.output  # the gap
    english = CliRunner().invoke(cli, [*args, "--lang", "en"])
    assert "of at most 12 firms placed, mean affinity" in english.output
