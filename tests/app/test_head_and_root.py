"""HEAD answers like GET without a body; the service's address sends people to the map."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import auth


def test_head_answers_like_get_without_a_body(client: TestClient, keys: dict[str, str]) -> None:
    """HEAD on a public, a keyed and a static GET route: the GET's status and headers, no body."""
    for path, headers in (
        ("/health", {}),
        ("/api/v1/needs", {}),
        ("/api/v1/runs", auth(keys["viewer"])),
        ("/map", {}),
    ):
        got = client.get(path, headers=headers)
        head = client.head(path, headers=headers)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers["content-length"] == got.headers["content-length"], path
        assert head.headers["x-content-type-options"] == "nosniff", path


def test_head_keeps_errors_and_auth(client: TestClient, keys: dict[str, str]) -> None:
    """HEAD without a key is 401 and on an unknown run 404, like GET; POST routes stay 405."""
    assert client.head("/api/v1/runs").status_code == 401
    assert client.head("/api/v1/runs/999999999", headers=auth(keys["viewer"])).status_code == 404
    assert client.head("/api/v1/runs/999999999", headers=auth(keys["viewer"])).content == b""
    assert client.head("/api/v1/organisations", headers=auth(keys["admin"])).status_code == 405


def test_root_sends_people_to_the_map(client: TestClient) -> None:
    """GET / answers 307 to /map instead of 404."""
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/map"
    assert client.get("/").status_code == 200  # the map page itself
