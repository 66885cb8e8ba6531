"""The cached groups JSON / GeoJSON of a succeeded run stays correct: decisions, firm edits
and erasures show at once, viewers and members get their own bodies, scoping still holds."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from app.services import rendered
from tests.app.conftest import DATA, auth, client_for, issue_key, make_settings

RUN = {"constraints": {"min_size": 3, "max_size": 5}, "time_limit_s": 1, "seed": 1}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A fresh database, the real app, keys of "north" for every role and one of "south"."""
    settings = make_settings(tmp_path / "kring.db")
    upgrade(settings)
    keys = {role.value: issue_key(settings, "north", role) for role in Role}
    keys["other"] = issue_key(settings, "south", Role.member)
    with client_for(settings) as client:
        yield client, keys
    dispose_engine(settings.database_url)


def _run(client: TestClient, key: str) -> int:
    with (DATA / "smes_small.csv").open("rb") as fh:
        files = {"file": ("s.csv", fh)}
        assert client.post("/api/v1/firms/import", files=files, headers=auth(key)).is_success
    r = client.post("/api/v1/runs", json=RUN, headers=auth(key))
    assert r.json()["status"] == "succeeded"
    return int(r.json()["id"])


def _reads(client: TestClient, key: str, run_id: int) -> tuple[dict, dict]:  # type: ignore[type-arg]
    h = auth(key)
    groups = client.get(f"/api/v1/runs/{run_id}/groups", headers=h)
    geo = client.get(f"/api/v1/runs/{run_id}/groups.geojson", headers=h)
    assert groups.status_code == geo.status_code == 200
    return groups.json(), geo.json()


def test_decisions_and_firm_edits_show_after_cached_reads(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    """Accept, reject, a renamed firm and an erased firm appear in the next read at once."""
    client, keys = world
    run_id = _run(client, keys["member"])
    groups, _ = _reads(client, keys["viewer"], run_id)
    group = groups["groups"][0]
    assert _reads(client, keys["viewer"], run_id)[0] == groups  # served from the cache
    base = f"/api/v1/runs/{run_id}/groups/{group['number']}"
    for decision, status in (("accept", "accepted"), ("reject", "rejected")):
        assert client.post(f"{base}/{decision}", headers=auth(keys["manager"])).is_success
        groups, geo = _reads(client, keys["viewer"], run_id)
        assert groups["groups"][0]["status"] == status
        hull = next(f for f in geo["features"] if f["id"] == f"group-{group['number']}")
        assert hull["properties"]["status"] == status
    firm = group["members"][0]["external_id"]
    patch = {"name": "Nieuwe Naam BV"}
    assert client.patch(
        f"/api/v1/firms/{firm}", json=patch, headers=auth(keys["member"])
    ).is_success
    groups, geo = _reads(client, keys["viewer"], run_id)
    assert groups["groups"][0]["members"][0]["name"] == "Nieuwe Naam BV"
    assert any(f["properties"].get("name") == "Nieuwe Naam BV" for f in geo["features"])
    assert client.delete(f"/api/v1/firms/{firm}", headers=auth(keys["member"])).status_code == 204
    groups, geo = _reads(client, keys["viewer"], run_id)
    assert groups["groups"][0]["members"][0]["erased"] is True
    assert "Nieuwe Naam BV" not in str(groups) + str(geo)


def test_cached_bodies_are_per_view_and_scoped(world: tuple[TestClient, dict[str, str]]) -> None:
    """Members and viewers get their own cached bodies; another organisation still gets 404."""
    client, keys = world
    run_id = _run(client, keys["member"])
    member, _ = _reads(client, keys["member"], run_id)
    viewer, _ = _reads(client, keys["viewer"], run_id)
    postcodes = [m["postcode"] for g in member["groups"] for m in g["members"]]
    assert any(" " in p for p in postcodes)  # PC6 for members
    assert all(len(m["postcode"]) == 4 for g in viewer["groups"] for m in g["members"])
    assert _reads(client, keys["member"], run_id)[0] == member
    for suffix in ("groups", "groups.geojson"):
        r = client.get(f"/api/v1/runs/{run_id}/{suffix}", headers=auth(keys["other"]))
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


READS = ("groups", "groups.geojson")


def _raw(client: TestClient, url: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:  # type: ignore[type-arg]
    """Status, headers and the undecoded body bytes as they went over the wire."""
    with client.stream("GET", url, headers=headers) as r:
        return r.status_code, dict(r.headers), b"".join(r.iter_raw())


def test_gzip_bodies_decompress_to_the_plain_body(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    """Accept-Encoding: gzip gets the cached body gzip-encoded; it inflates to the plain body."""
    client, keys = world
    run_id = _run(client, keys["member"])
    for suffix in READS:
        url = f"/api/v1/runs/{run_id}/{suffix}"
        for key in (keys["member"], keys["viewer"]):
            plain_h = {**auth(key), "Accept-Encoding": "identity"}
            status, headers, plain = _raw(client, url, plain_h)
            assert status == 200 and "content-encoding" not in headers
            status, zipped_h, zipped = _raw(client, url, {**auth(key), "Accept-Encoding": "gzip"})
            assert status == 200 and zipped_h["content-encoding"] == "gzip"
            assert gzip.decompress(zipped) == plain and len(zipped) < len(plain)
            assert zipped_h["content-type"] == headers["content-type"]
            assert "Accept-Encoding" in zipped_h["vary"] and "Accept-Encoding" in headers["vary"]
            off = {**auth(key), "Accept-Encoding": "gzip;q=0, identity"}
            assert "content-encoding" not in _raw(client, url, off)[1]


def test_matching_etag_answers_304(world: tuple[TestClient, dict[str, str]]) -> None:
    """If-None-Match with the ETag (either encoding, weak or strong form) gives 304 and no body."""
    client, keys = world
    run_id = _run(client, keys["member"])
    h = auth(keys["viewer"])
    for suffix in READS:
        url = f"/api/v1/runs/{run_id}/{suffix}"
        plain = client.get(url, headers={**h, "Accept-Encoding": "identity"})
        zipped = client.get(url, headers={**h, "Accept-Encoding": "gzip"})
        tags = (plain.headers["etag"], zipped.headers["etag"])
        assert tags[0].startswith('"') and tags[0] != tags[1]  # strong, one per encoding
        for tag in (*tags, f"W/{tags[0]}", f'"other", {tags[1]}'):
            r = client.get(url, headers={**h, "If-None-Match": tag})
            assert r.status_code == 304 and r.content == b""
            assert r.headers["etag"] == tags[1]  # TestClient accepts gzip by default
        assert client.get(url, headers={**h, "If-None-Match": '"other"'}).status_code == 200
        other = client.get(url, headers={**auth(keys["other"]), "If-None-Match": tags[0]})
        assert other.status_code == 404  # scoping comes before the tag check


def test_etag_changes_after_accept_and_reject(world: tuple[TestClient, dict[str, str]]) -> None:
    """Accepting or rejecting a group gives the cached bodies a new ETag, so 304 stops."""
    client, keys = world
    run_id = _run(client, keys["member"])
    h = auth(keys["viewer"])
    urls = [f"/api/v1/runs/{run_id}/{suffix}" for suffix in READS]
    seen = [{client.get(url, headers=h).headers["etag"]} for url in urls]
    number = client.get(urls[0], headers=h).json()["groups"][0]["number"]
    for decision in ("accept", "reject"):
        path = f"/api/v1/runs/{run_id}/groups/{number}/{decision}"
        assert client.post(path, headers=auth(keys["manager"])).is_success
        for url, tags in zip(urls, seen, strict=True):
            r = client.get(url, headers={**h, "If-None-Match": ", ".join(tags)})
            assert r.status_code == 200 and r.headers["etag"] not in tags
            tags.add(r.headers["etag"])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("deflate;q=1.0, GZIP;q=0.5", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000, *", False),
        ("*;q=0", False),
        ("br, *;q=0.1", True),
        ("gzip;q=bogus", False),
    ],
)
def test_accept_encoding_parsing(header: str, expected: bool) -> None:
    """gzip is used when listed (or covered by *) with a non-zero quality, never when q=0."""
    assert rendered.accepts_gzip(header) is expected


def test_concurrent_misses_render_once(
    world: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a change, 8 concurrent readers of the same view share one rendering."""
    client, keys = world
    run_id = _run(client, keys["member"])
    calls: list[int] = []
    real = rendered.results.run_groups

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)  # a pass-through spy: the real rendering still happens
        time.sleep(0.2)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rendered.results, "run_groups", counted)
    url = f"/api/v1/runs/{run_id}/groups"
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: client.get(url, headers=auth(keys["viewer"])), range(8)))
    assert all(r.status_code == 200 for r in bodies)
    assert len({r.content for r in bodies}) == 1
    assert len(calls) == 1


def test_importing_other_firms_keeps_the_cached_body_but_editing_a_left_out_firm_shows(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    """The token covers the run's own firms: new firms keep the ETag, a left-out firm's edit
    (shown in the unassigned list) changes it."""
    client, keys = world
    run_id = _run(client, keys["member"])
    url = f"/api/v1/runs/{run_id}/groups.geojson?unassigned=true"
    first = client.get(url, headers=auth(keys["member"]))
    csv = "external_id,name,postcode,sbi_code,employees,digital_level,needs\n"
    csv += "late-1,Late BV,9711,4120,12,2,train.vocational\n"
    files = {"file": ("late.csv", csv.encode(), "text/csv")}
    assert client.post("/api/v1/firms/import", files=files, headers=auth(keys["member"])).is_success
    again = client.get(url, headers=auth(keys["member"]))
    assert again.headers["etag"] == first.headers["etag"]
    left_out = [f["properties"] for f in first.json()["features"] if f["properties"].get("reason")]
    assert left_out, "the small cohort leaves firms out (else the test proves nothing)"
    firm = left_out[0]["external_id"]
    patch = {"name": "Andere Naam BV"}
    assert client.patch(
        f"/api/v1/firms/{firm}", json=patch, headers=auth(keys["member"])
    ).is_success
    edited = client.get(url, headers=auth(keys["member"]))
    assert edited.headers["etag"] != first.headers["etag"]
    assert any(f["properties"].get("name") == "Andere Naam BV" for f in edited.json()["features"])


def test_warm_renders_both_views_of_a_succeeded_run_before_anyone_reads(
    tmp_path: Path,
) -> None:
    """The executor's warm() fills the cache for members and viewers in both languages."""
    settings = make_settings(tmp_path / "warm.db")
    upgrade(settings)
    key = issue_key(settings, "north", Role.member)
    viewer = issue_key(settings, "north", Role.viewer)
    with client_for(settings) as client:
        run_id = _run(client, key)
        rendered._cache.clear()
        from app.db import open_session

        with open_session(settings) as db:
            assert rendered.warm(db=db, run_id=run_id) is True
        keys = set(rendered._cache)
        for lang in ("nl", "en"):
            assert {("groups", run_id, lang, False), ("groups", run_id, lang, True)} <= keys
            geojson = {
                ("geojson", run_id, unassigned, lang, private)
                for unassigned in (False, True)  # the werkbank asks for the unassigned too
                for private in (False, True)
            }
            assert geojson <= keys
        before = {k: v[1] for k, v in rendered._cache.items()}
        _reads(client, key, run_id)
        _reads(client, viewer, run_id)
        assert all(rendered._cache[k][1] is before[k] for k in before)  # served, not re-rendered
        with open_session(settings) as db:
            assert (
                rendered.warm(db=db, run_id=run_id + 1000) is False
            )  # no such run: nothing rendered
    dispose_engine(settings.database_url)
