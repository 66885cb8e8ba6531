"""Export the OpenAPI spec: ``python -m app.openapi [PATH]`` (``make openapi``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.main import create_app

SPEC_PATH = Path("openapi/openapi.json")


def spec() -> dict[str, Any]:
    """Return the application's current OpenAPI document."""
    return create_app().openapi()


def render(document: dict[str, Any]) -> str:
    """Render a spec the way it is committed (sorted keys, 2-space indent, final newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    """Write the spec to ``argv[0]`` (default ``openapi/openapi.json``)."""
    path = Path(argv[0]) if argv else SPEC_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(spec()), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
