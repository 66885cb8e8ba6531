"""Every GeoJSON document kring serves follows RFC 7946 (checked with geojson-pydantic).

A generated northern cohort is imported through the API and solved by a real (short,
seeded, inline) run; its ``groups.geojson`` and the boundary layers are then validated
feature by feature: structure, ``[lon, lat]`` order in WGS84, at most 6 decimals,
counter-clockwise outer rings and clockwise holes, stable unique ids, hulls covering their
members, and firm positions no finer than the PC4 centroid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from geojson_pydantic import Feature, FeatureCollection
from shapely.geometry import LinearRing, Point, shape

from app.config import Settings
from app.db import dispose_engine
from app.migrate import upgrade
from app.models import Role
from geodata.geocode import geocode
from matching.sme.firms import firms_to_csv, pairs_to_csv
from matching.sme.generate import generate_cohort
from tests.app.conftest import auth, client_for, issue_key, make_settings

pytestmark = pytest.mark.slow  # one real run (~20-40 s on a shared 2-core machine)

NL_LON = (3.2, 7.3)
NL_LAT = (50.7, 53.6)


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A succeeded run over 100 generated firms: its groups JSON and raw GeoJSON answers."""
    settings: Settings = make_settings(tmp_path_factory.mktemp("rfc7946") / "kring.db")
    upgrade(settings)
    key = issue_key(settings, "north", Role.member)
    cohort = generate_cohort(100, ("Groningen",), seed=7)
    with client_for(settings) as client:
        files = {"file": ("smes.csv", firms_to_csv(cohort.firms))}
        assert client.post("/api/v1/firms/import", files=files, headers=auth(key)).is_success
        files = {"file": ("competitors.csv", pairs_to_csv(cohort.competitors))}
        assert client.post("/api/v1/competitors", files=files, headers=auth(key)).is_success
        body = {"purpose": "training", "time_limit_s": 3, "seed": 0}
        run = client.post("/api/v1/runs", json=body, headers=auth(key)).json()
        assert client.get(f"/api/v1/runs/{run['id']}", headers=auth(key)).json()["status"] == (
            "succeeded"
        )
        path = f"/api/v1/runs/{run['id']}"
        yield {
            "groups": client.get(path + "/groups", headers=auth(key)).json(),
            "geojson": [
                client.get(path + "/groups.geojson?unassigned=true", headers=auth(key))
                for _ in "ab"
            ],
            "plain": client.get(path + "/groups.geojson", headers=auth(key)),
            "boundaries": {
                layer: client.get(f"/api/v1/boundaries/{layer}")
                for layer in ("province", "gemeente", "labour_market_region")
            },
            "firms": {f.external_id: f for f in cohort.firms},
        }
    dispose_engine(settings.database_url)


def _documents(solved: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("groups.geojson", solved["geojson"][0]), *solved["boundaries"].items()]


def _positions(geometry: dict[str, Any]) -> Iterator[list[Any]]:
    coordinates = geometry["coordinates"]
    depth = {"Point": 0, "LineString": 1, "Polygon": 2, "MultiPolygon": 3}[geometry["type"]]
    stack = [(coordinates, depth)]
    while stack:
        item, level = stack.pop()
        if level == 0:
            yield item
        else:
            stack.extend((child, level - 1) for child in item)


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    assert geometry["type"] == "MultiPolygon"
    return list(geometry["coordinates"])


def test_documents_are_feature_collections_served_as_geo_json(solved: dict[str, Any]) -> None:
    """Run GeoJSON and boundary layers validate as RFC 7946 and use application/geo+json."""
    assert solved["groups"]["groups"], "the run formed at least one group"
    for name, response in _documents(solved):
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "application/geo+json", name
        collection = FeatureCollection.model_validate(response.json())
        assert collection.features, name
        for feature in response.json()["features"]:
            Feature.model_validate(feature)
            assert feature["geometry"] is not None, name


def test_positions_are_lon_lat_in_the_netherlands_with_at_most_6_decimals(
    solved: dict[str, Any],
) -> None:
    """Every position is [lon, lat] (WGS84, no altitude) inside the Netherlands, ≤ 6 decimals."""
    for name, response in _documents(solved):
        exact = json.loads(response.text, parse_float=Decimal)
        for feature in exact["features"]:
            for position in _positions(feature["geometry"]):
                assert len(position) == 2, name
                lon, lat = position
                assert NL_LON[0] <= lon <= NL_LON[1] and NL_LAT[0] <= lat <= NL_LAT[1], position
                for value in position:
                    exponent = Decimal(value).as_tuple().exponent
                    assert isinstance(exponent, int) and exponent >= -6, (name, position)


def test_outer_rings_are_counter_clockwise_and_holes_clockwise(solved: dict[str, Any]) -> None:
    """Polygon orientation follows RFC 7946 §3.1.6 (right-hand rule) in every document."""
    checked = 0
    for name, response in _documents(solved):
        for feature in response.json()["features"]:
            if feature["geometry"]["type"] == "Point":
                continue
            for rings in _polygons(feature["geometry"]):
                assert rings[0][0] == rings[0][-1], (name, feature["id"])
                assert LinearRing(rings[0]).is_ccw, (name, feature["id"], "outer ring")
                assert all(not LinearRing(hole).is_ccw for hole in rings[1:]), (name, feature["id"])
                checked += 1
    assert checked >= len(solved["groups"]["groups"]) + 12 + 342


def test_feature_ids_are_unique_and_stable(solved: dict[str, Any]) -> None:
    """Feature ids are unique strings and identical when the same run is fetched twice."""
    first, second = (r.json()["features"] for r in solved["geojson"])
    ids = [f["id"] for f in first]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == [f["id"] for f in second]
    assert first == second


def test_group_hulls_and_points_match_the_groups(solved: dict[str, Any]) -> None:
    """One hull per group covering its members, one point per member, same group numbers."""
    groups = {g["number"]: g for g in solved["groups"]["groups"]}
    features = solved["geojson"][0].json()["features"]
    hulls = {f["properties"]["group_number"]: f for f in features
             if f["geometry"]["type"] != "Point"}  # fmt: skip
    points = [f for f in features if f["properties"].get("group_number") is not None and
              f["geometry"]["type"] == "Point"]  # fmt: skip
    assert set(hulls) == set(groups)
    assert len(points) == sum(len(g["members"]) for g in groups.values())
    for group_id, hull in hulls.items():
        assert hull["properties"]["kind"] == "group"
        assert hull["properties"]["size"] == len(groups[group_id]["members"])
        assert hull["properties"]["theme"] == groups[group_id]["theme"]
        assert hull["properties"]["status"] == groups[group_id]["status"]
    for point in points:
        group = groups[point["properties"]["group_number"]]
        assert point["properties"]["external_id"] in {m["external_id"] for m in group["members"]}
        area = shape(hulls[group["number"]]["geometry"]).buffer(1e-9)
        assert area.covers(Point(point["geometry"]["coordinates"]))


def test_firm_points_are_pc4_centroids(solved: dict[str, Any]) -> None:
    """A firm's point is the centroid of its 4-digit postcode, never more precise."""
    firms = solved["firms"]
    points = [
        f for f in solved["geojson"][0].json()["features"] if f["geometry"]["type"] == "Point"
    ]
    assert points
    for point in points:
        firm = firms[point["properties"]["external_id"]]
        centroid = geocode(firm.postcode[:4])
        lon, lat = point["geometry"]["coordinates"]
        assert (lon, lat) == pytest.approx((centroid.lon, centroid.lat), abs=5e-7)


def test_unassigned_firms_are_points_with_their_reason_only_on_request(
    solved: dict[str, Any],
) -> None:
    """``?unassigned=true`` adds one Point per unassigned firm, group_number null, with reason."""
    reasons = {u["external_id"]: u["reason"] for u in solved["groups"]["unassigned"]}
    assert reasons, "the run left some firms out"
    features = solved["geojson"][0].json()["features"]
    loose = [f for f in features if f["properties"].get("group_number") is None]
    assert {f["properties"]["external_id"]: f["properties"]["reason"] for f in loose} == reasons
    assert all(f["geometry"]["type"] == "Point" for f in loose)
    assert all(f["properties"]["kind"] == "firm" for f in loose)
    plain = solved["plain"].json()["features"]
    assert plain == [f for f in features if f["properties"].get("group_number") is not None]
