"""One definition per setting: the API schema, ``kring solve`` options, profile validation and
``RunSettings`` all take their bounds from the settings' fields."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import typer
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import app as cli
from app.cli.setting_options import setting_options
from app.errors import InvalidInputError
from app.schemas import (
    NOT_OFFERED,
    TOP_LEVEL,
    AffinityWeightsIn,
    ProfileSettings,
    RunConstraints,
    RunCreate,
    constraints_model,
)
from app.services.profiles import validate_settings
from matching import AFFINITY_FIELDS, Field, RunSettings, SettingsError, setting_fields
from matching.core import registry
from tests.app.conftest import auth
from tests.app.test_runs import load_small, start_run


def _outside(field: Field) -> list[Any]:
    """Values just outside the field's bounds or choices (none for unbounded fields)."""
    step = 1 if field.type == "int" else 0.5
    out: list[Any] = []
    if field.le is not None:
        out.append(int(field.le) + 1 if field.type == "int" else field.le + step)
    if field.ge is not None:
        out.append(int(field.ge) - 1 if field.type == "int" else field.ge - step)
    if field.gt is not None:
        out.append(int(field.gt) if field.type == "int" else field.gt)
    if field.choices:
        out.append("no-such-choice")
    return out


def _inside(field: Field) -> list[Any]:
    """The bounds themselves (when inclusive) and every choice."""
    return [b for b in (field.ge, field.le) if b is not None] + list(field.choices)


def _api_model(name: str) -> Any:
    return RunCreate if name in TOP_LEVEL else RunConstraints


def _property(model: Any, name: str) -> dict[str, Any]:
    schema = model.model_json_schema()["properties"][name]
    return next(s for s in schema.get("anyOf", [schema]) if s.get("type") != "null")


def _check_schema(model: Any, field: Field) -> None:
    prop = _property(model, field.name)
    assert prop.get("minimum") == field.ge, (model.__name__, field.name)
    assert prop.get("maximum") == field.le, (model.__name__, field.name)
    assert prop.get("exclusiveMinimum") == field.gt, (model.__name__, field.name)
    assert tuple(prop.get("enum", ())) == field.choices, (model.__name__, field.name)


def _same(a: Any, b: Any) -> bool:
    return a == b if isinstance(b, str) else bool(a == pytest.approx(b))


def _cli_option(name: str) -> Any:
    return next(o for o in setting_options() if o.name == name)


def test_every_setting_has_the_same_bounds_in_api_cli_profiles_and_run_settings() -> None:
    """Walking every field: API schema, CLI option, profile model and RunSettings agree."""
    checked = 0
    for field in setting_fields():
        option = _cli_option(field.name)
        for value in _outside(field):
            with pytest.raises(typer.BadParameter, match=field.name):
                option.callback(None, option, str(value))
            with pytest.raises(SettingsError) as err:
                RunSettings.from_dict({field.name: value})
            assert err.value.field == field.name
            with pytest.raises(InvalidInputError):
                validate_settings({field.name: value})
            if field.name not in NOT_OFFERED:
                with pytest.raises(ValidationError):
                    _api_model(field.name).model_validate({field.name: value})
            if field.name in ProfileSettings.model_fields:
                with pytest.raises(ValidationError):
                    ProfileSettings.model_validate({field.name: value})
            checked += 1
        for value in _inside(field):
            assert _same(option.callback(None, option, str(value)), value)
            if field.name not in NOT_OFFERED:
                _api_model(field.name).model_validate({field.name: value})
        if field.name not in NOT_OFFERED:
            _check_schema(_api_model(field.name), field)
        if field.name in ProfileSettings.model_fields:
            _check_schema(ProfileSettings, field)
    for field in AFFINITY_FIELDS:
        _check_schema(AffinityWeightsIn, field)
        with pytest.raises(SettingsError) as err:
            RunSettings.from_dict({"affinity": {field.name: field.le + 1}})
        assert err.value.field == f"affinity.{field.name}"
    assert checked > 20


class _TinyFirms(registry.Rule):
    """A test-only rule: a setting nobody else declares."""

    name: ClassVar[str] = "tiny_firms_test"
    fields: ClassVar[tuple[Field, ...]] = (
        Field("max_tiny_firms", "int", None, nullable=True, ge=1, le=5,
              en="At most this many firms under 5 employees per group.",
              nl="Hooguit zoveel bedrijven onder 5 medewerkers per groep."),
    )  # fmt: skip


def test_a_rule_registered_by_a_test_has_its_setting_in_schema_cli_and_settings() -> None:
    """A throwaway rule's Field appears in constraints, `kring solve` and RunSettings."""
    with registry.registered(_TinyFirms()):
        prop = _property(constraints_model(), "max_tiny_firms")
        assert (prop["minimum"], prop["maximum"]) == (1, 5)
        whole = constraints_model().model_json_schema()["properties"]["max_tiny_firms"]
        assert whole["x-description-nl"].startswith("Hooguit zoveel bedrijven")
        result = CliRunner().invoke(cli, ["solve", "--help"], env={"COLUMNS": "200"})
        assert "--max-tiny-firms" in result.output and "under 5 employees" in result.output
        settings = RunSettings.from_dict({"max_tiny_firms": 3})
        assert settings.value("max_tiny_firms") == 3
        assert settings.to_dict()["max_tiny_firms"] == 3
        assert RunSettings().value("max_tiny_firms") is None
        with pytest.raises(SettingsError) as err:
            RunSettings.from_dict({"max_tiny_firms": 6})
        assert err.value.field == "max_tiny_firms"
        args = ["solve", "x.csv", "--out", "o.json", "--max-tiny-firms", "6"]
        bad = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
        assert bad.exit_code == 2 and "max_tiny_firms: must be <= 5" in bad.output
    assert "max_tiny_firms" not in constraints_model().model_json_schema()["properties"]
    with pytest.raises(SettingsError):
        RunSettings.from_dict({"max_tiny_firms": 3})


def test_rule_settings_reach_runs_and_profiles_through_constraints(
    client: TestClient, keys: dict[str, str]
) -> None:
    """constraints.max_per_gemeente / reach land in the run snapshot and profiles; 0 is 422."""
    load_small(client, keys["member"])
    body = {"constraints": {"min_size": 3, "max_size": 5, "max_per_gemeente": 3,
                            "reach": "none", "max_iterations": 10}, "time_limit_s": 1}  # fmt: skip
    run_id = start_run(client, keys["member"], body)
    params = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["viewer"])).json()["params"]
    assert (params["max_per_gemeente"], params["reach"]) == (3, "none")
    bad = {"constraints": {"max_per_gemeente": 0}}
    r = client.post("/api/v1/runs", json=bad, headers=auth(keys["member"]))
    assert r.status_code == 422 and "max_per_gemeente" in r.text
    profile = {"name": "Over gemeentegrenzen", "constraints": {"max_per_gemeente": 2}}
    r = client.post("/api/v1/profiles", json=profile, headers=auth(keys["manager"]))
    assert r.status_code == 201 and r.json()["constraints"]["max_per_gemeente"] == 2
