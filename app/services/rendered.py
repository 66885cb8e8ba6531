"""Rendered groups JSON and GeoJSON of succeeded runs, cached per process.

A succeeded run's groups never change, except a group's review decision and the data of
its member firms (edits, GDPR erasure).  Each request therefore checks a cheap version
token read from the database — the run's ``finished_at``, the organisation's firm count
and newest ``updated_at``, and the run's decision count and newest ``decided_at`` — and
serves the cached bytes while the token is unchanged.  The token is read in the
request's session, so organisation scoping and the 404 for other organisations' runs
still happen first; the key includes whether the caller gets the viewer's minimised firm
view.  Because the token lives in the database, several server processes stay correct.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Firm, Group
from app.schemas import RunGroups
from app.services import results
from app.services.privacy import firm_view
from app.services.review import succeeded_run

MAX_ENTRIES = 32
_lock = threading.Lock()
_cache: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()


def _token(db: Session, run_id: int) -> Hashable:
    """What the rendered result depends on; raises 404/409 like the uncached read."""
    run = succeeded_run(db, run_id)  # the same 404 / 409 as the uncached read
    firms = db.execute(select(func.count(Firm.id), func.max(Firm.updated_at))).one()
    decisions = db.execute(
        select(func.count(Group.decided_at), func.max(Group.decided_at)).where(
            Group.run_id == run_id
        )
    ).one()
    return (run.finished_at, *firms, *decisions)


def _cached(db: Session, key: tuple[Any, ...], render: Callable[[], bytes]) -> bytes:
    token = _token(db, key[1])
    full_key = (*key, firm_view(db).minimise)
    with _lock:
        hit = _cache.get(full_key)
        if hit is not None and hit[0] == token:
            _cache.move_to_end(full_key)
            return hit[1]
    body = render()
    with _lock:
        _cache[full_key] = (token, body)
        _cache.move_to_end(full_key)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return body


def groups_json(db: Session, run_id: int) -> bytes:
    """``GET /runs/{id}/groups`` as JSON bytes (validated against ``RunGroups``)."""

    def render() -> bytes:
        body = RunGroups.model_validate(results.run_groups(db, run_id))
        return body.model_dump_json().encode()

    return _cached(db, ("groups", run_id), render)


def groups_geojson(db: Session, run_id: int, *, unassigned: bool) -> bytes:
    """``GET /runs/{id}/groups.geojson`` as bytes (rendered as ``JSONResponse`` would)."""

    def render() -> bytes:
        body = results.run_geojson(db, run_id, unassigned=unassigned)
        return JSONResponse(body).body

    return _cached(db, ("geojson", run_id, unassigned), render)
