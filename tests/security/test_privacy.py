"""Viewer data minimisation (PC4 positions, KvK only with consent), logs and GDPR erasure
over the newer routes (profiles, review, exports, compare, audit)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from app.services.privacy import pc4_position
from geodata.shapes import hull_geojson
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings

EXACT_LAT, EXACT_LON = 53.219384, 6.566502  # inside Groningen, not a PC4 centroid
SECRET_KVK, SHARED_KVK = "87654321", "23456789"
RUN = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Privacy:
    """Org "north" with g01 at exact coordinates (KvK, no consent), g02 consenting."""

    client: TestClient
    keys: dict[str, str]
    run_id: int
    group_number: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Privacy]:
    """Firms uploaded (g01 exact and secret KvK, g02 shared KvK) before a succeeded run."""
    settings = make_settings(tmp_path_factory.mktemp("privacy") / "kring.db")
    upgrade(settings)
    keys = {role.value: issue_key(settings, "north", role) for role in Role}
    with client_for(settings) as client:
        h = auth(keys["member"])
        with (DATA / "smes_small.csv").open("rb") as fh:
            files = {"file": ("s.csv", fh)}
            assert client.post("/api/v1/firms/import", files=files, headers=h).is_success
        exact = {"lat": EXACT_LAT, "lon": EXACT_LON, "kvk_number": SECRET_KVK}
        assert client.patch("/api/v1/firms/g01", json=exact, headers=h).is_success
        shared = {"kvk_number": SHARED_KVK, "consent_to_share": True}
        assert client.patch("/api/v1/firms/g02", json=shared, headers=h).is_success
        r = client.post("/api/v1/runs", json=RUN, headers=h)
        run_id = r.json()["id"]
        groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=h).json()["groups"]
        group = next(g for g in groups if "g01" in {m["external_id"] for m in g["members"]})
        yield Privacy(client, keys, run_id, group["number"])
    dispose_engine(settings.database_url)


def _firm_reads(w: Privacy) -> list[str]:
    """Every GET route of the live spec that a viewer may call and that names run objects."""
    spec = w.client.get("/openapi.json").json()
    values = {"run_id": w.run_id, "other_run_id": w.run_id, "group_number": w.group_number,
              "external_id": "g01"}  # fmt: skip
    urls = []
    for path, item in spec["paths"].items():
        if "get" not in item or not path.startswith("/api/v1/runs/{run_id}"):
            continue
        if "/invitation" in path:  # members and up only: a viewer gets 403 (test_invitations)
            continue
        urls.append(re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path))
    return urls


def _text(r: Any) -> str:
    """A response body as text; workbooks as the text of all their cells."""
    if r.headers["content-type"].startswith(XLSX):
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        cells = (v for s in book for row in s.iter_rows(values_only=True) for v in row)
        return "\n".join(str(v) for v in cells if v is not None)
    return str(r.text)


def test_viewer_reads_never_show_exact_positions_or_unconsented_kvk(world: Privacy) -> None:
    """No run read route gives a viewer the exact coordinates or a KvK without consent."""
    urls = _firm_reads(world)
    assert len(urls) >= 7, urls  # groups, geojson, csv, xlsx, pack, pack csv, compare, ...
    seen_by_member = ""
    for url in urls + [u + "?unassigned=true" for u in urls if u.endswith(".geojson")]:
        viewer = world.client.get(url, headers=auth(world.keys["viewer"]))
        member = world.client.get(url, headers=auth(world.keys["member"]))
        assert viewer.status_code == member.status_code, url
        text = _text(viewer)
        assert str(EXACT_LON) not in text and str(EXACT_LAT) not in text, url
        assert SECRET_KVK not in text, url
        seen_by_member += _text(member)
    assert str(EXACT_LON) in seen_by_member and SECRET_KVK in seen_by_member


def _group(w: Privacy, role: str) -> dict[str, Any]:
    groups = w.client.get(f"/api/v1/runs/{w.run_id}/groups", headers=auth(w.keys[role])).json()
    return next(g for g in groups["groups"] if g["number"] == w.group_number)  # type: ignore[no-any-return]


def test_viewer_geojson_points_and_hull_come_from_pc4_centroids(world: Privacy) -> None:
    """A viewer's firm points are PC4 centroids and the hull is the hull of those centroids."""
    url = f"/api/v1/runs/{world.run_id}/groups.geojson"
    viewer = world.client.get(url, headers=auth(world.keys["viewer"])).json()["features"]
    member = world.client.get(url, headers=auth(world.keys["member"])).json()["features"]
    points = {f["properties"]["external_id"]: f for f in viewer if f["id"].startswith("member")}
    exact = next(f for f in member if f["properties"].get("external_id") == "g01")
    assert exact["geometry"]["coordinates"] == [EXACT_LON, EXACT_LAT]
    pc4 = points["g01"]["properties"]["postcode"]
    lat, lon = pc4_position(pc4)
    assert points["g01"]["geometry"]["coordinates"] == [round(lon, 6), round(lat, 6)]
    assert re.fullmatch(r"\d{4}", pc4)
    hull = next(f for f in viewer if f["id"] == f"group-{world.group_number}")
    mine = [points[m["external_id"]] for m in _group(world, "viewer")["members"]]
    lons, lats = zip(*(p["geometry"]["coordinates"] for p in mine), strict=True)
    assert hull["geometry"] == hull_geojson(lats, lons)
    stored = next(f for f in member if f["id"] == f"group-{world.group_number}")
    assert stored["geometry"] != hull["geometry"]


def test_viewer_sees_pc4_postcode_and_kvk_only_with_consent(world: Privacy) -> None:
    """Viewers get PC4 postcodes and a KvK number only when the firm consents; members all."""
    url = f"/api/v1/runs/{world.run_id}/groups.csv"
    text = world.client.get(url, headers=auth(world.keys["viewer"])).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(re.fullmatch(r"\d{4}", row["postcode"]) for row in rows)
    full = world.client.get(url, headers=auth(world.keys["member"])).text
    assert "9711 AB" in full
    pack_url = f"/api/v1/runs/{world.run_id}/groups/{world.group_number}/application"
    pack = world.client.get(pack_url, headers=auth(world.keys["viewer"])).json()
    kvk = {m["external_id"]: m["kvk_number"] for m in pack["members"]}
    assert kvk["g01"] is None
    if "g02" in kvk:
        assert kvk["g02"] == SHARED_KVK
    member_pack = world.client.get(pack_url, headers=auth(world.keys["member"])).json()
    assert {m["external_id"]: m["kvk_number"] for m in member_pack["members"]}["g01"] == SECRET_KVK


def test_firm_records_are_not_readable_by_viewers(world: Privacy) -> None:
    """Full firm records (coordinates, KvK) are member-only: viewers get 403."""
    for url in ("/api/v1/firms", "/api/v1/firms/g01"):
        r = world.client.get(url, headers=auth(world.keys["viewer"]))
        assert r.status_code == 403, url
        assert world.client.get(url, headers=auth(world.keys["member"])).status_code == 200


def test_newer_routes_log_no_keys_or_firm_names(
    world: Privacy, capsys: pytest.CaptureFixture[str]
) -> None:
    """Profiles, review, compare and exports log ids only: no API key, no firm name."""
    capsys.readouterr()
    manager = auth(world.keys["manager"])
    c, run = world.client, world.run_id
    body = {"name": "Scholing noord", "constraints": {"min_size": 3, "max_size": 5}}
    profile = c.post("/api/v1/profiles", json=body, headers=manager)
    assert profile.status_code == 201, profile.text
    pid = profile.json()["id"]
    assert c.put(f"/api/v1/profiles/{pid}", json=body, headers=manager).is_success
    review = f"/api/v1/runs/{run}/groups/{world.group_number}"
    assert c.post(f"{review}/accept", json={"comment": "ok"}, headers=manager).is_success
    for url in (f"/api/v1/runs/{run}/groups.xlsx", f"{review}/application.csv",
                f"/api/v1/runs/{run}/compare/{run}", "/api/v1/audit"):  # fmt: skip
        assert c.get(url, headers=manager).is_success, url
    assert c.post(f"{review}/reject", json={"comment": "nee"}, headers=manager).is_success
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "/profiles" in text or "profile" in text
    names = [line.split(",")[1] for line in (DATA / "smes_small.csv").read_text().splitlines()[1:]]
    for secret in [*world.keys.values(), *names, SECRET_KVK]:
        assert secret not in text


def test_gdpr_erasure_reaches_exports_compare_and_audit(world: Privacy) -> None:
    """An erased firm's id, name and KvK appear in no export, pack, comparison or audit entry."""
    c, run, h = world.client, world.run_id, auth(world.keys["admin"])
    victim = next(m for m in _group(world, "member")["members"] if m["external_id"] != "g01")
    vid, name = victim["external_id"], victim["name"]
    other = c.post("/api/v1/runs", json={**RUN, "seed": 2}, headers=auth(world.keys["member"]))
    other_id = other.json()["id"]
    assert c.delete(f"/api/v1/firms/{vid}", headers=h).status_code == 204
    base = f"/api/v1/runs/{run}"
    urls = [f"{base}/groups", f"{base}/groups.geojson?unassigned=true", f"{base}/groups.csv",
            f"{base}/groups.xlsx", f"{base}/groups/{world.group_number}/application",
            f"{base}/groups/{world.group_number}/application.csv", f"{base}/compare/{other_id}",
            f"/api/v1/runs/{other_id}", "/api/v1/audit?limit=1000", "/api/v1/runs"]  # fmt: skip
    for url in urls:
        r = c.get(url, headers=h)
        assert r.status_code == 200, (url, r.text)
        text = _text(r)
        assert name not in text, url
        assert not re.search(rf"\b{re.escape(vid)}\b", text), url
    erased = [m for m in _group(world, "member")["members"] if m["erased"]]
    assert erased and all(m["external_id"] is None for m in erased)
    assert json.dumps(erased).count("null") >= 1
