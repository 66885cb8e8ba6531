"""``kring bench geo``: time and peak memory of building 50 km neighbourhoods.

Each case runs in a fresh Python process, so its peak resident memory is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

CHECKOUT = Path(__file__).resolve().parents[1]
JITTER_KM = 1.0
# (firms, radius km, K cap, exact geodesic); the exact rows are what the optimiser builds.
BENCH_CASES: tuple[tuple[int, float, int | None, bool], ...] = (
    (10_000, 50.0, None, False),
    (50_000, 50.0, 200, False),
    (10_000, 50.0, None, True),
    (50_000, 50.0, 200, True),
)


def _env() -> dict[str, str]:
    """The environment of a case's process: this checkout first on the import path."""
    path = os.pathsep.join(p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def measure_case(
    n: int, radius_km: float, k: int | None, seed: int, exact: bool = False
) -> dict[str, Any]:
    """Run one build in this process and measure it (called in a fresh subprocess)."""
    import resource
    import time

    import numpy as np

    from geodata.neighbours import build_neighbourhoods
    from geodata.postcodes import load_postcode_index

    records = load_postcode_index().records()
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, len(records), n)
    lats = np.array([records[i].lat for i in chosen])
    lons = np.array([records[i].lon for i in chosen])
    lats += rng.normal(0.0, JITTER_KM / 111.2, n)
    lons += rng.normal(0.0, JITTER_KM / (111.2 * np.cos(np.radians(lats))), n)
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, start_cpu = time.perf_counter(), time.process_time()
    hood = build_neighbourhoods(lats, lons, radius_km, k=k, exact=exact)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = hood.indptr.nbytes + hood.indices.nbytes + hood.distances_km.nbytes
    return {
        "firms": n,
        "radius_km": radius_km,
        "k": k,
        "exact": exact,
        "pairs": hood.n_pairs,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": before_kb / 1024,
        "rss_peak_mb": peak_kb / 1024,
        "structure_mb": size / 2**20,
    }


def bench_geo(
    seed: Annotated[int, typer.Option(help="Random seed for the firm locations.")] = 0,
) -> None:
    """Time and peak memory to build 50 km neighbourhoods for 10,000 and 50,000 firms."""
    typer.echo(
        f"firm locations: uniform draws of real PC4 centroids (GeoNames NL), jittered by "
        f"N(0, {JITTER_KM:g} km) per axis; seed {seed}"
    )
    typer.echo(
        "each case runs in a fresh Python process; peak = ru_maxrss of that process; "
        "time = wall clock, cpu = process CPU time (insensitive to other load)"
    )
    typer.echo(
        f"{'firms':>7} {'radius':>7} {'K':>5} {'distance':>9} {'pairs kept':>12}"
        f" {'time s':>7} {'cpu s':>6}"
        f" {'RSS before MB':>14} {'peak RSS MB':>12} {'structure MB':>13}"
    )
    for n, radius_km, k, exact in BENCH_CASES:
        args = json.dumps([n, radius_km, k, seed, exact])
        code = "import json,sys; from bench.geo import measure_case; " + (
            "print(json.dumps(measure_case(*json.loads(sys.argv[1]))))"
        )
        output = subprocess.run(
            [sys.executable, "-c", code, args],
            check=True,
            capture_output=True,
            text=True,
            env=_env(),
        ).stdout
        row = json.loads(output.strip().splitlines()[-1])
        typer.echo(
            f"{row['firms']:>7} {row['radius_km']:>5g}km {row['k'] or '-':>5}"
            f" {'geodesic' if row['exact'] else 'haversine':>9} {row['pairs']:>12,}"
            f" {row['seconds']:>7.2f} {row['cpu_seconds']:>6.2f}"
            f" {row['rss_before_mb']:>14.0f} {row['rss_peak_mb']:>12.0f}"
            f" {row['structure_mb']:>13.0f}"
        )
