"""Schemathesis against the live OpenAPI spec (in-process ASGI): no 5xx, and every response
conforms to the spec (status code, content type, headers, body schema)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.db import dispose_engine
from app.migrate import upgrade
from tests.app.conftest import auth, client_for, make_settings
from tests.security.conftest import World, build_world

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


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Org A populated; runs are capped at 2 s so fuzzed POST /runs stay quick."""
    s = make_settings(tmp_path_factory.mktemp("fuzz") / "kring.db", max_time_limit_s=2.0)
    upgrade(s)
    with client_for(s) as client:
        yield build_world(s, client)
    dispose_engine(s.database_url)
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
    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            cases[f"{case.method} {case.path}"] += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
    assert len(cases) == len(operations)


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
