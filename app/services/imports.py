"""CSV firm imports in a separate, lower-priority process.

Parsing, validating, geocoding and upserting 50,000 firms is seconds of Python: in a thread of
the web process it would share the GIL with every other request.  With the ``process`` (or
``celery``) executor, :func:`import_firms_csv` hands the text to one spawned import process
(kept for the server's life, niceness ``run_nice``, ended with its parent) and waits for
the counts; the web process stays free for other organisations.  With ``inline`` or
``thread`` (tests, development) the same service function runs in the calling thread.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import open_session
from app.errors import ServiceError
from app.models import bind_organisation
from app.run_process import die_with_parent, lower_priority
from app.services import firms
from app.services.organisations import Caller
from matching.firms import InputFileError, RowError

log = structlog.get_logger("kring.imports")
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()
ImportResult = tuple[int, int, list[str]]


def _start_child(parent_pid: int, settings: Settings) -> None:
    """Initialiser of the import process: ends with its parent, nicer, structured logs."""
    from app.logs import configure_logging

    die_with_parent(parent_pid)
    lower_priority(settings.run_nice)
    configure_logging(settings)


def _import_in_child(
    settings: Settings, caller: Caller, text: str, filename: str
) -> tuple[str, object]:
    """Run the import; return ``("ok", result)`` or ``("file", (source, row errors))``."""
    with open_session(settings) as db:
        bind_organisation(db, caller.organisation_id)
        try:
            return "ok", firms.import_firms_csv(db, caller, text, filename, settings)
        except InputFileError as exc:  # its constructor's arguments do not survive pickling
            return "file", (exc.source, [(e.row, e.field, e.message) for e in exc.errors])
        except ServiceError as exc:
            return "service", (type(exc), exc.detail, exc.members)
        except Exception as exc:
            log.exception("import_failed", organisation_id=caller.organisation_id)
            return "error", type(exc).__name__


def _pool_for(settings: Settings) -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(os.getpid(), settings),
            )
        return _pool


def _forget_pool() -> None:
    global _pool
    with _lock:
        _pool = None


def import_firms_csv(
    db: Session, caller: Caller, text: str, filename: str, settings: Settings
) -> ImportResult:
    """Import an SMES.csv text like :func:`app.services.firms.import_firms_csv` (blocking)."""
    if settings.executor in ("inline", "thread"):
        return firms.import_firms_csv(db, caller, text, filename, settings)
    firms.check_row_limit(firms.data_rows(text), settings)  # before shipping the text
    db.close()  # the child writes through its own connection; release this one meanwhile
    try:
        kind, value = (
            _pool_for(settings).submit(_import_in_child, settings, caller, text, filename).result()
        )
    except BrokenProcessPool:
        _forget_pool()
        log.error("import_process_died", organisation_id=caller.organisation_id)
        raise
    if kind == "file":
        source, errors = value  # type: ignore[misc]
        raise InputFileError(source, [RowError(*e) for e in errors])
    if kind == "service":
        cls, detail, members = value  # type: ignore[misc]
        error = cls.__new__(cls)
        ServiceError.__init__(error, detail, **members)
        raise error
    if kind == "error":
        raise RuntimeError(f"the import process failed ({value}); see its log")
    return value  # type: ignore[return-value]
