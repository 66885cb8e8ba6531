"""Pins the project-wide shape: the CLI entry point and the pure-library rule."""

import ast
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"app", "fastapi", "starlette", "sqlalchemy", "alembic", "pydantic_settings"}


def test_cli_help_lists_bench_group() -> None:
    """`kring --help` runs and lists the bench command group."""
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "bench" in result.output


def test_pure_libraries_import_no_service_code() -> None:
    """matching/ and geodata/ never import the service, web or database layers."""
    offenders = []
    for pkg in ("matching", "geodata"):
        for path in (ROOT / pkg).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
