"""Reading uploaded CSV files and JSON-or-multipart bodies (shared by firm and link routes)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.errors import InvalidInputError


async def read_text(file: UploadFile) -> str:
    """Return an uploaded file as UTF-8 text (a BOM is tolerated); 422 otherwise."""
    data = await file.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"the file is not UTF-8 text (byte {exc.start})"
        raise InvalidInputError(
            message, [{"row": None, "field": "file", "message": message}]
        ) from None


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


async def json_or_csv(
    request: Request, item: type[BaseModel]
) -> tuple[list[dict[str, Any]] | None, str | None, str]:
    """Return ``(records, None, "")`` for JSON or ``(None, text, filename)`` for multipart."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
            message = "send the CSV as multipart field 'file'"
            raise InvalidInputError(
                message, [{"row": None, "field": "file", "message": message}]
            ) from None
        return None, await read_text(upload), getattr(upload, "filename", "") or "upload.csv"  # type: ignore[arg-type]
    try:
        raw = await request.json()
    except ValueError:
        message = "the body is not valid JSON"
        raise InvalidInputError(
            message, [{"row": None, "field": "body", "message": message}]
        ) from None
    try:
        items = TypeAdapter(list[item]).validate_python(raw)  # type: ignore[valid-type]
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    return [i.model_dump() for i in items], None, ""
