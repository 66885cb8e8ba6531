"""Reading uploaded CSV files and JSON-or-multipart bodies (shared by firm and link routes).

Only receiving the body happens on the event loop; decoding, parsing and validating it are
plain functions that the routes run in the thread pool (a 50,000-row file takes seconds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.errors import invalid, invalid_json
from matching import read_table


def decode_text(data: bytes, filename: str = "upload.csv") -> str:
    """Return an uploaded table as comma-separated text with ``\n`` line ends; 422 otherwise.

    :func:`matching.sme.tabular.read_table` reads ``,``/``;``/tab CSV in UTF-8, cp1252 or UTF-16
    (with or without BOM; CR LF and a bare CR become ``\n``) and ``.xlsx`` workbooks.
    """
    return read_table(data, source=filename).to_csv()


def read_text(file: UploadFile) -> str:
    """Read an uploaded file (blocking: call it from a plain ``def`` route) as text."""
    return decode_text(file.file.read(), file.filename or "upload.csv")


def csv_or_json_body(item: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI ``requestBody`` for a route taking a JSON list of ``item`` or a CSV upload."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    # inlined: a $ref here would dangle (FastAPI only registers body models)
                    "schema": {"type": "array", "items": item.model_json_schema()}
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    }


@dataclass(frozen=True)
class Body:
    """A received request body: raw JSON bytes, or the bytes of the multipart field ``file``."""

    json: bytes | None = None
    file: bytes | None = None
    filename: str = ""


async def receive_body(request: Request) -> Body:
    """Receive a JSON or multipart body (the only part of an upload on the event loop)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return Body(json=await request.body())
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
        raise invalid("file", "problem.invalid-input.no_file_field")
    data = await upload.read()  # type: ignore[union-attr]
    return Body(file=data, filename=getattr(upload, "filename", "") or "upload.csv")


def json_or_csv(
    body: Body, item: type[BaseModel]
) -> tuple[list[dict[str, Any]] | None, str | None, str]:
    """Return ``(records, None, "")`` for JSON or ``(None, text, filename)`` for multipart.

    Blocking (decoding and validation): run it in the thread pool.
    """
    if body.file is not None:
        return None, decode_text(body.file, body.filename), body.filename
    try:
        raw = json.loads(body.json or b"")
    except json.JSONDecodeError as exc:
        raise invalid_json(exc.msg, exc.lineno, exc.colno) from None
    except ValueError as exc:  # e.g. bytes that are no UTF-8
        raise invalid_json(str(exc), 1, 1) from None
    try:
        items = TypeAdapter(list[item]).validate_python(raw)  # type: ignore[valid-type]
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    return [i.model_dump() for i in items], None, ""
