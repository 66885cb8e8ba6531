"""What a GDPR erasure (`DELETE /firms/{id}`) covers beyond the firm row: group outlines and
centroids, the rendered-result cache, decision comments, audit details, exports, the backup,
and SQLite's secure_delete on every connection."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text
from sqlalchemy.orm import selectinload

from app.config import Settings
from app.db import dispose_engine, get_engine, open_session
from app.migrate import upgrade
from app.models import AuditEntry, Group, Organisation, Role, RunWindow
from app.services.backup import export_organisation
from app.services.privacy import REDACTED
from geodata.shapes import hull_geojson
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings

# g01 "Bouwbedrijf Bakker" (KvK 12345678) moved to an exact point north-east of its group,
# so that the point is a corner of the group's outline
LON, LAT = 6.712345, 53.351234
NAME, KVK = "Bouwbedrijf Bakker", "12345678"
OTHER = "Timmerfabriek Mulder"
RUN = {"constraints": {"min_size": 4, "max_size": 6}, "time_limit_s": 1, "seed": 1}


@dataclass
class Erased:
    """State before and after `DELETE /firms/g01`."""

    settings: Settings
    client: TestClient
    keys: dict[str, str]
    run_id: int
    group_number: int
    other_group_number: int
    cached_before: str
    stored_before: dict[str, Any]


def _geojson(c: TestClient, run_id: int, key: str) -> str:
    r = c.get(f"/api/v1/runs/{run_id}/groups.geojson?unassigned=true", headers=auth(key))
    assert r.status_code == 200, r.text
    return r.text


def _group_row(settings: Settings, run_id: int, number: int) -> Group:
    with open_session(settings) as db:
        query = select(Group).where(Group.run_id == run_id, Group.number == number)
        query = query.options(selectinload(Group.members))
        group = db.scalar(query)
        assert group is not None
        return group


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Erased]:
    """g01 at an exact point, its group accepted with a comment naming it, then erased."""
    settings = make_settings(tmp_path_factory.mktemp("erase") / "kring.db")
    upgrade(settings)
    keys = {role.value: issue_key(settings, "north", role) for role in Role}
    m, mgr = auth(keys["member"]), auth(keys["manager"])
    with client_for(settings) as c:
        with (DATA / "smes_small.csv").open("rb") as fh:
            files = {"file": ("s.csv", fh)}
            assert c.post("/api/v1/firms/import", files=files, headers=m).is_success
        assert c.patch("/api/v1/firms/g01", json={"lat": LAT, "lon": LON}, headers=m).is_success
        run_id = c.post("/api/v1/runs", json=RUN, headers=m).json()["id"]
        groups = c.get(f"/api/v1/runs/{run_id}/groups", headers=m).json()["groups"]
        mine = next(g for g in groups if "g01" in {x["external_id"] for x in g["members"]})
        other = next(g for g in groups if g["number"] != mine["number"])
        review = f"/api/v1/runs/{run_id}/groups"
        comment = f"{NAME} (KvK {KVK}) trekt; BOUWBEDRIJF  bakker belt {OTHER}"
        r = c.post(f"{review}/{mine['number']}/accept", json={"comment": comment}, headers=mgr)
        assert r.is_success, r.text
        r = c.post(f"{review}/{other['number']}/reject", json={"comment": f"zonder {NAME}, "
                                                                        f"met {OTHER}"},
                   headers=mgr)  # fmt: skip
        assert r.is_success, r.text
        stored = _group_row(settings, run_id, mine["number"])
        with open_session(settings) as db:  # a window as the Celery executor stores it
            db.add(RunWindow(run_id=run_id, number=7, plan={"core": ["g01", "g02"]},
                             result={"groups": [["g03", "g01"]]}))  # fmt: skip
            db.commit()
        cached = _geojson(c, run_id, keys["member"])  # fills the rendered-result cache
        c.get(f"/api/v1/runs/{run_id}/groups", headers=m)
        assert c.delete("/api/v1/firms/g01", headers=auth(keys["admin"])).status_code == 204
        yield Erased(settings, c, keys, run_id, mine["number"], other["number"], cached,
                     {"hull": stored.hull, "details": stored.details})  # fmt: skip
    dispose_engine(settings.database_url)


def _corners(hull: dict[str, Any] | None) -> list[list[float]]:
    return [] if hull is None else hull["coordinates"][0]


def test_outline_and_centroid_are_recomputed_without_the_erased_firm(erased: Erased) -> None:
    """The stored hull loses the erased firm's corner and equals the hull of the others."""
    assert [LON, LAT] in _corners(erased.stored_before["hull"])  # the point was a corner
    group = _group_row(erased.settings, erased.run_id, erased.group_number)
    assert [LON, LAT] not in _corners(group.hull)
    kept = [(x.lat, x.lon) for x in group.members if x.firm_id is not None]
    assert len(kept) == len(group.members) - 1 >= 3
    lats, lons = zip(*kept, strict=True)
    assert group.hull == hull_geojson(lats, lons)
    assert group.details is not None
    assert group.details["centroid"] != erased.stored_before["details"]["centroid"]


def test_member_views_and_cache_no_longer_hold_the_exact_point(erased: Erased) -> None:
    """groups.geojson (cached before the erasure), groups, csv and xlsx lack the point."""
    assert str(LON) in erased.cached_before and str(LAT) in erased.cached_before
    c, base, key = erased.client, f"/api/v1/runs/{erased.run_id}", erased.keys["member"]
    bodies = [_geojson(c, erased.run_id, key)]
    for suffix in ("groups", "groups.csv"):
        r = c.get(f"{base}/{suffix}", headers=auth(key))
        assert r.status_code == 200
        bodies.append(r.text)
    bodies.append(_xlsx_text(c.get(f"{base}/groups.xlsx", headers=auth(erased.keys["manager"]))))
    for body in bodies:
        assert str(LON) not in body and str(LAT) not in body


def _xlsx_text(r: Any) -> str:
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    return "\n".join(str(v) for s in book for row in s.iter_rows(values_only=True)
                     for v in row if v is not None)  # fmt: skip


def _assert_redacted(text: str) -> None:
    assert NAME.lower() not in text.lower() and "bouwbedrijf  bakker" not in text.lower()
    assert KVK not in text
    assert REDACTED in text and OTHER in text  # redacted, and nothing else was


def test_comments_and_audit_details_are_redacted(erased: Erased) -> None:
    """decision_comment and audit_entry.details name neither the firm nor its KvK number."""
    with open_session(erased.settings) as db:
        comments = [g.decision_comment or "" for g in db.scalars(select(Group))]
        entries = db.scalars(select(AuditEntry))
        details = [json.dumps(e.details, ensure_ascii=False) for e in entries]
    _assert_redacted("\n".join(comments))
    _assert_redacted("\n".join(details))
    assert f"zonder {REDACTED}, met {OTHER}" in comments


def test_run_windows_lose_the_erased_external_id(erased: Erased) -> None:
    """A run window's plan and result no longer name the erased firm's external id."""
    with open_session(erased.settings) as db:
        window = db.scalar(select(RunWindow).where(RunWindow.run_id == erased.run_id))
        assert window is not None
        assert window.plan == {"core": [REDACTED, "g02"]}
        assert window.result == {"groups": [["g03", REDACTED]]}


def test_audit_route_xlsx_and_backup_are_redacted(erased: Erased) -> None:
    """/audit, groups.xlsx and `kring admin export` (backup) name neither firm nor KvK."""
    c, h = erased.client, auth(erased.keys["manager"])
    r = c.get("/api/v1/audit?limit=1000", headers=h)
    assert r.status_code == 200
    _assert_redacted(json.dumps(r.json(), ensure_ascii=False))
    _assert_redacted(_xlsx_text(c.get(f"/api/v1/runs/{erased.run_id}/groups.xlsx", headers=h)))
    with open_session(erased.settings) as db:
        org = db.scalar(select(Organisation).where(Organisation.name == "north"))
        assert org is not None
        dump = json.dumps(export_organisation(db=db, organisation=org), ensure_ascii=False)
    _assert_redacted(dump)
    assert str(LON) not in dump and str(LAT) not in dump


def test_outline_is_dropped_when_fewer_than_three_members_remain(erased: Erased) -> None:
    """Erasing members until two remain drops the stored outline and the GeoJSON polygon."""
    c, admin = erased.client, auth(erased.keys["admin"])
    group = _group_row(erased.settings, erased.run_id, erased.other_group_number)
    left = [x.external_id for x in group.members if x.firm_id is not None]
    for external_id in left[: len(left) - 2]:
        assert c.delete(f"/api/v1/firms/{external_id}", headers=admin).status_code == 204
    other = _group_row(erased.settings, erased.run_id, erased.other_group_number)
    assert other.hull is None
    features = json.loads(_geojson(c, erased.run_id, erased.keys["member"]))["features"]
    assert f"group-{erased.other_group_number}" not in {f["id"] for f in features}


def test_every_sqlite_connection_sets_secure_delete(tmp_path: Any) -> None:
    """Each new SQLite connection runs `PRAGMA secure_delete=ON` itself, whatever the build."""
    settings = make_settings(tmp_path / "kring.db")
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite only (PostgreSQL: VACUUM, see SECURITY.md)")
    engine = get_engine(settings.database_url)
    engine.dispose()
    statements: list[str] = []

    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(engine, "connect", trace, insert=True)  # before kring's own listener
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
    finally:
        event.remove(engine, "connect", trace)
        dispose_engine(settings.database_url)
    assert "PRAGMA secure_delete=ON" in statements
