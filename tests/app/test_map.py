"""The map page, its assets and the boundary layers, through the real app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection

from app.routers.map import STATIC_DIR, VENDOR_DIR
from tests.app.conftest import auth


def test_map_page_is_served_without_a_key(client: TestClient) -> None:
    """GET /map answers the HTML page, which loads only local assets (no CDN, no tiles)."""
    response = client.get("/map")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<div id="map"' in html or 'id="map"' in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page references its scripts and styles"
    assert all(not s.startswith(("http:", "https:", "//")) for s in sources), sources


@pytest.mark.parametrize(("name", "media"), [("map.js", "javascript"), ("map.css", "text/css")])
def test_map_assets_are_served(client: TestClient, name: str, media: str) -> None:
    """The page's own script and style sheet are served under /map/assets."""
    response = client.get(f"/map/assets/{name}")
    assert response.status_code == 200
    assert media in response.headers["content-type"]
    assert response.content == (STATIC_DIR / name).read_bytes()


def test_leaflet_is_served_from_the_package(client: TestClient) -> None:
    """Leaflet's script and CSS ship inside the package (app/static/vendor), not node_modules."""
    script = client.get("/map/vendor/leaflet/leaflet.js")
    assert script.status_code == 200
    assert b"Leaflet 1.9.4" in script.content[:400]
    assert script.content == (VENDOR_DIR / "leaflet" / "leaflet.js").read_bytes()
    assert client.get("/map/vendor/leaflet/leaflet.css").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/map/assets/..%2F..%2Fmain.py",
        "/map/assets/index.htm",
        "/map/vendor/leaflet/..%2F..%2F..%2Fpyproject.toml",
        "/map/vendor/leaflet/missing.js",
    ],
)
def test_files_outside_the_asset_folders_are_not_found(client: TestClient, path: str) -> None:
    """Traversal and unknown names answer a problem+json 404, never a file elsewhere."""
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("layer", "count"), [("province", 12), ("gemeente", 342), ("labour_market_region", 35)]
)
def test_boundaries_are_rfc7946_geojson(client: TestClient, layer: str, count: int) -> None:
    """Each layer is a valid FeatureCollection served as application/geo+json with CBS ids."""
    response = client.get(f"/api/v1/boundaries/{layer}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    collection = FeatureCollection.model_validate(response.json())
    assert len(collection.features) == count
    ids = [f.id for f in collection.features]
    assert len(set(ids)) == count
    assert all(isinstance(i, str) and i == f.properties["code"]
               for i, f in zip(ids, collection.features, strict=True))  # fmt: skip


def test_boundaries_need_no_key_but_accept_one(client: TestClient, keys: dict[str, str]) -> None:
    """Boundaries are public CBS data: the same answer with and without an API key."""
    anonymous = client.get("/api/v1/boundaries/province")
    with_key = client.get("/api/v1/boundaries/province", headers=auth(keys["viewer"]))
    assert anonymous.status_code == with_key.status_code == 200
    assert anonymous.content == with_key.content


def test_unknown_boundary_layer_is_a_problem_404(client: TestClient) -> None:
    """An unknown layer answers RFC 9457 problem+json 404 naming the layer."""
    response = client.get("/api/v1/boundaries/wijk")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["instance"] == "/api/v1/boundaries/wijk"
    assert "wijk" in body["detail"]
