"""Schemathesis against the live OpenAPI spec (in-process ASGI), on SQLite and PostgreSQL:
no 5xx, and every response conforms to the spec (status code, content type, headers, body
schema).  Besides schemathesis' own strategies, every string field of every operation (path,
query, JSON body at any depth, CSV cells) gets NUL bytes and over-long strings: no 5xx."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.app.conftest import auth
from tests.app.test_firms import firm
from tests.security.conftest import DATABASES, World, minimal_instance, object_params, world_on

pytestmark = pytest.mark.slow
EXAMPLES = 8  # per operation: the whole module stays well under ~3 minutes
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
SUMMARY = Path(__file__).resolve().parents[2] / "test-artifacts" / "schemathesis-summary.json"
cases: Counter[str] = Counter()


@pytest.fixture(scope="module", params=DATABASES)
def fuzz_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[World]:  # fmt: skip
    """Org A populated, on SQLite and on PostgreSQL; runs are capped at 2 s (quick POST /runs)."""
    path = tmp_path_factory.mktemp(f"fuzz-{request.param}") / "kring.db"
    yield from world_on(request.param, path, max_time_limit_s=2.0)
    SUMMARY.parent.mkdir(exist_ok=True)
    total = sum(cases.values())
    SUMMARY.write_text(json.dumps({"cases": total, "by_operation": dict(cases)}, indent=1))
    print(f"\nschemathesis: {total} generated cases over {len(cases)} operations")


@pytest.fixture
def api_schema(fuzz_world: World) -> schemathesis.BaseSchema:
    """The app's live spec, loaded through the ASGI transport."""
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.client.app)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def test_fuzz_every_operation(api_schema: schemathesis.BaseSchema, fuzz_world: World) -> None:
    """Generated requests (with an admin key of org A) never get a 5xx or an off-spec answer."""
    headers = auth(fuzz_world.a["admin"])
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    seen: set[str] = set()
    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            cases[f"{case.method} {case.path}"] += 1  # summed over both databases
            seen.add(f"{case.method} {case.path}")
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
    assert len(seen) == len(operations)


def test_fuzz_stateful(api_schema: schemathesis.BaseSchema, fuzz_world: World) -> None:
    """Chained calls along the links schemathesis infers (create -> read -> change -> delete)."""
    machine = api_schema.as_state_machine()
    key = fuzz_world.a["admin"]

    class Machine(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            cases[f"stateful {case.method} {case.path}"] += 1
            return {"headers": auth(key)}

        def validate_response(
            self, response: object, case: schemathesis.Case, **kw: object
        ) -> None:
            case.validate_response(response, checks=CHECKS)  # 422 for domain rules is in spec

    Machine.run(settings=settings(max_examples=6, stateful_step_count=4, deadline=None,
                                  suppress_health_check=list(HealthCheck)))  # fmt: skip


# --- NUL bytes and over-long strings in every string field ------------------------------

EVIL = st.one_of(
    st.text(max_size=4).map(lambda t: f"{t}\x00{t}"),  # a NUL inside
    st.just("\x00"),
    st.sampled_from([65, 301, 2_001, 10_000, 100_000]).map(lambda n: "x" * n),  # past a column
    st.text(min_size=1, max_size=2).map(lambda t: t * 6_000),  # long, any code points
)
"""Strings that must answer 4xx wherever a string is accepted."""
FIELD_EXAMPLES = 3  # per string field: the sweep stays within ~1 minute per database
Where = tuple[str, str, tuple[str | int, ...]]  # ("path"|"query"|"body"|"csv", name, body path)


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _string_leaves(schema: dict[str, Any], spec: dict[str, Any], depth: int = 0
                   ) -> list[tuple[str | int, ...]]:  # fmt: skip
    """Paths (keys, 0 for list items) of every string in a JSON schema."""
    schema = _resolve(schema, spec)
    options = [_resolve(o, spec) for o in schema.get("anyOf", schema.get("oneOf", [schema]))]
    if depth > 4 or any(o.get("type") == "string" and "enum" not in o for o in options):
        return [] if depth > 4 else [()]
    leaves: list[tuple[str | int, ...]] = []
    for option in options:
        if option.get("type") == "array":
            leaves += [(0, *p) for p in _string_leaves(option["items"], spec, depth + 1)]
        for name, sub in option.get("properties", {}).items():
            leaves += [(name, *p) for p in _string_leaves(sub, spec, depth + 1)]
    return leaves


CSV_UPLOADS = {
    "/api/v1/firms/import": "external_id,name,postcode,sbi_code,employees,digital_level,needs\n"
    "fz-1,Fuzz BV,9711,4120,12,2,train.vocational\n",
    "/api/v1/competitors": "sme_a,sme_b\ng01,g02\n",
    "/api/v1/partners": "sme_a,sme_b\ng01,g03\n",
}
BASES: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/firms"): [firm("fz-1")],
    ("post", "/api/v1/competitors"): [{"sme_a": "g01", "sme_b": "g02"}],
    ("post", "/api/v1/partners"): [{"sme_a": "g01", "sme_b": "g03"}],
    ("post", "/api/v1/runs"): {"purpose": "training", "time_limit_s": 1, "seed": 1},
}


def string_fields(spec: dict[str, Any]) -> list[tuple[str, str, Where]]:
    """(method, path, where) for every string parameter, body string and CSV cell."""
    out: list[tuple[str, str, Where]] = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                if p["in"] in ("path", "query") and _string_leaves(p["schema"], spec) == [()]:
                    out.append((method, path, (p["in"], p["name"], ())))
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for leaf in _string_leaves(content["application/json"]["schema"], spec):
                    out.append((method, path, ("body", "", leaf)))
            if method == "post" and path in CSV_UPLOADS:
                columns = CSV_UPLOADS[path].split("\n", 1)[0].split(",")
                out += [(method, path, ("csv", c, ())) for c in columns]
    return out


def _put(body: Any, where: tuple[str | int, ...], value: str) -> Any:
    if not where:
        return value
    key, rest = where[0], where[1:]
    if isinstance(key, int):
        items = list(body) if isinstance(body, list) and body else [{} if rest else ""]
        items[0] = _put(items[0], rest, value)
        return items
    out = dict(body) if isinstance(body, dict) else {}
    out[key] = _put(out.get(key), rest, value)
    return out


def evil_request(w: World, spec: dict[str, Any], method: str, path: str, where: Where,
                 value: str) -> dict[str, Any]:  # fmt: skip
    """The keyword arguments of ``client.request`` with ``value`` at ``where``."""
    kind, name, leaf = where
    known = {**object_params(w), "layer": "province"}
    params = {k: v for k, v in known.items() if "{" + k + "}" in path}
    if kind == "path":
        params[name] = value
    url = path
    for key, val in params.items():
        url = url.replace("{" + key + "}", quote(str(val), safe=""))
    kwargs: dict[str, Any] = {"headers": auth(w.a["admin"])}
    if kind == "query":
        kwargs["params"] = {name: value}
    op = spec["paths"][path][method]
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        base = BASES.get((method, path))
        if base is None:
            base = minimal_instance(content["application/json"]["schema"], spec)
        kwargs["json"] = _put(copy.deepcopy(base), leaf, value) if kind == "body" else base
    if kind == "csv":
        header, row = CSV_UPLOADS[path].strip().split("\n")
        cells = dict(zip(header.split(","), row.split(","), strict=True))
        cells[name] = '"' + value.replace('"', '""') + '"'
        text = header + "\n" + ",".join(cells.values()) + "\n"
        kwargs.pop("json", None)
        kwargs["files"] = {"file": ("fuzz.csv", text.encode())}
    assert "{" not in url, url
    return {"method": method, "url": url, **kwargs}


def test_nul_and_over_long_strings_in_every_string_field(fuzz_world: World) -> None:
    """NUL bytes and strings past every column length, in each string field of each operation
    (path, query, JSON at any depth, CSV cells), never get a 5xx."""
    w = fuzz_world
    spec = w.client.app.openapi()  # type: ignore[attr-defined]
    fields = string_fields(spec)
    assert len({(m, p) for m, p, _ in fields}) >= 20 and len(fields) >= 60, len(fields)
    failures: list[str] = []
    for method, path, where in fields:
        _sweep(w, spec, (method, path, where), failures)
    assert failures == []


def _sweep(w: World, spec: dict[str, Any], field: tuple[str, str, Where], failures: list[str]
           ) -> None:  # fmt: skip
    method, path, where = field

    @settings(max_examples=FIELD_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=True)  # fmt: skip
    @given(value=EVIL)
    def check(value: str) -> None:
        cases[f"evil {method.upper()} {path}"] += 1
        r = w.client.request(**evil_request(w, spec, method, path, where, value))
        if r.status_code >= 500:
            failures.append(f"{method.upper()} {path} {where}: {r.status_code} {value[:20]!r}")

    check()
