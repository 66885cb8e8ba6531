"""Problems raised in services, import rows and request bodies speak Dutch or English."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import auth

EN = {"Accept-Language": "en"}
HEADER = "lidnummer,naam,plaats,postcode,sbi,medewerkers,digitaal_niveau,behoeften,adres"


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def _import(client: TestClient, key: str, data: bytes, **headers: str):  # type: ignore[no-untyped-def]
    files = {"file": ("leden.csv", data)}
    return client.post("/api/v1/firms/import", files=files, headers={**auth(key), **headers})


def test_service_conflicts_are_said_in_the_readers_language(
    client: TestClient, keys: dict[str, str]
) -> None:
    """409s raised in services (profile name taken, built-in profile) come from the catalogue."""
    h = auth(keys["manager"])
    body = {"name": "Noord", "constraints": {"max_pair_km": 40}}
    assert client.post("/api/v1/profiles", json=body, headers=h).status_code == 201
    r = client.post("/api/v1/profiles", json=body, headers=h)
    assert r.status_code == 409
    assert r.json()["detail"] == "er is al een profiel met de naam 'Noord'"
    r = client.post("/api/v1/profiles", json=body, headers={**h, **EN})
    assert r.json()["detail"] == "a profile named 'Noord' already exists"
    builtin = client.get("/api/v1/profiles", headers=h).json()["items"][0]
    r = client.put(f"/api/v1/profiles/{builtin['id']}", json=body, headers=h)
    assert r.status_code == 409 and "is ingebouwd" in r.json()["detail"]


def test_unknown_columns_are_skipped_and_named(client: TestClient, keys: dict[str, str]) -> None:
    """plaats and adres (every Dutch member list has them) are skipped and listed, not refused."""
    need = '"vakopleiding (MBO, sectorleerroutes)"'  # a label, any case, quoted: it has a comma
    data = _csv(f"m1,Bakkerij,Groningen,9711 AB,1071,4,2,{need},Markt 1")
    r = _import(client, keys["member"], data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 1 and body["ignored_columns"] == ["plaats", "adres"]
    assert body["notice"] == "2 kolommen overgeslagen die kring niet gebruikt: plaats, adres"
    r = _import(client, keys["member"], data, **EN)
    assert r.json()["notice"] == "2 columns skipped that kring does not use: plaats, adres"
    firm = client.get("/api/v1/firms/m1", headers=auth(keys["member"])).json()
    assert firm["name"] == "Bakkerij" and firm["postcode"] == "9711 AB"


def test_row_errors_are_dutch_by_default_with_their_code(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A bad row names row and column as written, in Dutch (English on request), code beside."""
    data = _csv("m1,A,Haren,0000 AA,1071,veel,2,dig.ai,x")
    r = _import(client, keys["member"], data)
    assert r.status_code == 422
    errors = {(e["row"], e["field"]): e for e in r.json()["errors"]}
    assert errors[(1, "postcode")]["message"] == (
        "ongeldige postcode '0000 AA': een Nederlandse postcode begint nooit met 0"
    )
    assert errors[(1, "postcode")]["code"] == "geodata.malformed_postcode"
    assert errors[(1, "medewerkers")]["message"] == "'veel' is geen geheel getal van 0 of meer"
    r = _import(client, keys["member"], data, **EN)
    errors = {(e["row"], e["field"]): e for e in r.json()["errors"]}
    assert errors[(1, "medewerkers")]["message"] == "'veel' is not a non-negative integer"


def test_a_run_without_firms_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    """POST /runs for an organisation with no firms: 422 saying to import them first."""
    r = client.post("/api/v1/runs", json={}, headers=auth(keys["manager"]))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "heeft nog geen bedrijven" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "firms"
    assert client.get("/api/v1/runs", headers=auth(keys["manager"])).json()["total"] == 0
    _import(client, keys["member"], _csv("m1,A,Haren,9711,1071,4,2,dig.ai,x"))
    r = client.post(
        "/api/v1/runs", json={"filters": {"provinces": ["Zeeland"]}}, headers=auth(keys["manager"])
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "filters"


def test_invalid_json_names_line_and_column(client: TestClient, keys: dict[str, str]) -> None:
    """A body that is no JSON: 422 with the line and column of the mistake, not an offset."""
    body = b'[\n  {"external_id": "a",\n   "name": }\n]'
    headers = {**auth(keys["member"]), "Content-Type": "application/json"}
    r = client.post("/api/v1/firms", content=body, headers=headers)
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert (error["line"], error["column"], error["row"], error["field"]) == (3, 12, None, "body")
    assert error["message"].startswith("de inhoud is geen geldige JSON: regel 3, kolom 12")
    r = client.post("/api/v1/firms", content=body, headers={**headers, **EN})
    assert r.json()["detail"].startswith("the body is not valid JSON: line 3, column 12")
    pairs = b'[{"sme_a": "a",\n  "sme_b" "b"}]'  # the pair routes read their body themselves
    r = client.post("/api/v1/competitors", content=pairs, headers=headers)
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert (error["line"], error["column"], error["code"]) == (2, 11, "problem.invalid-input.json")
    assert error["message"].startswith("de inhoud is geen geldige JSON: regel 2, kolom 11")


def test_profile_validation_reports_every_bad_setting(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Three impossible settings give three errors at once, each in the reader's language."""
    body = {"name": "Fout", "purpose": "peer", "constraints": {
        "min_size": 8, "max_size": 4, "eligible_provinces": ["Atlantis"],
        "allowed_themes": ["dig.ai"]}}  # fmt: skip
    r = client.post("/api/v1/profiles", json=body, headers=auth(keys["manager"]))
    assert r.status_code == 422, r.text
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(fields) == {
        "constraints.max_size", "constraints.eligible_provinces", "constraints.allowed_themes"
    }  # fmt: skip
    assert fields["constraints.max_size"] == "moet minstens min_size (8) zijn"
    assert fields["constraints.eligible_provinces"] == "onbekende provincie 'Atlantis'"
    assert r.json()["detail"] == "3 ongeldige instellingen; er is niets opgeslagen"
    r = client.post("/api/v1/profiles", json=body, headers={**auth(keys["manager"]), **EN})
    english = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert english["constraints.allowed_themes"] == "peer groups have no theme; leave it null"
    body = {"name": "Fout", "constraints": {"max_pair_km": 0, "min_size": 1}}
    r = client.post("/api/v1/profiles", json=body, headers=auth(keys["manager"]))
    assert {e["field"] for e in r.json()["errors"]} == {
        "constraints.max_pair_km", "constraints.min_size"}  # fmt: skip
    assert "moet groter zijn dan 0" in {e["message"] for e in r.json()["errors"]}


def test_profiles_answer_constraints_as_sent(client: TestClient, keys: dict[str, str]) -> None:
    """A profile is sent and read with one name, constraints; the old 'settings' still reads."""
    h = auth(keys["manager"])
    body = {"name": "Zuid", "constraints": {"max_pair_km": 30.0}, "time_limit_s": 5.0}
    p = client.post("/api/v1/profiles", json=body, headers=h).json()
    assert p["constraints"] == {"max_pair_km": 30.0} and p["time_limit_s"] == 5.0
    assert "settings" not in p
    old = {"name": "Oud", "settings": {"max_pair_km": 20.0, "seed": 3}}
    q = client.post("/api/v1/profiles", json=old, headers=h).json()
    assert q["constraints"] == {"max_pair_km": 20.0} and q["seed"] == 3
    again = {k: p[k] for k in ("name", "purpose", "constraints", "time_limit_s")}
    r = client.put(f"/api/v1/profiles/{p['id']}", json=again, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2


def test_request_validation_messages_are_said_in_the_readers_language(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Pydantic's messages (missing, range, literal, our NUL check) come from the catalogue."""
    h = auth(keys["manager"])
    body = {"purpose": "party", "seed": -1, "constraints": {"min_size": 1}}
    r = client.post("/api/v1/runs", json=body, headers=h)
    said = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert said["seed"] == "moet minstens 0 zijn"
    assert said["constraints.min_size"] == "moet minstens 2 zijn"
    assert said["purpose"].startswith("moet een van deze zijn: 'training'")
    r = client.post("/api/v1/runs", json=body, headers={**h, **EN})
    assert {e["field"]: e["message"] for e in r.json()["errors"]}["seed"] == (
        "must be greater than or equal to 0"
    )
    r = client.post("/api/v1/profiles", json={"name": "a\u0000b"}, headers=h)
    assert r.json()["errors"][0]["message"] == "mag geen NUL-teken bevatten"
    r = client.post("/api/v1/profiles", json={}, headers=h)
    assert r.json()["errors"][0] == {"row": None, "field": "name",
                                     "message": "verplicht veld ontbreekt"}  # fmt: skip
