"""Firm contacts (validated, shown only with consent) and an accepted group's invitation."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.app.conftest import auth
from tests.app.test_review import FAST, groups, members
from tests.app.test_runs import DATA, start_run

CONTACTS = {"g01": ("Jan Bakker", "jan@bakker.nl", "050 123 4567")}


def _import_with_contacts(client: TestClient, key: str) -> None:
    """The 14-firm fixture with Dutch contact columns, g01..g12 consenting by JSON."""
    lines = (DATA / "smes_small.csv").read_text().splitlines()
    out = [lines[0] + ",contactpersoon,e-mail,telefoon"]
    for line in lines[1:]:
        eid = line.split(",")[0]
        person, mail, phone = CONTACTS.get(eid, (f"Contact {eid}", f"info@{eid}.nl", "06-12345678"))
        out.append(f"{line},{person},{mail},{phone}")
    body = "\n".join(out) + "\n"
    r = client.post("/api/v1/firms/import", files={"file": ("leden.csv", body)}, headers=auth(key))
    assert r.status_code == 200, r.text
    for eid in ("g01", "g02", "g03", "g04", "g05", "g06", "g07", "g08", "g09", "g10", "g11"):
        r = client.patch(f"/api/v1/firms/{eid}", json={"consent_to_share": True}, headers=auth(key))
        assert r.status_code == 200, r.text


def test_contacts_are_normalised_and_shown_only_with_consent(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Phone as Dutch people write it, e-mail checked; without consent the API hides them."""
    _import_with_contacts(client, keys["member"])
    firm = client.get("/api/v1/firms/g01", headers=auth(keys["member"])).json()
    assert (firm["contact_person"], firm["email"], firm["phone"]) == (
        "Jan Bakker", "jan@bakker.nl", "050 123 4567",
    )  # fmt: skip
    hidden = client.get("/api/v1/firms/g12", headers=auth(keys["member"])).json()
    assert hidden["consent_to_share"] is False and hidden["email"] is None


def test_bad_contact_values_name_row_and_column(client: TestClient, keys: dict[str, str]) -> None:
    """An invalid e-mail or phone is refused with its row and column; nothing is stored."""
    header = "external_id,name,postcode,sbi_code,employees,digital_level,needs,email,telefoon"
    body = f"{header}\nx1,Bakkerij Test,9711,1071,5,2,train.vocational,geen-adres,12\n"
    r = client.post("/api/v1/firms/import", files={"file": ("f.csv", body)},
                    headers=auth(keys["member"]))  # fmt: skip
    assert r.status_code == 422, r.text
    where = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert where == {(1, "email"), (1, "telefoon")}
    assert client.get("/api/v1/firms/x1", headers=auth(keys["member"])).status_code == 404


def test_an_accepted_group_gets_an_invitation_pack_in_dutch(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Only after acceptance; text names the members; contacts only with consent; xlsx, CSV."""
    _import_with_contacts(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    group = groups(client, keys["viewer"], run_id)[0]
    url = f"/api/v1/runs/{run_id}/groups/{group['number']}"
    r = client.get(f"{url}/invitation", headers=auth(keys["member"]))
    assert r.status_code == 409 and "nog niet geaccepteerd" in r.json()["detail"]
    assert client.post(f"{url}/accept", headers=auth(keys["manager"])).status_code == 200
    assert client.get(f"{url}/invitation", headers=auth(keys["viewer"])).status_code == 403
    pack = client.get(f"{url}/invitation", headers=auth(keys["member"])).json()
    assert pack["subject"].startswith(
        f"Uitnodiging: eerste bijeenkomst van kring {group['number']}"
    )
    assert "Beste deelnemers" in pack["text"]
    names = {m["external_id"]: m for m in pack["members"]}
    assert set(names) == set(members(group))
    for eid, m in names.items():
        assert m["name"] in pack["text"]
        assert (m["email"] is not None) == (eid != "g12") == m["consent"]
    book = load_workbook(io.BytesIO(client.get(f"{url}/invitation.xlsx",
                                               headers=auth(keys["member"])).content))  # fmt: skip
    assert book.sheetnames == ["Adressenlijst", "Uitnodiging"]
    header = [c.value for c in book["Adressenlijst"][1]]
    assert header[:6] == ["id", "Naam", "Plaats", "Contactpersoon", "E-mail", "Telefoon"]
    assert book["Adressenlijst"].max_row == len(names) + 1
    r = client.get(f"{url}/invitation.csv", params={"dialect": "excel-nl"},
                   headers=auth(keys["member"]))  # fmt: skip
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff") and text.splitlines()[0].startswith('\ufeff"id";"Naam"')
    english = client.get(f"{url}/invitation", headers={**auth(keys["member"]),
                                                       "Accept-Language": "en"}).json()  # fmt: skip
    assert english["text"].startswith("Dear members of group")


def test_erasing_a_firm_redacts_its_contact_from_comments(
    client: TestClient, keys: dict[str, str]
) -> None:
    """GDPR erasure: the firm's e-mail and contact person vanish from decision comments."""
    _import_with_contacts(client, keys["member"])
    run_id = start_run(client, keys["member"], FAST)
    group = groups(client, keys["viewer"], run_id)[0]
    url = f"/api/v1/runs/{run_id}/groups/{group['number']}"
    eid = members(group)[0]
    person, mail, _ = CONTACTS.get(eid, (f"Contact {eid}", f"info@{eid}.nl", ""))
    comment = {"comment": f"Bellen met {person} ({mail})"}
    assert (
        client.post(f"{url}/accept", json=comment, headers=auth(keys["manager"])).status_code == 200
    )
    assert client.delete(f"/api/v1/firms/{eid}", headers=auth(keys["member"])).status_code == 204
    stored = next(
        g for g in groups(client, keys["viewer"], run_id) if g["number"] == group["number"]
    )
    r = client.post(f"{url}/accept", headers=auth(keys["manager"]))
    assert person not in r.json()["comment"] and mail not in r.json()["comment"]
    assert stored["number"] == group["number"]
