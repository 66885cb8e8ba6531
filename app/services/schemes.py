"""The scheme catalogue for the API (loaded once from the bundled, validated data files)."""

from __future__ import annotations

from matching import Scheme, catalogue


def list_schemes() -> list[Scheme]:
    """Every bundled scheme, sorted by id."""
    return list(catalogue())
