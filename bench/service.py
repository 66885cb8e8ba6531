"""``kring bench service``: timings of the HTTP API on a fresh SQLite file (in-process).

Measures what a branch organisation does: import a generated cohort (CSV), add its pairs,
list firms, run (inline executor, so the wall time includes storing the groups), and
read the groups as JSON, GeoJSON and CSV.  Needs the dev extra (httpx for TestClient).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.config import Settings, get_settings
from app.migrate import upgrade


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    out = call()
    return out, time.perf_counter() - began


def bench_service(n_firms: int, time_limit_s: float, seed: int) -> list[tuple[str, str, str]]:
    """Return ``(step, seconds, note)`` rows for one pass over the API."""
    from fastapi.testclient import TestClient

    from app.db import open_session
    from app.main import create_app
    from app.models import Role
    from app.services.organisations import create_organisation
    from matching.sme.firms import firms_to_csv, pairs_to_csv
    from matching.sme.generate import generate_cohort

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            executor="inline",
            api_key_pepper=SecretStr("bench"),
        )
        upgrade(settings)
        with open_session(settings) as db:
            key = create_organisation(db=db, name="bench", role=Role.member, settings=settings).key
        cohort = generate_cohort(n_firms, seed=seed)
        app = create_app()
        app.dependency_overrides[get_settings] = lambda: settings
        h = {"X-API-Key": key}
        with TestClient(app) as c:
            csv_text = firms_to_csv(cohort.firms)
            r, s = _timed(
                lambda: c.post(
                    "/api/v1/firms/import", headers=h, files={"file": ("s.csv", csv_text)}
                )
            )
            rows.append(("POST /firms/import", f"{s:.2f}", f"{n_firms} firms, {r.status_code}"))
            pairs = pairs_to_csv(cohort.competitors)
            r, s = _timed(
                lambda: c.post("/api/v1/competitors", headers=h, files={"file": ("c.csv", pairs)})
            )
            rows.append(("POST /competitors", f"{s:.2f}", f"{len(cohort.competitors)} pairs"))
            r, s = _timed(lambda: c.get("/api/v1/firms?limit=100&province=Drenthe", headers=h))
            rows.append(("GET /firms (page of 100)", f"{s:.3f}", f"total {r.json()['total']}"))
            body = {"time_limit_s": time_limit_s, "seed": seed}
            r, s = _timed(lambda: c.post("/api/v1/runs", json=body, headers=h))
            run = c.get(r.headers["location"], headers=h).json()
            stats = run["stats"] or {}
            note = (
                f"{run['status']}, solve {stats.get('solve_s')} s, "
                f"placed {stats.get('placed')}/{n_firms}, {stats.get('groups')} groups"
            )
            rows.append(("POST /runs (inline)", f"{s:.2f}", note))
            for suffix in ("groups", "groups.geojson", "groups.csv"):
                url = f"{r.headers['location']}/{suffix}"
                g, s = _timed(lambda url=url: c.get(url, headers=h))
                rows.append((f"GET /runs/{{id}}/{suffix}", f"{s:.3f}", f"{len(g.content):,} bytes"))
    return rows
