"""The ``kring geo`` command (typer CliRunner, real data)."""

from __future__ import annotations

from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


def test_geo_prints_place_gemeente_province_region_coordinates() -> None:
    """kring geo 9711 8911 prints one block per postcode with all fields."""
    result = runner.invoke(app, ["geo", "9711", "8911 ab"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "9711  Groningen" in out
    assert "gemeente      Groningen (GM0014)" in out
    assert "province      Groningen (PV20)" in out
    assert "region        Groningen (AM01)" in out
    assert "53.21670, 6.56970" in out
    assert "8911 AB  Leeuwarden" in out
    assert "province      Fryslân (PV21)" in out


def test_geo_bad_postcode_names_it_on_stderr_and_exits_2() -> None:
    """A malformed or unknown postcode is named on stderr; good ones still print; exit code 2."""
    result = runner.invoke(app, ["geo", "9711", "97x1", "1000"])
    assert result.exit_code == 2
    assert "'97x1'" in result.stderr and "malformed" in result.stderr
    assert "'1000'" in result.stderr and "unknown" in result.stderr
    assert "9711  Groningen" in result.stdout


def test_geo_distance_prints_geodesic_and_haversine() -> None:
    """kring geo --distance prints both distances in km for Groningen-Leeuwarden."""
    result = runner.invoke(app, ["geo", "--distance", "9711", "8911"])
    assert result.exit_code == 0, result.output
    assert "geodesic     51.660 km" in result.stdout
    assert "haversine    51.491 km" in result.stdout


def test_geo_distance_needs_two_postcodes() -> None:
    """--distance with one postcode is a usage error (exit 2)."""
    result = runner.invoke(app, ["geo", "--distance", "9711"])
    assert result.exit_code == 2
    assert "exactly two" in result.stderr


def test_bench_case_measures_a_small_build() -> None:
    """One benchmark case reports pairs, time and memory for a small K-capped build."""
    from bench.geo import measure_case

    row = measure_case(500, 50.0, 20, 0)
    assert row["firms"] == 500 and row["k"] == 20
    assert 0 < row["pairs"] <= 500 * 20
    assert row["seconds"] > 0 and row["rss_peak_mb"] >= row["rss_before_mb"] > 0
