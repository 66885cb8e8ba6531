"""Every library error derives from its library's one base (MatchingError, GeodataError),
so that a caller reports it as the user's error, naming its field."""

from __future__ import annotations

import ast
import importlib
import pickle
from pathlib import Path

import pytest

from geodata.errors import GeodataError
from matching.errors import MatchingError, SettingsError
from matching.firms import InputFileError, RowError
from matching.settings import RunSettings

ROOT = Path(__file__).resolve().parents[2]


def _error_classes(package: str) -> list[tuple[str, str]]:
    """(module, class) of every class named ``*Error`` defined in ``package`` (by AST)."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found += [(module, node.name) for node in tree.body
                  if isinstance(node, ast.ClassDef) and node.name.endswith("Error")]  # fmt: skip
    return found


@pytest.mark.parametrize(("package", "base"), [("matching", MatchingError),
                                               ("geodata", GeodataError)])  # fmt: skip
def test_every_library_error_derives_from_the_library_base(package: str, base: type) -> None:
    """No error class of matching/ or geodata/ escapes its base (SettingsError did)."""
    classes = [getattr(importlib.import_module(m), c) for m, c in _error_classes(package)]
    errors = [c for c in classes if issubclass(c, BaseException)]  # not RowError (a record)
    assert len(errors) >= 4
    assert [c.__qualname__ for c in errors if not issubclass(c, base)] == []


def test_errors_name_their_field() -> None:
    """A setting error and an input file error carry the offending field."""
    with pytest.raises(SettingsError) as caught:
        RunSettings(eligible_provinces=("Atlantis",))
    assert isinstance(caught.value, MatchingError)
    assert caught.value.field == "eligible_provinces"
    error = InputFileError("smes.csv", [RowError(3, "name", "contains a NUL character")])
    assert error.field == "name"
    assert MatchingError("x").field is None


def test_settings_and_row_errors_survive_pickling_with_their_texts() -> None:
    """SettingsError and RowError cross process boundaries with their catalogue texts."""
    setting = pickle.loads(pickle.dumps(SettingsError.of("min_size", "settings.min_size")))
    assert (setting.field, setting.say("nl")) == (
        "min_size",
        "een groep heeft minstens 2 bedrijven nodig",
    )
    row = pickle.loads(pickle.dumps(RowError.of(2, "naam", "import.value.empty")))
    assert row.where("nl") == "rij 2, kolom naam: verplichte waarde is leeg"
