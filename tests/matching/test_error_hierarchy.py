"""Every library error derives from its library's one base (MatchingError, GeodataError),
so that a caller reports it as the user's error, naming its field."""

from __future__ import annotations

import ast
import importlib
import pickle
from pathlib import Path

import pytest

from geodata.errors import GeodataError, UnknownPostcodeError
from matching.core.errors import MatchingError, SettingsError
from matching.sme.firms import InputFileError, RowError
from matching.sme.settings import RunSettings

ROOT = Path(__file__).resolve().parents[2]


def _exception_classes(package: str) -> list[type[BaseException]]:
    """Every exception class defined at the top of a module of ``package``, in every
    sub-package (matching/core, rules, engines, sme), whatever its name."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
        if not names:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        classes = [getattr(module, name) for name in names]
        found += [c for c in classes if isinstance(c, type) and issubclass(c, BaseException)]
    return found


@pytest.mark.parametrize(("package", "base"), [("matching", MatchingError),
                                               ("geodata", GeodataError)])  # fmt: skip
def test_every_library_error_derives_from_the_library_base(package: str, base: type) -> None:
    """No exception class of matching/ or geodata/ (any sub-package) escapes its base, and
    each carries ``field`` (SettingsError once derived from ValueError alone)."""
    errors = _exception_classes(package)
    assert len(errors) >= 4
    assert [c.__qualname__ for c in errors if not issubclass(c, base)] == []
    assert all(hasattr(c, "field") for c in errors)
    if package == "matching":  # the layout: errors of the core and of the SME domain
        assert {c.__module__.split(".")[1] for c in errors} >= {"core", "sme"}


def test_errors_name_their_field() -> None:
    """A setting error and an input file error carry the offending field."""
    with pytest.raises(SettingsError) as caught:
        RunSettings(eligible_provinces=("Atlantis",))
    assert isinstance(caught.value, MatchingError)
    assert caught.value.field == "eligible_provinces"
    error = InputFileError("smes.csv", [RowError(3, "name", "contains a NUL character")])
    assert error.field == "name"
    assert MatchingError("x").field is None
    assert UnknownPostcodeError("0000").field == "postcode"


def test_settings_and_row_errors_survive_pickling_with_their_texts() -> None:
    """SettingsError and RowError cross process boundaries with their catalogue texts."""
    setting = pickle.loads(pickle.dumps(SettingsError.of("min_size", "settings.min_size")))
    assert (setting.field, setting.say("nl")) == (
        "min_size",
        "een groep heeft minstens 2 bedrijven nodig",
    )
    row = pickle.loads(pickle.dumps(RowError.of(2, "naam", "import.value.empty")))
    assert row.where("nl") == "rij 2, kolom naam: verplichte waarde is leeg"
