"""``kring bench scale``: wall time, memory and speed-up of windowed runs on 1 and 2 processes."""

from __future__ import annotations

import typer


def _one(n: int, workers: int, windows: int, iterations: int, seed: int) -> dict[str, object]:
    """Solve a generated cohort of ``n`` firms in windows on ``workers`` processes."""
    import resource
    import time
    from concurrent.futures import ProcessPoolExecutor

    from matching import RunSettings, SolveParams, build_instance, generate_cohort, verify
    from matching import distributed as d

    cohort = generate_cohort(n, seed=seed)
    settings = RunSettings.from_dict({"purpose": "training", "seed": seed})
    began = time.monotonic()
    instance, _ = build_instance(cohort.firms, cohort.competitors, cohort.partners, settings)
    n_windows = windows or d.auto_windows(int(instance.is_placeable.sum()))
    plans = d.plan_windows(instance, n_windows, float(instance.max_pair_km or 50.0))
    n_placeable = max(int(instance.is_placeable.sum()), 1)
    budgets = [round(iterations * len(p.core) / n_placeable) for p in plans]
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(d.solve_window, instance, p, seed=seed, max_iterations=b, time_limit_s=None)
            for p, b in zip(plans, budgets, strict=True)
        ]
        results = [f.result() for f in futures]
        windows_s = time.monotonic() - began
        params = SolveParams(time_limit_s=None, max_iterations=iterations, seed=seed)
        repair = d.plan_repair(instance, plans, results)  # then its parts, in parallel
        parts = [pool.submit(d.solve_repair_part, instance, p, params) for p in repair.parts]
        solved = [f.result() for f in parts]
        repaired = time.monotonic()
    result = d.finish_merge(instance, repair, solved, params)
    wall = time.monotonic() - began
    finish_s = began + wall - repaired
    assert result.solution is not None
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "firms": n,
        "workers": workers,
        "windows": len(plans),
        "windows_s": round(windows_s, 1),
        "parts": len(repair.parts),
        "wall_s": round(wall, 1),
        "peak_mb": round(peak_kb / 1024),
        "placed": result.placed,
        "bound": result.bound_placed,
        "affinity": round(result.affinity, 1),
        "verified": not verify(instance, result.solution),
        "repair_s": round(repaired - began - windows_s, 1),
        "finish_s": round(finish_s, 1),
    }


COLUMNS = (
    "firms workers windows windows_s parts wall_s peak_mb placed bound affinity verified "
    "repair_s finish_s"
)


def bench_scale(
    sizes: str = typer.Option("10000,50000", help="Cohort sizes, comma-separated."),
    workers: str = typer.Option("1,2", help="Worker process counts, comma-separated."),
    windows: int = typer.Option(
        0, min=0, help="Regional windows per run (0: by size, about 2,000 firms per window)."
    ),
    iterations: int = typer.Option(
        ..., help="Search iteration budget per 1,000 firms (a run of n firms gets n/1000 times it)."
    ),
    seed: int = typer.Option(..., help="Cohort and search seed."),
) -> None:
    """Wall time, peak memory and speed-up of windowed runs on 1 and 2 worker processes.

    Each configuration runs in a fresh process (clean peak memory); the windows, then the
    border repair's parts, are solved by a process pool standing in for Celery workers (no
    broker or database in the loop); planning the repair and the final verified assembly
    run in the parent, as in the Celery merge task.
    """
    import json
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    print("| firms | workers | windows | windows s | repair parts | wall s | peak MB | placed | "
          "bound | affinity | verified | repair s | finish s | speed-up |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in sizes.split(",")):
        base = None
        for w in (int(s) for s in workers.split(",")):
            with ProcessPoolExecutor(1, mp_context=context) as fresh:
                budget = max(1, round(iterations * n / 1000))
                row = fresh.submit(_one, n, w, windows, budget, seed).result()
            base = base or float(row["wall_s"])  # type: ignore[arg-type]
            speedup = base / float(row["wall_s"])  # type: ignore[arg-type]
            cells = [row[k] for k in COLUMNS.split()]
            print("| " + " | ".join(str(c) for c in cells) + f" | {speedup:.2f} |", flush=True)
            print(json.dumps(row), file=sys.stderr)
