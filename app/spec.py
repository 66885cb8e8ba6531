"""The OpenAPI document as served and exported: FastAPI's output, finished for generators.

FastAPI emits OpenAPI 3.1, where an upload field is ``{"type": "string",
"contentMediaType": "application/octet-stream"}``.  Most client generators
(openapi-python-client, openapi-zod-client, ng-openapi-gen) and Swagger UI's upload form
only recognise the 3.0 spelling ``"format": "binary"``, so every such field gets both.
Responses that are files (xlsx, csv) declare a binary string schema.  The main flows
(import, run, groups, accept) carry request examples, shown by Swagger UI and ReDoc.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

BINARY = {"type": "string", "format": "binary"}
SAMPLE_CSV = """\
external_id,name,postcode,sbi_code,employees,digital_level,needs,lat,lon,kvk_number,weight
g01,Bouwbedrijf Bakker,9711 AB,4120,12,2,train.vocational;hr.recruitment,,,12345678,
g02,Installatietechniek De Vries,9712,4321,25,3,train.vocational;dig.cybersecurity,,,,
"""
IMPORT_DESCRIPTION = (
    "A CSV file (`,` or `;`, UTF-8 or cp1252, header row) or an Excel workbook (`.xlsx`, first "
    "sheet or `?sheet=`), with English or Dutch column names (start from GET "
    "/firms/template.xlsx), e.g.\n\n"
    "```\n" + SAMPLE_CSV + "```\n\n`needs` are need codes or their Dutch or English labels "
    "(GET /needs), separated by `;`."
)
FIRM_EXAMPLE = {
    "external_id": "g01",
    "name": "Bouwbedrijf Bakker",
    "postcode": "9711 AB",
    "sbi_code": "4120",
    "employees": 12,
    "digital_level": 2,
    "needs": ["train.vocational", "hr.recruitment"],
    "kvk_number": "12345678",
}
RUN_EXAMPLES: dict[str, dict[str, Any]] = {
    "training": {
        "summary": "Training groups with the default rules (10-15 firms, 50 km)",
        "value": {"purpose": "training", "time_limit_s": 30, "seed": 1},
    },
    "constraints": {
        "summary": "Training groups of 8-12 firms at most 40 km apart",
        "value": {
            "purpose": "training",
            "constraints": {"min_size": 8, "max_size": 12, "max_pair_km": 40},
            "time_limit_s": 30,
        },
    },
    "subsidy": {
        "summary": "Groups for a subsidy scheme (ids from GET /schemes)",
        "value": {"purpose": "subsidy", "scheme_id": "slim", "time_limit_s": 60},
    },
    "profile": {
        "summary": "The settings of a stored profile (GET /profiles)",
        "value": {"profile_id": 1},
    },
}


def _json(name: str, summary: str, value: Any) -> dict[str, dict[str, Any]]:
    """One named example of a JSON request body."""
    return {"application/json": {name: {"summary": summary, "value": value}}}


# operationId -> media type -> examples of its request body
BODY_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "firms-upsert": _json("one firm", "Create or update one firm", [FIRM_EXAMPLE]),
    "competitors-add": _json("pair", "g01 and g10 compete", [{"sme_a": "g01", "sme_b": "g10"}]),
    "runs-create": {"application/json": RUN_EXAMPLES},
    "review-accept": _json(
        "comment", "Accept with a comment", {"comment": "Akkoord na overleg met de regio"}
    ),
    "review-reject": _json(
        "comment", "Reject with a reason", {"comment": "Twee leden zijn concurrenten"}
    ),
}
# path parameters of the main flows: the first run and its first group
PARAMETER_EXAMPLES = {"run_id": 1, "group_id": 1, "number": 1, "group_number": 1}
PARAMETER_OPERATIONS = ("runs-get", "runs-groups", "runs-groups-xlsx", "review-accept")


def add_binary_formats(node: Any) -> None:
    """Give every ``contentMediaType`` string schema ``"format": "binary"`` too (in place)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "contentMediaType" in node:
            node.setdefault("format", "binary")
        for value in node.values():
            add_binary_formats(value)
    elif isinstance(node, list):
        for value in node:
            add_binary_formats(value)


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in document.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


def declare_binary_responses(document: dict[str, Any]) -> None:
    """Give file responses (any media type but JSON and HTML) a binary string schema."""
    for op in _operations(document).values():
        for response in op.get("responses", {}).values():
            for media_type, content in response.get("content", {}).items():
                if "json" in media_type or media_type == "text/html":
                    continue
                if not content.get("schema"):
                    content["schema"] = dict(BINARY)


def add_examples(document: dict[str, Any]) -> None:
    """Add request examples to the main flows (operations missing from the spec are skipped)."""
    operations = _operations(document)
    for operation_id, by_media_type in BODY_EXAMPLES.items():
        content = operations.get(operation_id, {}).get("requestBody", {}).get("content", {})
        for media_type, examples in by_media_type.items():
            if media_type in content:
                content[media_type]["examples"] = copy.deepcopy(examples)
    body = operations.get("firms-import", {}).get("requestBody")
    if body is not None:
        body["description"] = IMPORT_DESCRIPTION
    for operation_id in PARAMETER_OPERATIONS:
        for parameter in operations.get(operation_id, {}).get("parameters", []):
            if parameter.get("in") == "path" and parameter["name"] in PARAMETER_EXAMPLES:
                parameter["example"] = PARAMETER_EXAMPLES[parameter["name"]]


ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "The language of every text in the answer (problem title and detail, "
    "explanations, reasons, advice, export headers): `nl` (Dutch, the default when the header "
    "is missing or names neither) or `en` (English), chosen by quality as in RFC 9110, e.g. "
    "`en-GB,en;q=0.9`.  Codes stay beside the words whatever the language; the answer's "
    "`Content-Language` header names the language used.",
    "schema": {"type": "string", "default": "nl", "examples": ["nl", "en", "en-GB,en;q=0.9"]},
}


def declare_accept_language(document: dict[str, Any]) -> None:
    """Declare the optional ``Accept-Language`` header on every operation (inline, so that
    every generator and reader of ``parameters`` sees ``name`` and ``in``)."""
    for op in _operations(document).values():
        parameters = op.setdefault("parameters", [])
        named = {str(p.get("name", "")).lower() for p in parameters if p.get("in") == "header"}
        if "accept-language" not in named:
            parameters.append(copy.deepcopy(ACCEPT_LANGUAGE))


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Finish FastAPI's document in place (idempotent) and return it."""
    add_binary_formats(document)
    declare_binary_responses(document)
    add_examples(document)
    name_operations(document)
    declare_accept_language(document)
    return document


def name_operations(document: dict[str, Any]) -> None:
    """Name every operation whose summary FastAPI made up after its function by its docstring.

    FastAPI titles an operation without a summary after its function ("Get Csv", "Post Api
    Key"); the route docstrings are written for people, so their first sentence is the name.
    A summary a route set itself (not in title case) is kept.
    """
    for operation in _operations(document).values():
        summary, description = operation.get("summary", ""), operation.get("description", "")
        if description and summary == summary.title():
            first = " ".join(description.strip().split("\n\n")[0].split())
            operation["summary"] = first.removesuffix(".")


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json`` and the export) the finished one."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(type(app).openapi(app))  # a subclass's too
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
