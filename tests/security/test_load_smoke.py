"""A tiny bounded load test against the real server (loopback, subprocess): no errors."""

from __future__ import annotations

import pytest

from bench.loadtest import ENDPOINTS, LoadConfig, run_load_test


@pytest.mark.slow
def test_small_load_test_has_no_errors_while_a_run_and_an_import_happen() -> None:
    """5 clients x 50 reads against `kring serve` during a second run and a CSV import: 0 errors."""
    cfg = LoadConfig(clients=5, requests=50, duration_s=30, firms=300, seed=1, run_time_limit_s=3)
    report = run_load_test(cfg)
    assert len(report.samples) == 50
    assert report.errors == []
    table = {row[0]: row for row in report.table()}
    assert set(table) == {*ENDPOINTS, "all reads"}
    assert table["all reads"][1:3] == (50, 0)
    assert report.second_run == "succeeded"
    assert report.import_note.startswith("HTTP 200")
    assert all(s.status == 200 for s in report.samples)
