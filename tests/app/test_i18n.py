"""Accept-Language: Dutch by default, English on request, for problems and group texts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.i18n import geodata_detail
from geodata.errors import GeodataError
from geodata.postcodes import normalise_postcode
from matching.rules.unassigned import REASONS
from tests.app.conftest import auth
from tests.app.test_review import FAST
from tests.app.test_runs import load_small, start_run
from tests.app.test_schemes import JTF

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


def _subsidy_run(client: TestClient, keys: dict[str, str]) -> int:
    load_small(client, keys["member"])
    return start_run(client, keys["member"], {**FAST, "purpose": "subsidy", "scheme_id": JTF})


def test_groups_speak_dutch_by_default_and_english_on_request(
    client: TestClient, keys: dict[str, str]
) -> None:
    """/groups: explanations and reasons in Dutch by default, English with en; codes beside."""
    run_id = _subsidy_run(client, keys)
    url = f"/api/v1/runs/{run_id}/groups"
    nl = client.get(url, headers=auth(keys["viewer"]))
    assert nl.headers["content-language"] == "nl"
    en = client.get(url, headers={**auth(keys["viewer"]), **EN})
    assert en.headers["content-language"] == "en" and en.headers["etag"] != nl.headers["etag"]
    g_nl, g_en = nl.json()["groups"][0], en.json()["groups"][0]
    assert " bedrijven, " in g_nl["explanation"] and "km uit elkaar" in g_nl["explanation"]
    assert " firms, " in g_en["explanation"] and "km apart" in g_en["explanation"]
    assert "." not in g_nl["explanation"].split(";")[0]  # labels, not codes like train.vocational
    assert g_nl["explanation_parts"] == g_en["explanation_parts"]
    assert g_nl["explanation_parts"][0]["params"]["need"] == g_nl["theme"]
    by_id = {u["external_id"]: u for u in nl.json()["unassigned"]}
    english = {u["external_id"]: u for u in en.json()["unassigned"]}
    assert by_id["e01"]["reason"] == "ineligible"
    assert by_id["e01"]["reason_label"] == "Valt buiten de regeling"
    assert english["e01"]["reason_label"] == "Not eligible"
    assert by_id["e01"]["reason_explanation"].endswith(".")


def test_every_ineligible_firm_names_its_rule_and_places(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Each ineligible firm of a subsidy run has its rule in words in /groups and the GeoJSON."""
    run_id = _subsidy_run(client, keys)
    body = client.get(f"/api/v1/runs/{run_id}/groups", headers=auth(keys["viewer"])).json()
    ineligible = [u for u in body["unassigned"] if u["reason"] == "ineligible"]
    assert len(ineligible) == 6 and all(u["rule"] and u["rule_code"] for u in ineligible)
    leeuwarden = next(u for u in ineligible if u["external_id"] == "f01")
    assert leeuwarden["rule_code"] == "scheme.regions"
    assert leeuwarden["rule"] == "Leeuwarden ligt buiten Groningen en gemeente Emmen"
    assert not any("GM0" in u["rule"] for u in ineligible)
    url = f"/api/v1/runs/{run_id}/groups.geojson?unassigned=true"
    geo = client.get(url, headers={**auth(keys["viewer"]), **EN}).json()
    props = [f["properties"] for f in geo["features"]]
    loose = [p for p in props if p["kind"] == "firm" and p["group_number"] is None]
    points = {p["external_id"]: p for p in loose}
    assert points["f01"]["rule"] == "Leeuwarden is outside Groningen and Emmen municipality"
    assert points["f01"]["reason_label"] == "Not eligible"
    assert all(points[u["external_id"]]["rule"] for u in ineligible)


def test_reasons_are_an_enum_in_the_live_spec(client: TestClient) -> None:
    """The served OpenAPI spec lists every unassigned reason as an enum, explained in words."""
    spec = client.get("/openapi.json").json()
    reason = spec["components"]["schemas"]["UnassignedReason"]
    assert reason["enum"] == [*REASONS, "removed_by_hand"]  # the last: a hand edit
    assert all(f"`{r}`" in reason["description"] for r in reason["enum"])
    item = spec["components"]["schemas"]["UnassignedRead"]["properties"]
    assert {"reason_label", "reason_explanation", "rule", "rule_code"} <= set(item)


def test_postcode_errors_are_said_in_the_readers_language() -> None:
    """A malformed postcode's problem detail is Dutch by default and English on request."""
    try:
        normalise_postcode("0000 AA")
    except GeodataError as exc:
        error = exc
    nl = geodata_detail(error, "nl")
    assert nl == "ongeldige postcode '0000 AA': een Nederlandse postcode begint nooit met 0"
    assert geodata_detail(error, "en") == str(error)
