"""CSV firm imports in a separate, lower-priority process.

Parsing, validating, geocoding and upserting 50,000 firms is seconds of Python: in a thread of
the web process it would share the GIL with every other request.  With the ``process`` (or
``celery``) executor, :func:`import_firms_csv` hands the text to one spawned import process
(kept for the server's life, niceness ``run_nice``, ended with its parent) and waits for
the counts; the web process stays free for other organisations.  With ``inline`` or
``thread`` (tests, development) the same service function runs in the calling thread.
``POST /firms`` (JSON records) takes the same way.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import structlog
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import open_session
from app.errors import ServiceError
from app.models import bind_organisation
from app.run_process import die_with_parent, lower_priority
from app.services import firms
from app.services.organisations import Caller
from matching import FIRM_ALIASES, InputFileError, RowError, ignored_columns, read_table

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


FileResult = tuple[int, int, list[str], dict[str, str], list[str]]


def _import_file(
    db: Session, caller: Caller, data: bytes, filename: str, sheet: str | None, lang: str,
    settings: Settings,
) -> FileResult:  # fmt: skip
    """Read an uploaded CSV or xlsx (:func:`matching.sme.tabular.read_table`), then import it."""
    table = read_table(data, source=filename, filename=filename, sheet=sheet,
                       require_rows=True, max_rows=settings.max_rows, lang=lang)  # fmt: skip
    created, updated, ids = firms.import_firm_rows(
        db=db, caller=caller, rows=table.rows, source=filename
    )
    ignored = ignored_columns(table.rows[0], FIRM_ALIASES)
    return created, updated, ids, table.read_as.to_dict(), ignored


def _csv_job(
    db: Session, caller: Caller, text: str, filename: str, settings: Settings
) -> ImportResult:
    return firms.import_firms_csv(
        db=db, caller=caller, text=text, filename=filename, settings=settings
    )


def _records_job(
    db: Session, caller: Caller, records: list[dict[str, Any]], settings: Settings
) -> ImportResult:
    return firms.upsert_firms(db=db, caller=caller, records=records, settings=settings)


_JOBS = {"csv": _csv_job, "records": _records_job, "file": _import_file}


def _import_in_child(
    job: str, settings: Settings, caller: Caller, *args: object
) -> tuple[str, object]:
    """Run ``_JOBS[job]``; return ``(kind, value)``: the result, or the error to raise again."""
    with open_session(settings) as db:
        bind_organisation(db, caller.organisation_id)
        try:
            return "ok", _JOBS[job](db, caller, *args, settings)  # type: ignore[operator]
        except InputFileError as exc:  # its constructor's arguments do not survive pickling
            return "file", (exc.source, [(e.row, e.field, e.message, e.text) for e in exc.errors])
        except ServiceError as exc:
            return "service", (type(exc), exc.detail, exc.members, getattr(exc, "text", None))
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


def _in_import_process(
    db: Session, settings: Settings, job: str, caller: Caller, *args: object
) -> ImportResult:
    db.close()  # the child writes through its own connection; release this one meanwhile
    try:
        future = _pool_for(settings).submit(_import_in_child, job, settings, caller, *args)
        kind, value = future.result()
    except BrokenProcessPool:
        _forget_pool()
        log.error("import_process_died", organisation_id=caller.organisation_id)
        raise
    if kind == "file":
        source, errors = value  # type: ignore[misc]
        raise InputFileError(source, [RowError(*e) for e in errors])
    if kind == "service":
        cls, detail, members, text = value  # type: ignore[misc]
        error = cls.__new__(cls)
        ServiceError.__init__(error, detail, **members)
        if text is not None:  # the catalogue text (app.i18n.with_text) survives the process
            error.text = text
        raise error
    if kind == "error":
        raise RuntimeError(f"the import process failed ({value}); see its log")
    return value  # type: ignore[return-value]


def _inline(settings: Settings) -> bool:
    return settings.executor in ("inline", "thread")


def import_firms_csv(
    *, db: Session, caller: Caller, text: str, filename: str, settings: Settings
) -> ImportResult:
    """Import an SMES.csv text like :func:`app.services.firms.import_firms_csv` (blocking)."""
    if _inline(settings):
        return firms.import_firms_csv(
            db=db, caller=caller, text=text, filename=filename, settings=settings
        )
    firms.check_row_limit(
        count=firms.data_rows(text), settings=settings
    )  # before shipping the text
    return _in_import_process(db, settings, "csv", caller, text, filename)


def import_firms_file(
    *,
    db: Session, caller: Caller, data: bytes, filename: str, settings: Settings,
    sheet: str | None = None, lang: str = "en",
) -> FileResult:  # fmt: skip
    """Read and import an uploaded firm file (CSV or xlsx bytes) in the import process.

    Reading a 50,000-row workbook takes seconds of Python, so with the ``process``/``celery``
    executor it happens in the import process too; returns the counts, the ids, what was
    read (``ReadAs.to_dict()``) and the header cells skipped as no kring column.
    """
    if _inline(settings):
        return _import_file(db, caller, data, filename, sheet, lang, settings)
    result = _in_import_process(db, settings, "file", caller, data, filename, sheet, lang)
    return result  # type: ignore[return-value]


def upsert_firms(
    *, db: Session, caller: Caller, records: list[dict[str, Any]], settings: Settings
) -> ImportResult:
    """Create or update JSON firm records like :func:`app.services.firms.upsert_firms`."""
    if _inline(settings):
        return firms.upsert_firms(db=db, caller=caller, records=records, settings=settings)
    firms.check_row_limit(count=len(records), settings=settings)
    return _in_import_process(db, settings, "records", caller, records)
