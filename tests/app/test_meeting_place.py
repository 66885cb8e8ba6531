"""Every group's meeting place through the app: groups JSON, groups.xlsx and the invitation."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.app.conftest import auth
from tests.app.test_review import FAST, groups
from tests.app.test_runs import load_small, start_run

EN = {"Accept-Language": "en"}
KEYS = {"place", "postcode", "lat", "lon", "mean_km", "max_km"}


def _run(client: TestClient, keys: dict[str, str]) -> int:
    load_small(client, keys["member"])
    return start_run(client, keys["member"], FAST)


def _named(place: dict[str, Any]) -> str:
    return f"{place['place']} ({place['postcode']})"


def test_every_group_names_its_meeting_place_in_both_languages(
    client: TestClient, keys: dict[str, str]
) -> None:
    """GET groups: meeting_place on every group, named in the nl and en explanations; run stats."""
    run_id = _run(client, keys)
    found = groups(client, keys["viewer"], run_id)
    r = client.get(f"/api/v1/runs/{run_id}/groups", headers={**auth(keys["viewer"]), **EN})
    english = {g["number"]: g for g in r.json()["groups"]}
    assert found
    for g in found:
        place = g["meeting_place"]
        assert set(place) == KEYS and place == g["details"]["meeting_place"]
        assert 0 <= place["mean_km"] <= place["max_km"] and place["max_km"] < 50
        assert f"ontmoetingsplek {_named(place)}: gemiddeld " in g["explanation"]
        assert f"meeting place {_named(place)}: " in english[g["number"]]["explanation"]
        assert round(place["mean_km"], 1) == place["mean_km"]
    stats = client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["viewer"])).json()["stats"]
    assert stats["meeting_km_max"] == max(g["meeting_place"]["max_km"] for g in found)
    assert stats["meeting_km_mean"] > 0


def test_groups_xlsx_shows_the_meeting_place(client: TestClient, keys: dict[str, str]) -> None:
    """Overzicht has the meeting place with mean and longest travel; each group sheet names it."""
    run_id = _run(client, keys)
    found = {g["number"]: g["meeting_place"] for g in groups(client, keys["viewer"], run_id)}
    r = client.get(f"/api/v1/runs/{run_id}/groups.xlsx", headers=auth(keys["member"]))
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    overview = list(book["Overzicht"].iter_rows(values_only=True))
    header = list(overview[0])
    where = header.index("Ontmoetingsplek")
    mean = header.index("Gemiddelde reisafstand (km)")
    longest = header.index("Langste reisafstand (km)")
    for row in overview[1:]:
        place = found[row[0]]
        assert (row[where], row[mean], row[longest]) == (
            _named(place),
            place["mean_km"],
            place["max_km"],
        )
    for number, place in found.items():
        rows = list(book[f"Groep {number}"].iter_rows(values_only=True))
        column = list(rows[0]).index("Ontmoetingsplek")
        assert rows[0][-1] == "Behoeften"
        assert {row[column] for row in rows[1:]} == {_named(place)}
    r = client.get(f"/api/v1/runs/{run_id}/groups.xlsx", headers={**auth(keys["member"]), **EN})
    en = load_workbook(io.BytesIO(r.content))
    assert "Meeting place" in [c.value for c in en["Overview"][1]]


def test_the_invitation_names_the_meeting_place(client: TestClient, keys: dict[str, str]) -> None:
    """The invitation text invites to the meeting place; the mail-merge list has it per member."""
    run_id = _run(client, keys)
    group = groups(client, keys["viewer"], run_id)[0]
    place = group["meeting_place"]
    url = f"/api/v1/runs/{run_id}/groups/{group['number']}"
    assert client.post(f"{url}/accept", headers=auth(keys["manager"])).status_code == 200
    pack = client.get(f"{url}/invitation", headers=auth(keys["member"])).json()
    assert pack["meeting_place"] == place
    assert f"voor de eerste bijeenkomst in {_named(place)}, om kennis te maken" in pack["text"]
    mean = f"{place['mean_km']:g}".replace(".", ",")
    assert f"De deelnemers reizen daarvoor gemiddeld {mean} km" in pack["text"]
    english = client.get(f"{url}/invitation", headers={**auth(keys["member"]), **EN}).json()
    assert f"the first meeting in {_named(place)}, to get acquainted" in english["text"]
    r = client.get(f"{url}/invitation.csv", params={"dialect": "excel-nl"},
                   headers=auth(keys["member"]))  # fmt: skip
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    column = rows[0].index("Ontmoetingsplek")
    assert {row[column] for row in rows[1:]} == {_named(place)}
