"""Input hardening over the live spec: strict request models, bounded pagination, body and
row limits, formula-safe CSV/XLSX exports, and no SQL built from strings."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from app.services.results import spreadsheet_safe
from tests.app.conftest import auth, client_for, make_settings
from tests.app.test_firms import firm
from tests.security.conftest import EVIL_NAME, World, object_params

APP_DIR = Path(__file__).resolve().parents[2] / "app"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _spec(w: World) -> dict[str, Any]:
    return w.client.app.openapi()  # type: ignore[attr-defined,no-any-return]


def _objects(schema: dict[str, Any], spec: dict[str, Any], seen: set[str]) -> list[str]:
    """Names of the object schemas reachable from ``schema`` that allow extra members."""
    loose = []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        target = spec["components"]["schemas"][name]
        if (
            target.get("type", "object") == "object"
            and target.get("additionalProperties") is not False
        ):
            loose.append(name)
        schema = target
    subs = [*schema.get("properties", {}).values(), *filter(None, [schema.get("items")])]
    subs += [*schema.get("anyOf", []), *schema.get("allOf", []), *schema.get("oneOf", [])]
    for sub in subs:
        loose += _objects(sub, spec, seen)
    return loose


def test_every_json_request_model_rejects_unknown_fields(world: World) -> None:
    """Every JSON request body (and nested model) in the spec forbids unknown members."""
    spec = _spec(world)
    bodies = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                bodies += 1
                loose = _objects(content["application/json"]["schema"], spec, set())
                assert not loose, f"{method.upper()} {path}: {loose} accept unknown fields"
    assert bodies >= 6


def test_unknown_fields_are_422_live(world: World) -> None:
    """Unknown members in JSON bodies answer 422 with the offending field named."""
    w, h = world, auth(world.a["admin"])
    cases = [
        ("post", "/api/v1/runs", {"purpose": "training", "is_admin": True}),
        ("post", "/api/v1/firms", [firm("x1", organisation_id=2)]),
        ("patch", f"/api/v1/firms/{w.firm_ids[0]}", {"organisation_id": 2}),
        ("post", "/api/v1/competitors", [{"sme_a": "g01", "sme_b": "g02", "x": 1}]),
        ("post", "/api/v1/api-keys", {"role": "viewer", "organisation_id": 2}),
    ]
    for method, url, body in cases:
        r = w.client.request(method, url, json=body, headers=h)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["errors"], url


def test_pagination_is_bounded(world: World) -> None:
    """Every `limit` parameter has a maximum <= 1000, and limit=1001 answers 422."""
    w = world
    spec, found = _spec(w), 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                if p["name"] in ("limit", "page_size", "per_page"):
                    found += 1
                    assert 0 < p["schema"].get("maximum", 10**9) <= 1000, path
                    url = path
                    for name, value in object_params(w).items():
                        url = url.replace("{" + name + "}", str(value))
                    r = w.client.request(
                        method, url, params={p["name"]: 1001}, headers=auth(w.a["admin"])
                    )
                    assert r.status_code == 422, (path, r.status_code)
    assert found >= 4


def test_every_body_taking_operation_has_a_size_limit(world: World) -> None:
    """A body over KRING_MAX_BODY_BYTES answers 413 on every operation that takes a body."""
    w = world
    limited = make_settings(Path(w.settings.database_url.removeprefix("sqlite:///")),
                            max_body_bytes=10_000)  # fmt: skip
    spec, checked = _spec(w), 0
    with client_for(limited) as client:
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if "requestBody" not in op:
                    continue
                url = path
                for name, value in object_params(w).items():
                    url = url.replace("{" + name + "}", str(value))
                big = b"[" + b'"x",' * 5000 + b'"x"]'
                headers = {**auth(w.a["admin"]), "content-type": "application/json"}
                r = client.request(method, url, content=big, headers=headers)
                assert r.status_code == 413, (method, path, r.status_code)
                checked += 1
    assert checked >= 6


def test_row_limits_apply_to_json_and_csv(world: World) -> None:
    """More rows than KRING_MAX_ROWS answer 422 for firm and pair uploads (JSON and CSV)."""
    w = world
    limited = make_settings(Path(w.settings.database_url.removeprefix("sqlite:///")), max_rows=3)
    h = auth(w.a["member"])
    with client_for(limited) as client:
        firms = [firm(f"r{i}") for i in range(4)]
        assert client.post("/api/v1/firms", json=firms, headers=h).status_code == 422
        pairs = [{"sme_a": "g01", "sme_b": f"g0{i}"} for i in range(2, 6)]
        assert client.post("/api/v1/partners", json=pairs, headers=h).status_code == 422
        text = "sme_a,sme_b\n" + "".join(f"g01,g0{i}\n" for i in range(2, 6))
        r = client.post("/api/v1/partners", files={"file": ("p.csv", text)}, headers=h)
        assert r.status_code == 422
        assert client.get("/api/v1/firms/r0", headers=h).status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+31 6", "'+31 6"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\t=x", "'\t=x"), ("Bakker", "Bakker"), (12, 12), (-3.5, -3.5), ("", "")],
)  # fmt: skip
def test_spreadsheet_safe(value: object, expected: object) -> None:
    """Text that a spreadsheet would evaluate gets a leading apostrophe; numbers do not."""
    assert spreadsheet_safe(value) == expected


def test_csv_and_xlsx_exports_are_formula_safe(world: World) -> None:
    """Every CSV/XLSX export in the spec escapes a firm named '=HYPERLINK(...)'."""
    w = world
    spec, exports = _spec(w), 0
    for path, item in spec["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        content = op.get("responses", {}).get("200", {}).get("content", {})
        if "text/csv" not in content and XLSX not in content:
            continue
        url = path
        for name, value in object_params(w).items():
            url = url.replace("{" + name + "}", str(value))
        r = w.client.get(url, headers=auth(w.a["admin"]))
        assert r.status_code == 200, (path, r.text)
        cells = _cells(r.content, r.headers["content-type"])
        if "/template." not in path:  # the firm import templates hold no stored data
            assert "'" + EVIL_NAME in cells, path
        assert not [c for c in cells if c.startswith(FORMULA)], path
        exports += 1
    assert exports >= 1


def _cells(data: bytes, content_type: str) -> list[str]:
    if content_type.startswith("text/csv"):
        return [c for row in csv.reader(io.StringIO(data.decode())) for c in row]
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [
        str(c.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]


def _psycopg_composed(call: ast.Call) -> bool:
    """``sql.SQL("...").format(sql.Identifier(x), ...)``: psycopg quotes every part itself."""
    target = call.func.value if isinstance(call.func, ast.Attribute) else None
    literal = (
        isinstance(target, ast.Call)
        and isinstance(target.func, ast.Attribute)
        and target.func.attr == "SQL"
        and len(target.args) == 1
        and isinstance(target.args[0], ast.Constant)
    )
    parts_quoted = all(
        isinstance(a, ast.Call)
        and isinstance(a.func, ast.Attribute)
        and a.func.attr in ("Identifier", "Literal")
        for a in call.args
    )
    return literal and parts_quoted


def _sql_from_strings(tree: ast.AST) -> list[int]:
    """Line numbers of execute()/text() calls whose SQL is built from strings at run time."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name not in ("execute", "exec_driver_sql", "text", "executescript"):
            continue
        arg = node.args[0]
        built = isinstance(arg, ast.JoinedStr | ast.BinOp) or (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Attribute)
            and arg.func.attr in ("format", "join", "replace")
            and not _psycopg_composed(arg)
        )
        if name in ("text", "exec_driver_sql", "executescript"):
            built = built or not isinstance(arg, ast.Constant)
        if built:
            lines.append(node.lineno)
    return lines


def test_no_sql_is_built_from_strings() -> None:
    """app/ never passes f-strings, concatenation or .format() SQL to execute() or text()."""
    offenders = {}
    for path in APP_DIR.rglob("*.py"):
        lines = _sql_from_strings(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(APP_DIR))] = lines
    assert offenders == {}
    probe = ast.parse('db.execute(f"SELECT * FROM firm WHERE name = \'{name}\'")\ntext("x" + y)')
    assert _sql_from_strings(probe) == [1, 2]
    composed = 'c.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(n)))\n'
    composed += 'c.execute(sql.SQL("DROP DATABASE {}").format(n))'  # an unquoted part
    assert _sql_from_strings(ast.parse(composed)) == [2]


def test_huge_ids_and_bare_carriage_returns_are_422(world: World) -> None:
    """Regressions found by schemathesis: an id beyond 64 bits and a bare CR were 500."""
    w, h = world, auth(world.a["admin"])
    assert w.client.get(f"/api/v1/runs/{2**70}", headers=h).status_code == 422
    r = w.client.post("/api/v1/firms", json=[firm("cr", sbi_code="\r")], headers=h)
    assert r.status_code == 422, r.text
