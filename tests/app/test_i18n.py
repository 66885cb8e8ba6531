"""Accept-Language: Dutch by default, English on request, for problems and group texts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import auth

EN = {"Accept-Language": "en-GB,en;q=0.9"}


def test_problems_are_dutch_by_default_and_english_on_request(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A 404 and a 422 answer in Dutch without Accept-Language, in English with ``en``."""
    url = "/api/v1/runs/987654"
    nl = client.get(url, headers=auth(keys["viewer"]))
    assert nl.status_code == 404 and nl.headers["content-language"] == "nl"
    assert nl.json()["title"] == "Niet gevonden"
    assert nl.json()["detail"] == "run 987654 niet gevonden"
    assert "Accept-Language" in nl.headers["vary"]
    en = client.get(url, headers={**auth(keys["viewer"]), **EN})
    assert en.headers["content-language"] == "en"
    assert (en.json()["title"], en.json()["detail"]) == ("Not found", "run 987654 not found")
    bad = client.post("/api/v1/runs", json={"purpose": "nonsense"}, headers=auth(keys["member"]))
    assert bad.status_code == 422 and bad.json()["title"] == "Ongeldige invoer"
    assert "ongeldige waarde" in bad.json()["detail"] and bad.json()["errors"]
    firm = client.get("/api/v1/firms/nope", headers={**auth(keys["member"]), **EN})
    assert firm.json()["detail"] == "firm nope not found"


def test_unknown_path_and_other_languages_fall_back_to_dutch(client: TestClient) -> None:
    """A German reader and an unknown path get the Dutch 404 (the default), typed as a problem."""
    r = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "de-DE"})
    assert r.status_code == 404 and r.headers["content-language"] == "nl"
    assert r.json()["title"] == "Niet gevonden"


def test_key_and_role_problems_speak_the_readers_language(
    client: TestClient, keys: dict[str, str]
) -> None:
    """401 without a key and 403 for a too-small role come in Dutch, or English on request."""
    r = client.get("/api/v1/runs")
    assert (
        r.status_code == 401
        and r.json()["detail"] == "stuur uw API-sleutel mee in de header X-API-Key"
    )
    r = client.get("/api/v1/firms/x", headers=auth(keys["viewer"]))
    assert r.status_code == 403 and r.json()["title"] == "Niet toegestaan voor deze rol"
    assert r.json()["detail"] == "hiervoor is de rol member nodig; uw sleutel heeft de rol viewer"
    r = client.get("/api/v1/firms/x", headers={**auth(keys["viewer"]), **EN})
    assert r.json()["detail"] == "this needs the member role; your key is viewer"
