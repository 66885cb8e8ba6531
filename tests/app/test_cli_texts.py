"""`kring admin` and `kring db` speak Dutch by default and English with --lang en."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import get_settings
from app.db import dispose_engine
from tests.app.conftest import make_settings

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database named by KRING_DATABASE_URL for in-process `kring` commands."""
    url = make_settings(tmp_path / "cli.db").database_url
    monkeypatch.setenv("KRING_DATABASE_URL", url)
    monkeypatch.setenv("KRING_API_KEY_PEPPER", "test-pepper")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    dispose_engine(url)


def test_admin_messages_in_dutch_and_english(database: str) -> None:
    """db upgrade, create-org, a taken name, an unknown organisation: words from the catalogue."""
    assert (
        runner.invoke(app, ["db", "upgrade"])
        .output.strip()
        .endswith("database bijgewerkt tot de nieuwste versie")
    )
    made = runner.invoke(app, ["admin", "create-org", "Noord"])
    assert made.exit_code == 0, made.output
    assert made.output.splitlines()[0].startswith("organisatie ")
    assert "sleutel met rol member" in made.output
    taken = runner.invoke(app, ["admin", "create-org", "noord"])
    assert taken.exit_code == 1
    assert "fout: er is al een organisatie met de naam 'noord'" in taken.output
    taken = runner.invoke(app, ["admin", "create-org", "NOORD", "--lang", "en"])
    assert "error: an organisation named 'NOORD' (in any case) already exists" in taken.output
    missing = runner.invoke(app, ["admin", "list-keys", "Zuid"])
    assert missing.exit_code == 1 and "er is geen organisatie met de naam 'Zuid'" in missing.output
    gone = runner.invoke(app, ["admin", "revoke-key", "12345", "--lang", "en"])
    assert gone.exit_code == 1 and "API key 12345 not found" in gone.output
    gone = runner.invoke(app, ["admin", "revoke-key", "12345"])
    assert "API-sleutel 12345 niet gevonden" in gone.output
    key = runner.invoke(app, ["admin", "create-key", "Noord", "--role", "viewer", "--lang", "en"])
    assert key.output.startswith("key ") and "role viewer" in key.output
    assert runner.invoke(app, ["admin", "list-keys", "Noord", "--lang", "xx"]).exit_code == 2
